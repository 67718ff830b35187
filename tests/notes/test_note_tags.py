"""sync_note_tags (services/note_bulk.py): after a bulk action changed some cards' tags, their
notes take them and the notes' other cards follow; the lowest-ord changed card wins."""

import pytest

from cards.models import Card, Deck, Note, NoteKind
from cards.services.note_bulk import sync_note_tags
from cards.services.notes import create_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def deck(owner):
    return Deck.objects.create(owner=owner, name="Tags")


def tags_of(note):
    note.refresh_from_db()
    return note.tags, sorted(note.cards.values_list("ord", "tags"))


def test_a_changed_card_gives_its_tags_to_the_note_and_its_siblings(deck):
    note = create_note(deck, NoteKind.CLOZE, {"Text": "{{c1::a}} {{c2::b}} {{c3::c}}"}, "old")
    other = create_note(deck, NoteKind.REVERSED, {"Front": "x", "Back": "y"}, "keep")
    second = note.cards.get(ord=1)
    Card.objects.filter(pk=second.pk).update(tags="new bulk")  # what a bulk action does
    assert sync_note_tags([second.pk]) == 1
    assert tags_of(note) == ("new bulk", [(0, "new bulk"), (1, "new bulk"), (2, "new bulk")])
    assert tags_of(other) == ("keep", [(0, "keep"), (1, "keep")])


def test_changed_siblings_that_disagree_take_the_lowest_ord(deck):
    note = create_note(deck, NoteKind.REVERSED, {"Front": "x", "Back": "y"}, "old")
    front, back = note.cards.order_by("ord")
    Card.objects.filter(pk=front.pk).update(tags="front")
    Card.objects.filter(pk=back.pk).update(tags="back")
    sync_note_tags([back.pk, front.pk])
    assert tags_of(note) == ("front", [(0, "front"), (1, "front")])


def test_nothing_to_do_writes_nothing(deck, django_assert_max_num_queries):
    note = create_note(deck, NoteKind.BASIC, {"Front": "x", "Back": "y"}, "same")
    bare = Card.objects.create(deck=deck, question="q", answer="a", tags="t")
    Card.objects.filter(pk=bare.pk).update(note=None)
    ids = [*note.cards.values_list("pk", flat=True), bare.pk]
    with django_assert_max_num_queries(3):
        assert sync_note_tags(ids) == 0
    assert sync_note_tags([]) == 0
    assert tags_of(note) == ("same", [(0, "same")])


def test_many_notes_take_a_fixed_number_of_queries(deck, django_assert_max_num_queries):
    notes = [
        create_note(deck, NoteKind.REVERSED, {"Front": f"f{i}", "Back": "b"}) for i in range(8)
    ]
    Card.objects.filter(deck=deck, ord=1).update(tags="bulk")
    ids = list(Card.objects.filter(deck=deck, ord=1).values_list("pk", flat=True))
    with django_assert_max_num_queries(9):
        assert sync_note_tags(ids) == 8
    assert set(Note.objects.filter(deck=deck).values_list("tags", flat=True)) == {"bulk"}
    assert set(Card.objects.filter(note__in=notes).values_list("tags", flat=True)) == {"bulk"}


def test_the_browsers_tag_actions_reach_the_whole_note(deck, owner):
    """Adding, removing and renaming tags in the card browser (card_bulk, services/tags) change
    the note's tags, so a reversed note's other card follows, as in Anki."""
    from cards.services.card_bulk import add_tags, remove_tags
    from cards.services.tags import rename_tag

    note = create_note(deck, NoteKind.REVERSED, {"Front": "x", "Back": "y"}, "start")
    front = note.cards.get(ord=0)
    add_tags(owner, [front.pk], "verbs")
    assert tags_of(note) == ("start verbs", [(0, "start verbs"), (1, "start verbs")])
    rename_tag(owner, "verbs", "grammar::verbs")
    assert tags_of(note) == ("start grammar::verbs", [(0, "start grammar::verbs"),
                                                      (1, "start grammar::verbs")])  # fmt: skip
    remove_tags(owner, [note.cards.get(ord=1).pk], "start")
    assert tags_of(note) == ("grammar::verbs", [(0, "grammar::verbs"), (1, "grammar::verbs")])
