"""Notes generate cards: which cards a note's kind makes from its fields, and keeping a note's
cards in step when it is created or edited.

A card is identified within its note by `ord` (0 the front, 1 the reverse; a cloze number
minus one), so editing a note updates the cards whose ord it still generates in place — their
memory states and review history are untouched — deletes those it no longer generates and
adds the new ones. Card.question/answer are each card's own readable Markdown (search, CSV,
stats and "needs an answer" read them); question_html/answer_html are what pages show.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from cards import cloze
from cards import validators as v
from cards.anki import templates as templates_mod
from cards.markdown import render_markdown
from cards.models import NOTE_FIELDS, Card, Deck, Note, NoteKind, NoteType


class NoteError(ValueError):
    """A note's fields cannot make its cards; `field` is the field to change."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class GeneratedCard:
    question: str
    answer: str
    question_html: str
    answer_html: str


@dataclass(frozen=True)
class NoteChange:
    """Cards an edit added, removed (deleted, with their history) and updated in place."""

    added: list[Card]
    removed: list[int]  # the deleted cards' ids
    updated: list[Card]


def clean_fields(kind: str, fields: dict, note_type: NoteType | None = None) -> dict[str, str]:
    """The kind's fields in order, stripped; unknown names, non-text values, NUL characters
    and over-long texts are refused naming the field. Kind "anki" takes its fields from its
    imported `note_type` (they hold Anki's field HTML, not Markdown)."""
    if kind == NoteKind.ANKI:
        if note_type is None:
            raise NoteError("Kind", "an Anki note needs its note type")
        names, label = list(note_type.field_names), f"“{note_type.name}”"
    elif kind in NOTE_FIELDS:
        names, label = NOTE_FIELDS[kind], NoteKind(kind).label
    else:
        raise NoteError("Kind", f"unknown note kind {kind!r}")
    if not isinstance(fields, dict):
        raise NoteError("Fields", "must be a mapping of field names to text")
    for name, value in fields.items():
        if name not in names:
            raise NoteError(str(name), f"is not a field of a {label} note")
        if not isinstance(value, str):
            raise NoteError(name, "must be text")
    cleaned = {name: fields.get(name, "").strip() for name in names}
    for name, value in cleaned.items():
        try:
            v.no_nul(value)
            v.CardTextLengthValidator()(value)
        except ValidationError as exc:
            raise NoteError(name, " ".join(exc.messages)) from None
    return cleaned


def _card(question: str, answer: str) -> GeneratedCard:
    return GeneratedCard(question, answer, render_markdown(question), render_markdown(answer))


def generate(
    kind: str, fields: dict, note_type: NoteType | None = None, *, tags: str = "", deck: str = ""
) -> dict[int, GeneratedCard]:
    """The cards a note of this kind makes from these fields, by ord. Pure: no database.
    Kind "anki" renders its `note_type`'s templates (`tags`, `deck`: for {{Tags}}, {{Deck}})."""
    fields = clean_fields(kind, fields, note_type)
    if kind == NoteKind.ANKI:
        return generate_anki(note_type, fields, tags=tags, deck=deck)
    if kind == NoteKind.CLOZE:
        return _generate_cloze(fields["Text"], fields["Back Extra"])
    front, back = fields["Front"], fields["Back"]
    if not front:
        raise NoteError("Front", "is required")
    cards = {0: _card(front, back)}
    if back and (
        kind == NoteKind.REVERSED or (kind == NoteKind.OPTIONAL_REVERSED and fields["Add Reverse"])
    ):
        cards[1] = _card(back, front)
    return cards


def _generate_cloze(text: str, extra: str) -> dict[int, GeneratedCard]:
    try:
        nodes = cloze.parse(text)
        numbers = cloze.card_numbers(text)
    except cloze.ClozeError as exc:
        raise NoteError("Text", str(exc)) from None
    if not numbers:
        raise NoteError("Text", "needs at least one cloze deletion, such as {{c1::answer}}")
    extra_html = render_markdown(extra)
    cards = {}
    for number in numbers:
        answer = cloze.readable(nodes, number, question=False)
        cards[number - 1] = GeneratedCard(
            question=cloze.readable(nodes, number, question=True),
            answer=f"{answer}\n\n{extra}" if extra else answer,
            question_html=cloze.render(text, number, question=True),
            answer_html=cloze.render(text, number, question=False) + extra_html,
        )
    return cards


def generate_anki(
    note_type: NoteType, fields: dict[str, str], *, tags: str = "", deck: str = "", ords=None
) -> dict[int, GeneratedCard]:
    """The cards of a note of an imported note type: one per template whose front uses a
    non-empty field (a cloze note type: one per cN), as Anki generates them; `ords` renders
    exactly those cards instead (an import keeps the cards the package has)."""
    templates = note_type.templates or []
    if not templates:
        raise NoteError("Note type", f"“{note_type.name}” has no card templates")
    if ords is None:
        if note_type.is_cloze:
            wanted = sorted(n - 1 for n in templates_mod.cloze_numbers(fields))
        else:
            wanted = range(len(templates))
    else:
        wanted = ords
    cards = {}
    for ord_ in wanted:
        template = templates[0] if note_type.is_cloze else templates[min(ord_, len(templates) - 1)]
        context = templates_mod.CardContext(
            fields, ord=ord_, tags=tags, notetype=note_type.name,
            template=template.get("name", ""), deck=deck,
        )  # fmt: skip
        try:
            rendered = templates_mod.render_card(
                template.get("front", ""), template.get("back", ""), context,
                is_cloze=note_type.is_cloze,
            )  # fmt: skip
        except templates_mod.TemplateError as exc:
            raise NoteError("Note type", str(exc)) from None
        if ords is None and rendered.empty:
            continue
        question = templates_mod.plain_text(rendered.question) or f"({context.template})"
        cards[ord_] = GeneratedCard(
            question, templates_mod.plain_text(rendered.answer), rendered.question, rendered.answer
        )
    if not cards:
        raise NoteError("Fields", "every card this note type makes would be empty")
    return cards


def _apply(card: Card, generated: GeneratedCard):
    card.question, card.answer = generated.question, generated.answer
    card.question_html, card.answer_html = generated.question_html, generated.answer_html
    card._from_note = True  # Card.save keeps this HTML and does not write back to the note


def _next_position(deck: Deck) -> int:
    return (deck.cards.aggregate(last=Max("position"))["last"] or 0) + 1


@transaction.atomic
def create_note(deck: Deck, kind: str, fields: dict, tags: str = "", *, position=None) -> Note:
    """A note and its cards, at the end of the deck (or from `position`), siblings together."""
    if kind == NoteKind.ANKI:
        raise NoteError("Kind", "notes of an Anki note type are made by importing a package")
    generated = generate(kind, fields)
    tags = _clean_tags(tags)
    note = Note.objects.create(deck=deck, kind=kind, fields=clean_fields(kind, fields), tags=tags)
    position = _next_position(deck) if position is None else position
    for offset, (ord_, card) in enumerate(sorted(generated.items())):
        _save_new(note, ord_, card, position + offset)
    return note


def _clean_tags(tags: str) -> str:
    tags = " ".join((tags or "").split())
    try:
        v.no_nul(tags)
    except ValidationError:
        raise NoteError("Tags", "must not contain NUL characters") from None
    limit = Card._meta.get_field("tags").max_length
    if len(tags) > limit:
        raise NoteError("Tags", f"must be at most {limit} characters")
    return tags


def _save_new(note: Note, ord_: int, generated: GeneratedCard, position: int) -> Card:
    card = Card(note=note, ord=ord_, deck_id=note.deck_id, tags=note.tags, position=position)
    _apply(card, generated)
    card.save()
    return card


@transaction.atomic
def update_note(note: Note, fields: dict, tags: str | None = None) -> NoteChange:
    """Set a note's fields (and tags): its cards follow, history kept for every ord that stays."""
    note_type = note.note_type if note.kind == NoteKind.ANKI else None
    tags_now = _clean_tags(tags) if tags is not None else note.tags
    deck_name = note.deck.name if note_type is not None else ""
    generated = generate(note.kind, fields, note_type, tags=tags_now, deck=deck_name)
    note.fields = clean_fields(note.kind, fields, note_type)
    update = ["fields", "updated_at"]
    if tags is not None:
        note.tags = _clean_tags(tags)
        update.append("tags")
    note.save(update_fields=update)
    existing = {card.ord: card for card in Card.objects.select_for_update().filter(note=note)}
    kept = sorted(set(existing) - set(generated)) if note_type is not None else []
    if kept:
        # As in Anki, an edit that empties a card of an Anki note type keeps the card (and its
        # history); it renders as its template gives.
        fields_now = clean_fields(note.kind, fields, note_type)
        extra = generate_anki(note_type, fields_now, tags=tags_now, deck=deck_name, ords=kept)
        generated = {**generated, **extra}
    removed = [card.pk for ord_, card in existing.items() if ord_ not in generated]
    if removed:
        Card.objects.filter(pk__in=removed).delete()
    updated, added = [], []
    for ord_, gen in sorted(generated.items()):
        card = existing.get(ord_)
        if card is None:
            continue
        card.note = note
        _apply(card, gen)
        if tags is not None:
            card.tags = note.tags
        card.save(update_fields=["question", "answer", "tags", "question_html", "answer_html"])
        updated.append(card)
    new_ords = sorted(set(generated) - set(existing))
    if new_ords:
        # After the note's last card, so that siblings stay together; the deck's later cards
        # share positions with them (the deck orders by position, then id).
        kept = [c.position for o, c in existing.items() if o in generated]
        position = max(kept) + 1 if kept else _next_position(note.deck)
        for offset, ord_ in enumerate(new_ords):
            added.append(_save_new(note, ord_, generated[ord_], position + offset))
    return NoteChange(added=added, removed=removed, updated=updated)


# Which field a Basic-family card's question and answer come from, by ord.
_SIDES = {0: ("Front", "Back"), 1: ("Back", "Front")}


def edit_card_text(card: Card, question: str | None = None, answer: str | None = None) -> Card:
    """Edit a card's question and/or answer through its note (the card editor, the admin, the
    study page's in-place edit, "Fill missing answers"): for Basic-family notes the texts are
    the note's fields; a cloze card's text is its note's Text, so it is refused."""
    note = card.note
    if note is None:
        note = ensure_note(card)
    if note.kind == NoteKind.CLOZE:
        raise NoteError("Text", "a cloze card is edited through its note's Text field")
    if note.kind == NoteKind.ANKI:
        raise NoteError("Fields", "a card of an Anki note type is edited through its note")
    q_field, a_field = _SIDES.get(card.ord, ("Front", "Back"))
    fields = dict(note.fields)
    if question is not None:
        fields[q_field] = question
    if answer is not None:
        fields[a_field] = answer
    update_note(note, fields)
    card.refresh_from_db()
    return card


def ensure_note(card: Card) -> Note:
    """The card's note; a card made before notes existed (or by a path that bypassed them)
    becomes a Basic note of its own."""
    if card.note_id is not None:
        return card.note
    note = Note.objects.create(
        deck_id=card.deck_id,
        kind=NoteKind.BASIC,
        fields={"Front": card.question, "Back": card.answer},
        tags=card.tags,
    )
    Card.objects.filter(pk=card.pk).update(note=note, ord=0)
    card.note, card.ord = note, 0
    return note


def sync_from_card(card: Card) -> NoteChange:
    """After a card of a reversed-kind note was saved with new text (Card.save): its note's
    fields take the text, and the siblings are regenerated."""
    note = card.note
    q_field, a_field = _SIDES.get(card.ord, _SIDES[0])
    fields = {**note.fields, q_field: card.question, a_field: card.answer}
    return update_note(note, fields)
