"""Notes generate cards (cards/services/notes.py): per kind, and editing a note keeps the
history of every card it still generates."""

from datetime import UTC, datetime

import pytest

from cards.models import Card, Deck, MemoryState, Note, ReviewLog
from cards.services.notes import (
    NoteError,
    create_note,
    edit_card_text,
    ensure_note,
    generate,
    update_note,
)
from tests.services.conftest import answer

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def deck(owner):
    return Deck.objects.create(owner=owner, name="Notes")


def test_basic_makes_one_card_and_needs_a_front():
    cards = generate("basic", {"Front": "*Q*", "Back": "A"})
    assert list(cards) == [0]
    assert cards[0].question == "*Q*" and cards[0].question_html == "<p><em>Q</em></p>\n"
    with pytest.raises(NoteError, match="Front: is required") as caught:
        generate("basic", {"Front": "  ", "Back": "A"})
    assert caught.value.field == "Front"


def test_reversed_makes_two_cards_once_there_is_a_back():
    cards = generate("reversed", {"Front": "perro", "Back": "dog"})
    assert (cards[0].question, cards[0].answer) == ("perro", "dog")
    assert (cards[1].question, cards[1].answer) == ("dog", "perro")
    assert list(generate("reversed", {"Front": "perro", "Back": ""})) == [0]


def test_optional_reversed_makes_the_reverse_only_when_asked():
    fields = {"Front": "perro", "Back": "dog"}
    assert list(generate("optional_reversed", fields)) == [0]
    assert list(generate("optional_reversed", {**fields, "Add Reverse": "y"})) == [0, 1]


def test_cloze_answer_carries_back_extra():
    cards = generate("cloze", {"Text": "{{c1::Paris}} is in France", "Back Extra": "*Since 987*"})
    assert cards[0].question == "[...] is in France"
    assert cards[0].answer == "Paris is in France\n\n*Since 987*"
    assert cards[0].answer_html.endswith("<p><em>Since 987</em></p>\n")


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("nope", {}, "Kind: unknown note kind"),
        ("basic", {"Front": "q", "Extra": "x"}, "Extra: is not a field of a Basic note"),
        ("basic", {"Front": 3}, "Front: must be text"),
        ("basic", {"Front": "a\x00b"}, "Front: must not contain NUL"),
        ("basic", {"Front": "q", "Back": "x" * 20001}, "Back: must be at most 20000"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(kind, fields, message):
    with pytest.raises(NoteError, match=message):
        generate(kind, fields)


def test_create_note_puts_siblings_together_at_the_end_of_the_deck(deck):
    Card.objects.create(deck=deck, question="old", answer="a", position=5)
    note = create_note(deck, "reversed", {"Front": "perro", "Back": "dog"}, tags="es  animals")
    cards = list(note.cards.order_by("ord"))
    assert [(c.ord, c.position, c.question, c.tags) for c in cards] == [
        (0, 6, "perro", "es animals"),
        (1, 7, "dog", "es animals"),
    ]
    assert note.fields == {"Front": "perro", "Back": "dog"}


def test_update_note_keeps_the_history_of_the_cloze_cards_that_stay(deck, owner):
    note = create_note(deck, "cloze", {"Text": "{{c1::a}} {{c2::b}} {{c3::c}}"})
    by_ord = {card.ord: card for card in note.cards.all()}
    for card in by_ord.values():
        answer(owner, card, 3, NOW)
    kept_state = MemoryState.objects.get(card=by_ord[0]).stability

    change = update_note(note, {"Text": "{{c1::A}} {{c3::c}} {{c4::d}}", "Back Extra": "x"})

    assert change.removed == [by_ord[1].pk]
    assert [c.ord for c in change.added] == [3]
    assert sorted(c.pk for c in change.updated) == [by_ord[0].pk, by_ord[2].pk]
    card0 = Card.objects.get(pk=by_ord[0].pk)
    assert card0.question == "[...] c d"
    assert card0.answer == "A c d\n\nx"
    assert '<span class="cloze">A</span>' in card0.answer_html
    assert MemoryState.objects.get(card=card0).stability == kept_state
    assert ReviewLog.objects.filter(card=card0).count() == 1
    assert ReviewLog.objects.filter(card_id=by_ord[2].pk).count() == 1
    assert not Card.objects.filter(pk=by_ord[1].pk).exists()
    assert not ReviewLog.objects.filter(card_id=by_ord[1].pk).exists()
    new = change.added[0]
    assert new.position == max(by_ord[0].position, by_ord[2].position) + 1
    assert not MemoryState.objects.filter(card=new).exists()


def test_update_note_that_cannot_make_cards_changes_nothing(deck):
    note = create_note(deck, "cloze", {"Text": "{{c1::a}}"})
    with pytest.raises(NoteError, match="Text: a cloze deletion opened"):
        update_note(note, {"Text": "{{c1::a"})
    note.refresh_from_db()
    assert note.fields["Text"] == "{{c1::a}}" and note.cards.count() == 1


def test_saving_a_cloze_card_keeps_its_html_from_the_note(deck):
    note = create_note(deck, "cloze", {"Text": "{{c1::secret}} word"})
    card = Card.objects.get(note=note)
    card.suspended = True
    card.save()
    card = Card.objects.get(pk=card.pk)
    card.save()
    assert card.question_html == '<p><span class="cloze">[...]</span> word</p>\n'


def test_a_card_created_without_a_note_gets_a_basic_note(deck):
    card = Card.objects.create(deck=deck, question="Q", answer="A", tags="t")
    assert card.note.kind == "basic" and card.ord == 0
    assert (card.note.fields, card.note.tags, card.note.deck) == (
        {"Front": "Q", "Back": "A"}, "t", deck,
    )  # fmt: skip


def test_editing_a_basic_card_directly_writes_its_note(deck):
    card = Card.objects.create(deck=deck, question="Q", answer="")
    card = Card.objects.get(pk=card.pk)
    card.answer = "new answer"
    card.save(update_fields=["answer"])
    assert Note.objects.get(pk=card.note_id).fields == {"Front": "Q", "Back": "new answer"}


def test_editing_a_reversed_card_updates_its_note_and_sibling(deck, owner):
    note = create_note(deck, "reversed", {"Front": "perro", "Back": "dog"})
    front, back = note.cards.order_by("ord")
    answer(owner, back, 3, NOW)
    back = Card.objects.get(pk=back.pk)
    back.question = "hound"  # the reverse card's question is the note's Back
    back.save()
    note.refresh_from_db()
    assert note.fields == {"Front": "perro", "Back": "hound"}
    assert Card.objects.get(pk=front.pk).answer == "hound"
    assert ReviewLog.objects.filter(card=back).count() == 1


def test_edit_card_text_refuses_cloze_and_adopts_noteless_cards(deck):
    note = create_note(deck, "cloze", {"Text": "{{c1::x}}"})
    with pytest.raises(NoteError, match="Text: a cloze card is edited through its note"):
        edit_card_text(note.cards.get(), answer="y")
    Card.objects.bulk_create([Card(deck=deck, question="bare", answer="")])
    bare = Card.objects.get(question="bare")
    assert bare.note_id is None
    edit_card_text(bare, answer="filled")
    assert bare.note.fields == {"Front": "bare", "Back": "filled"}
    assert ensure_note(bare) == bare.note


def test_deleting_a_notes_last_card_deletes_the_note(deck):
    note = create_note(deck, "reversed", {"Front": "a", "Back": "b"})
    first, second = note.cards.order_by("ord")
    first.delete()
    assert Note.objects.filter(pk=note.pk).exists()
    second.delete()
    assert not Note.objects.filter(pk=note.pk).exists()


def test_moving_a_card_moves_its_siblings_and_note(deck, owner):
    from cards.services.curation import move_cards

    other = Deck.objects.create(owner=owner, name="Other")
    note = create_note(deck, "reversed", {"Front": "a", "Back": "b"})
    first = note.cards.get(ord=0)
    assert move_cards([first.pk], other) == 2
    assert set(note.cards.values_list("deck", flat=True)) == {other.pk}
    note.refresh_from_db()
    assert note.deck == other
