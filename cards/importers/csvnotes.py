"""Notes in the deck CSV: optional columns that let a file carry reversed and cloze notes and
import back to the same notes, cards and ords, while staying one readable row per card.

Columns (docs/authoring.md): `note` (a key shared by the rows of one note's cards), `kind`
(basic, reversed, optional_reversed, cloze), `ord` (the card within its note: 0 the front, 1
the reverse; a cloze number minus one), and the note fields a card's question and answer
cannot give back: `text` and `back extra` (Cloze), `add reverse` (optional reverse). A
Basic-family note's Front and Back are its front card's question and answer. Rows without a
kind are plain cards (a Basic note each), so old files import as before.

A card of an imported Anki note type is written with kind `anki` and its readable text; a CSV
cannot carry the note type, so such a row reads as a plain row: into the deck it came from it
finds its card (by id or question) and leaves the note's fields alone (note_bulk.
update_note_cards), anywhere else it becomes a Basic card of its text.

Writing: the note rows of a file are saved note by note through services/notes.py after the
plain rows, so that a re-import updates a note and regenerates its cards with their history.
"""

from django.db import transaction

from cards.importers.errors import ImportFileError, ParsedCard
from cards.models import Card, Note, NoteKind
from cards.services.notes import NoteError, clean_fields, create_note, generate, update_note

NOTE_COLUMNS = ("note", "kind", "ord", "text", "back extra", "add reverse")
EXPORT_HEADER = ["question", "answer", "id", "tags", *NOTE_COLUMNS]
MAX_KEY = 100


def is_note_row(item: ParsedCard) -> bool:
    return bool(item.kind) and item.kind != NoteKind.BASIC


def read_note_columns(card: ParsedCard, row: list[str], column: dict[str, int]) -> None:
    """Fill the card's note attributes from its row; bad values name the row."""
    if not any(name in column for name in NOTE_COLUMNS):
        return
    value = {name: row[column[name]].strip() if name in column else "" for name in NOTE_COLUMNS}
    line, kind = card.line, value["kind"].lower()
    if kind and kind not in NoteKind.values:
        raise ImportFileError(
            f"unknown kind {value['kind']!r} (one of {', '.join(NoteKind.values)})",
            line=line, kind="row",
        )  # fmt: skip
    if len(value["note"]) > MAX_KEY:
        raise ImportFileError(f"the note key is over {MAX_KEY} characters", line=line, kind="row")
    if value["ord"]:
        if not value["ord"].isdigit() or int(value["ord"]) > 499:
            raise ImportFileError("the ord must be a number from 0 to 499", line=line, kind="row")
        card.ord = int(value["ord"])
    if kind == NoteKind.ANKI:
        return  # a plain row (the module's docstring)
    card.kind, card.note_key = kind, value["note"]
    if kind == NoteKind.CLOZE:
        card.note_fields = {"Text": value["text"], "Back Extra": value["back extra"]}
    elif kind == NoteKind.OPTIONAL_REVERSED:
        card.note_fields = {"Add Reverse": value["add reverse"]}


def note_groups(cards: list[ParsedCard]) -> dict[str, list[tuple[int, ParsedCard]]]:
    """The note rows by note key (a row without a key is a note of its own), each with its
    position in the file; every group is checked to make its cards."""
    groups: dict[str, list[tuple[int, ParsedCard]]] = {}
    for position, item in enumerate(cards, start=1):
        if item.kind == NoteKind.BASIC and item.note_key:
            groups.setdefault(f"basic:{item.note_key}", []).append((position, item))
        elif is_note_row(item):
            groups.setdefault(item.note_key or f"row:{item.line}", []).append((position, item))
    for key, rows in list(groups.items()):
        if key.startswith("basic:"):
            if len(rows) > 1:
                raise ImportFileError(
                    f"note {key[6:]!r} is Basic, which has one card, but rows "
                    f"{rows[0][1].line} and {rows[1][1].line} name it", line=rows[1][1].line,
                    kind="row",
                )  # fmt: skip
            del groups[key]
            continue
        first = rows[0][1]
        for _, item in rows[1:]:
            if item.kind != first.kind:
                raise ImportFileError(
                    f"note {key!r} is {first.kind} on row {first.line} but {item.kind} here",
                    line=item.line, kind="row",
                )  # fmt: skip
        try:
            generate(first.kind, fields_of(rows))
        except NoteError as exc:
            raise ImportFileError(f"note {key!r}: {exc}", line=first.line, kind="row") from None
    return groups


def fields_of(rows: list[tuple[int, ParsedCard]]) -> dict[str, str]:
    """The note's fields from its rows: Cloze from `text`/`back extra`; a Basic-family note's
    Front and Back from its front card (or, failing that, its reverse card turned round)."""
    first = rows[0][1]
    if first.kind == NoteKind.CLOZE:
        return dict(first.note_fields or {})
    by_ord = {item.ord or 0: item for _, item in rows}
    front = by_ord.get(0)
    if front is not None:
        fields = {"Front": front.question, "Back": front.answer}
    else:
        back = by_ord.get(1, first)
        fields = {"Front": back.answer, "Back": back.question}
    if first.kind == NoteKind.OPTIONAL_REVERSED:
        add = (first.note_fields or {}).get("Add Reverse", "")
        fields["Add Reverse"] = add or ("y" if 1 in by_ord else "")
    return fields


def save_note_groups(deck, cards: list[ParsedCard], existing: dict, key, result, created):
    """Create or update each note of the file (one short transaction each), adding the ids of
    the cards made to `created` as it goes (so a later failure can remove them). `existing`
    maps import keys to the deck's cards (load._key)."""
    for rows in note_groups(cards).values():
        first = rows[0][1]
        fields, tags = fields_of(rows), first.tags
        matched = [existing[key(item)] for _, item in rows if key(item) in existing]
        note = next((c.note for c in matched if c.note_id is not None), None)
        with transaction.atomic():
            if note is None:
                note = create_note(deck, first.kind, fields, tags, position=rows[0][0])
                made = list(note.cards.all())
                created.extend(card.pk for card in made)
                result.created += len(made)
            elif note.kind != first.kind:
                raise ImportFileError(
                    f"the card is in a {note.get_kind_display()} note here; the file makes it "
                    f"{NoteKind(first.kind).label}: delete it first to change its kind",
                    line=first.line, kind="row",
                )  # fmt: skip
            elif note.fields != clean_fields(note.kind, fields) or note.tags != tags:
                change = update_note(note, fields, tags)
                created.extend(card.pk for card in change.added)
                result.updated += len(change.updated)
                result.created += len(change.added)
            else:
                result.unchanged += len(rows)
            _place(note, rows)


def _place(note: Note, rows) -> None:
    """The file's position and id for each card of the note it names by ord."""
    by_ord = {item.ord or 0: (position, item) for position, item in rows}
    changed = []
    for card in Card.objects.filter(note=note):
        if card.ord not in by_ord:
            continue
        position, item = by_ord[card.ord]
        if card.position != position or card.external_id != item.external_id:
            card.position, card.external_id = position, item.external_id
            changed.append(card)
    Card.objects.bulk_update(changed, ["position", "external_id"])


def csv_note_row(question, answer, external_id, tags, note_id, kind, ord_, fields, keys) -> list:
    """One export row with the note columns; `keys` numbers the deck's notes n1, n2… in the
    order their first card comes."""
    key = keys.setdefault(note_id, f"n{len(keys) + 1}") if note_id is not None else ""
    fields = fields or {}
    return [
        question, answer, external_id, tags, key, kind or NoteKind.BASIC,
        ord_ if note_id is not None else 0,
        fields.get("Text", ""), fields.get("Back Extra", ""), fields.get("Add Reverse", ""),
    ]  # fmt: skip
