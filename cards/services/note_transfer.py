"""Notes in the "all my data" JSON file.

A deck lists its notes under "notes" ({kind, fields, tags, guid}) and a card names its note by
index in that list ("note": 0) with its "ord". Only notes a card alone cannot describe are
written: a Basic note without an Anki guid is its card's question and answer, so a collection
of Basic notes gives the same file as before notes existed, and such files (and any card
without "note") import as one Basic note per card.

A note of an imported Anki note type (kind "anki") names its note type by index in the file's
top-level "note_types" list ("note_type": 0), written only when there is one; the import makes
the note types the importing user's own (plan_note_types, save_note_types).
"""

from django.core.exceptions import ValidationError

from cards.anki import templates as templates_mod
from cards.models import Card, Note, NoteKind, NoteType
from cards.services.notes import NoteError, clean_fields, generate, generate_anki

NOTE_ROW = {"kind": str, "fields": dict, "tags": str, "guid": str}
CARD_NOTE_FIELDS = {"note": int, "ord": int}
# The largest ord a card can have (a cloze number up to 500, as Anki's).
MAX_ORD = 499
# anki_id too, a 64-bit number (checked by _anki_id: typed_fields takes 32-bit ones).
NOTE_TYPE_ROW = {"name": str, "is_cloze": bool, "field_names": list, "templates": list, "css": str}
BIGINT = 2**63
TEMPLATE_ROW = {"name": str, "front": str, "back": str}
_NOTE_TYPE_VALUES = ("name", "anki_id", "is_cloze", "field_names", "templates", "css")


def note_type_rows(notes: "DeckNotes") -> list[dict]:
    """Export side: the note types the user's notes use, in id order (numbering them for
    `notes`); no query when none is an Anki note."""
    ids = {note.note_type_id for note in notes.notes.values()} - {None}
    rows = []
    for note_type in NoteType.objects.filter(pk__in=ids).order_by("pk") if ids else ():
        notes.note_types[note_type.pk] = len(rows)
        rows.append({name: getattr(note_type, name) for name in _NOTE_TYPE_VALUES})
    return rows


def plan_note_types(user, rows, problems, typed_fields, check_instance) -> list:
    """The file's note types, checked, as unsaved NoteType rows of `user` (None for one with
    problems, each named like note_types[0].templates[1].front)."""
    if rows is None:
        return []
    if not isinstance(rows, list):
        problems.add("note_types", "expected a list")
        return []
    planned = []
    for n, row in enumerate(rows):
        where = f"note_types[{n}]"
        values = typed_fields(row, NOTE_TYPE_ROW, where, problems)
        anki_id = _anki_id(row, where, problems)
        if values is not None and anki_id is not False:
            values["anki_id"] = anki_id
        else:
            values = None
        ok = values is not None and _check_fields(values["field_names"], where, problems)
        ok = ok and _check_templates(values, where, problems, typed_fields)
        note_type = NoteType(owner=user, **values) if ok else None
        if note_type is not None and not check_instance(
            note_type, where, problems, exclude=["owner", "field_names", "templates"]
        ):
            note_type = None
        planned.append(note_type)
    return planned


def _anki_id(row, where: str, problems):
    """The note type's id in Anki (None when it has none), or False, its problem added."""
    value = row.get("anki_id") if isinstance(row, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -BIGINT <= value < BIGINT:
        problems.add(f"{where}.anki_id", f"expected a 64-bit whole number or null, found "
                     f"{str(value)[:40]}")  # fmt: skip
        return False
    return value


def _check_fields(names: list, where: str, problems) -> bool:
    ok = bool(names)
    if not names:
        problems.add(f"{where}.field_names", "a note type needs at least one field")
    for i, name in enumerate(names):
        reason = (
            "expected text" if not isinstance(name, str)
            else "is empty" if not name.strip()
            else "must not contain NUL characters" if "\x00" in name
            else "is longer than 200 characters" if len(name) > 200
            else "another field has this name" if name in names[:i]
            else ""
        )  # fmt: skip
        if reason:
            problems.add(f"{where}.field_names[{i}]", reason)
            ok = False
    return ok


def _check_templates(values: dict, where: str, problems, typed_fields) -> bool:
    """Each template an object of text whose two sides render (once, with every field filled;
    an unknown field renders empty, as in the package import)."""
    templates = values["templates"]
    if not templates:
        problems.add(f"{where}.templates", "a note type needs at least one card template")
        return False
    ok = True
    sample = dict.fromkeys(values["field_names"], "x")
    for t, row in enumerate(templates):
        place = f"{where}.templates[{t}]"
        template = typed_fields(row, TEMPLATE_ROW, place, problems)
        if template is None:
            ok = False
            continue
        for side in ("name", "front", "back"):
            if "\x00" in template[side]:
                problems.add(f"{place}.{side}", "must not contain NUL characters")
                ok = False
        front = template["front"]
        for side, back in (("front", ""), ("back", template["back"])):
            context = templates_mod.CardContext(sample, ord=t, template=template["name"])
            try:
                templates_mod.render_card(front, back, context, is_cloze=values["is_cloze"])
            except templates_mod.TemplateError as exc:
                problems.add(f"{place}.{side}", str(exc))
                ok = False
                break
    return ok


def save_note_types(user, planned: list[NoteType]) -> list[int]:
    """Make the planned note types the importing user's own (note_bulk.own_note_types: one
    they already have with the same content is used as it is); the planned rows take the
    saved ids, so the notes naming them are saved with them. Returns the ids created (to
    remove again if the import fails)."""
    from cards.services.note_bulk import own_note_types

    saved, created = own_note_types(user.pk, planned)
    for plan, row in zip(planned, saved, strict=True):
        plan.pk, plan.anki_id = row.pk, row.anki_id
        plan._state.adding, plan._state.db = False, row._state.db
    return created


class DeckNotes:
    """Export side: the notes of one user's decks that need writing, numbered per deck in the
    order their first card comes."""

    def __init__(self, user):
        notes = Note.objects.filter(deck__owner=user).exclude(kind=NoteKind.BASIC, guid="")
        self.notes = {note.pk: note for note in notes}
        self.note_types: dict[int, int] = {}  # NoteType pk -> its index (note_type_rows)
        self.index: dict[int, int] = {}
        self.rows: list[dict] = []

    def start_deck(self):
        self.index, self.rows = {}, []

    def card_fields(self, card: Card) -> dict:
        note = self.notes.get(card.note_id)
        if note is None:
            return {}
        if note.pk not in self.index:
            self.index[note.pk] = len(self.rows)
            row = {"kind": note.kind, "fields": note.fields, "tags": note.tags, "guid": note.guid}
            if note.kind == NoteKind.ANKI:
                row["note_type"] = self.note_types[note.note_type_id]
            self.rows.append(row)
        return {"note": self.index[note.pk], "ord": card.ord}

    def deck_fields(self) -> dict:
        return {"notes": self.rows} if self.rows else {}


def plan_notes(
    data: dict, where: str, problems, typed_fields, note_types=(), deck_name: str = ""
) -> list[tuple[Note, dict]]:
    """The deck's notes, checked (kind, fields, tags, guid; an Anki note's note type, an index
    into the file's planned `note_types`) and each with its generated cards; unsaved.
    Problems are named like decks[0].notes[2].fields.Text."""
    rows = data.get("notes", []) if isinstance(data, dict) else []
    if not isinstance(rows, list):
        problems.add(f"{where}.notes", "expected a list")
        return []
    planned, guids = [], set()
    for n, row in enumerate(rows):
        place = f"{where}.notes[{n}]"
        fields = typed_fields(row, NOTE_ROW, place, problems)
        note_type = _note_type_of(row, fields, note_types, place, problems, typed_fields)
        if fields is None or note_type is False:
            planned.append((None, {}))
            continue
        try:
            cleaned = clean_fields(fields["kind"], fields["fields"], note_type)
            generated = generate(
                fields["kind"], cleaned, note_type, tags=fields["tags"], deck=deck_name
            )
        except NoteError as exc:
            field = {"Kind": "kind", "Note type": "note_type"}.get(exc.field)
            problems.add(f"{place}.{field or 'fields.' + exc.field}", str(exc).partition(": ")[2])
            planned.append((None, {}))
            continue
        note = Note(kind=fields["kind"], note_type=note_type, fields=cleaned, tags=fields["tags"],
                    guid=fields["guid"])  # fmt: skip
        try:
            note.clean_fields(exclude=["deck", "fields", "note_type"])
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                problems.add(f"{place}.{name}", errors[0].messages[0])
            planned.append((None, {}))
            continue
        if note.guid and note.guid in guids:
            problems.add(f"{place}.guid", "two notes of the deck share this guid")
        guids.add(note.guid)
        planned.append((note, generated))
    return planned


def _note_type_of(row, fields, note_types, place: str, problems, typed_fields):
    """The planned note type an Anki note names (None for the other kinds; False, its problem
    added, when it names none)."""
    if fields is None or fields["kind"] != NoteKind.ANKI:
        return None
    ref = typed_fields(row, {"note_type": int}, place, problems)
    if ref is None:
        return False
    index = ref["note_type"]
    if not 0 <= index < len(note_types):
        problems.add(f"{place}.note_type", f"names no note type of this file "
                     f"(it has {len(note_types)})")  # fmt: skip
        return False
    return note_types[index] or False  # a note type with problems: listed already


def attach_note(card: Card, row: dict, notes, place: str, problems, typed_fields, taken: set):
    """Link a planned card to its planned note (the card's text and HTML then come from the
    note), or leave it noteless (it becomes a Basic note when written)."""
    if not isinstance(row, dict) or "note" not in row:
        return
    fields = typed_fields(row, CARD_NOTE_FIELDS, place, problems)
    if fields is None:
        return
    index, ord_ = fields["note"], fields["ord"]
    if not 0 <= index < len(notes):
        problems.add(f"{place}.note", f"names no note of this deck (it has {len(notes)})")
        return
    note, generated = notes[index]
    if note is None:
        return  # its problem is listed already
    if ord_ not in generated and note.kind == NoteKind.ANKI:
        made = _kept_anki_card(note, ord_, card.deck.name)
        if made is not None:
            generated[ord_] = made
    if ord_ not in generated:
        problems.add(f"{place}.ord", f"the note makes no card {ord_}")
        return
    if (index, ord_) in taken:
        problems.add(f"{place}.ord", f"another card of the deck is card {ord_} of this note")
        return
    taken.add((index, ord_))
    card.note, card.ord = note, ord_
    made = generated[ord_]
    card.question, card.answer = made.question, made.answer
    card.question_html, card.answer_html = made.question_html, made.answer_html


def _kept_anki_card(note: Note, ord_: int, deck_name: str):
    """A card of an Anki note that its template now renders empty: Anki keeps such a card
    (and so does the package import), so a file may hold it. None for an ord no template or
    cloze number can have."""
    note_type = note.note_type
    limit = MAX_ORD if note_type.is_cloze else len(note_type.templates) - 1
    if not 0 <= ord_ <= limit:
        return None
    try:
        made = generate_anki(note_type, note.fields, tags=note.tags, deck=deck_name, ords=[ord_])
    except NoteError:
        return None
    return made[ord_]


def save_planned_notes(deck, cards: list[Card]) -> None:
    """Before a batch of planned cards is written: save the notes they name (once each, in
    the card's deck) and give the others a Basic note each."""
    from cards.services.note_bulk import with_basic_notes

    fresh, seen = [], set()
    for card in cards:
        note = _cached_note(card)
        if note is not None and note.pk is None and id(note) not in seen:
            seen.add(id(note))
            note.deck = deck
            fresh.append(note)
    Note.objects.bulk_create(fresh)
    for card in cards:
        note = _cached_note(card)
        if note is not None:
            card.note = note  # sets note_id now that the note is saved
    with_basic_notes(deck, [card for card in cards if card.note_id is None])


def _cached_note(card: Card):
    return card._state.fields_cache.get("note")
