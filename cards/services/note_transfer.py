"""Notes in the "all my data" JSON file.

A deck lists its notes under "notes" ({kind, fields, tags, guid}) and a card names its note by
index in that list ("note": 0) with its "ord". Only notes a card alone cannot describe are
written: a Basic note without an Anki guid is its card's question and answer, so a collection
of Basic notes gives the same file as before notes existed, and such files (and any card
without "note") import as one Basic note per card.
"""

from django.core.exceptions import ValidationError

from cards.models import Card, Note, NoteKind
from cards.services.notes import NoteError, clean_fields, generate

NOTE_ROW = {"kind": str, "fields": dict, "tags": str, "guid": str}
CARD_NOTE_FIELDS = {"note": int, "ord": int}


class DeckNotes:
    """Export side: the notes of one user's decks that need writing, numbered per deck in the
    order their first card comes."""

    def __init__(self, user):
        notes = Note.objects.filter(deck__owner=user).exclude(kind=NoteKind.BASIC, guid="")
        self.notes = {note.pk: note for note in notes}
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
            self.rows.append(
                {"kind": note.kind, "fields": note.fields, "tags": note.tags, "guid": note.guid}
            )
        return {"note": self.index[note.pk], "ord": card.ord}

    def deck_fields(self) -> dict:
        return {"notes": self.rows} if self.rows else {}


def plan_notes(data: dict, where: str, problems, typed_fields) -> list[tuple[Note, dict]]:
    """The deck's notes, checked (kind, fields, tags, guid) and each with its generated cards;
    unsaved. Problems are named like decks[0].notes[2].fields.Text."""
    rows = data.get("notes", []) if isinstance(data, dict) else []
    if not isinstance(rows, list):
        problems.add(f"{where}.notes", "expected a list")
        return []
    planned, guids = [], set()
    for n, row in enumerate(rows):
        place = f"{where}.notes[{n}]"
        fields = typed_fields(row, NOTE_ROW, place, problems)
        if fields is None:
            planned.append((None, {}))
            continue
        try:
            cleaned = clean_fields(fields["kind"], fields["fields"])
            generated = generate(fields["kind"], cleaned)
        except NoteError as exc:
            field = "kind" if exc.field == "Kind" else f"fields.{exc.field}"
            problems.add(f"{place}.{field}", str(exc).partition(": ")[2])
            planned.append((None, {}))
            continue
        note = Note(kind=fields["kind"], fields=cleaned, tags=fields["tags"], guid=fields["guid"])
        try:
            note.clean_fields(exclude=["deck", "fields"])
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
