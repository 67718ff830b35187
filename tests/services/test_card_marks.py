"""The learner's own marks (cards/services/card_marks.py): suspend, bury, flag, edit, and the
undo of each; bulk counts; another user's private cards are never touched."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, StudyAction
from cards.scheduling import State
from cards.services import card_marks
from cards.services.queue import next_card, queue_counts
from cards.services.settings import get_study_settings, study_day_bounds

from .conftest import answer, local, make_cards

NOW = local(2026, 6, 10, 15, 0)


@pytest.fixture
def cards(deck):
    return make_cards(deck, 3)


def marks(user, card) -> tuple:
    memory = MemoryState.objects.get(user=user, card=card)
    return memory.suspended, memory.buried_until, memory.flag


# -- suspend --------------------------------------------------------------------------------


def test_suspending_a_new_card_creates_a_new_memory_state_that_the_queue_skips(learner, cards):
    assert card_marks.suspend(learner, [cards[0]]) == 1

    memory = MemoryState.objects.get(user=learner, card=cards[0])
    assert memory.state == State.NEW and memory.suspended and memory.reps == 0
    assert queue_counts(learner).new == 2
    assert next_card(learner).card == cards[1]
    action = StudyAction.objects.get()
    assert action.kind == StudyAction.SUSPEND and action.card == cards[0]
    assert action.before == {
        "marks": {str(cards[0].pk): {"suspended": False, "buried_until": None, "flag": 0}}
    }


def test_suspending_again_changes_nothing_and_records_nothing(learner, cards):
    card_marks.suspend(learner, [cards[0]])
    assert card_marks.suspend(learner, [cards[0]]) == 0
    assert StudyAction.objects.count() == 1


def test_undo_of_suspend_puts_the_card_back_in_the_queue(learner, cards):
    card_marks.suspend(learner, [cards[0]])
    card_marks.undo_action(card_marks.last_action(learner))

    assert not MemoryState.objects.get(user=learner, card=cards[0]).suspended
    assert next_card(learner).card == cards[0]
    assert queue_counts(learner).new == 3
    assert not StudyAction.objects.exists()


def test_unsuspend_and_its_undo(learner, cards):
    card_marks.suspend(learner, cards)
    assert card_marks.unsuspend(learner, cards[:2]) == 2
    assert [marks(learner, card)[0] for card in cards] == [False, False, True]
    card_marks.undo_action(card_marks.last_action(learner))
    assert [marks(learner, card)[0] for card in cards] == [True, True, True]


def test_a_studied_card_keeps_its_schedule_when_suspended_and_unsuspended(learner, cards):
    answer(learner, cards[0], 4, NOW)
    memory = MemoryState.objects.get(user=learner, card=cards[0])
    card_marks.suspend(learner, [cards[0]])
    card_marks.undo_action(card_marks.last_action(learner))
    again = MemoryState.objects.get(pk=memory.pk)
    assert (again.state, again.due, again.stability, again.version) == (
        memory.state, memory.due, memory.stability, memory.version,
    )  # fmt: skip


# -- bury -----------------------------------------------------------------------------------


def test_bury_keeps_a_card_out_until_the_study_day_ends(learner, cards):
    now = timezone.now()
    assert card_marks.bury(learner, [cards[0]], now=now) == 1

    _, _, day_end = study_day_bounds(get_study_settings(learner), now)
    assert marks(learner, cards[0])[1] == day_end
    assert next_card(learner).card == cards[1]
    tomorrow = day_end + timedelta(minutes=1)
    assert next_card(learner, now=tomorrow).card == cards[0]


def test_undo_of_bury_unburies(learner, cards):
    card_marks.bury(learner, [cards[0]])
    card_marks.undo_action(card_marks.last_action(learner))
    assert marks(learner, cards[0])[1] is None
    assert next_card(learner).card == cards[0]


# -- flag -----------------------------------------------------------------------------------


def test_flag_sets_a_colour_and_the_same_colour_again_removes_it(learner, cards):
    assert card_marks.flag(learner, [cards[0]], 3) == 1
    assert marks(learner, cards[0])[2] == 3
    assert card_marks.flag(learner, [cards[0]], 5) == 1
    assert marks(learner, cards[0])[2] == 5
    assert card_marks.flag(learner, [cards[0]], 5) == 1  # Anki toggles
    assert marks(learner, cards[0])[2] == 0
    assert card_marks.flag(learner, [cards[0]], 0) == 0  # already none


def test_a_flagged_new_card_is_still_studied_as_new(learner, cards):
    card_marks.flag(learner, [cards[0]], 1)
    assert queue_counts(learner).new == 3
    shown = next_card(learner)
    assert shown.card == cards[0] and shown.memory.flag == 1


@pytest.mark.parametrize("colour", [8, -1, "1", 1.0, None, True])
def test_flag_refuses_a_colour_outside_0_to_7(learner, cards, colour):
    with pytest.raises(ValueError, match="0 to 7"):
        card_marks.flag(learner, [cards[0]], colour)
    assert not MemoryState.objects.exists()


def test_undo_of_a_bulk_flag_restores_each_cards_own_flag(learner, cards):
    card_marks.flag(learner, [cards[0]], 2)
    card_marks.flag(learner, [cards[1]], 4)
    assert card_marks.flag(learner, cards, 7) == 3
    assert [marks(learner, card)[2] for card in cards] == [7, 7, 7]

    card_marks.undo_action(card_marks.last_action(learner))
    assert [marks(learner, card)[2] for card in cards] == [2, 4, 0]


# -- bulk and access ------------------------------------------------------------------------


def test_bulk_takes_ids_or_a_queryset_and_counts_only_changes(learner, deck, cards):
    card_marks.suspend(learner, [cards[0].pk])
    assert card_marks.suspend(learner, Card.objects.filter(deck=deck)) == 2
    assert card_marks.bury(learner, [card.pk for card in cards]) == 3
    assert StudyAction.objects.count() == 3  # one per call, however many cards


def test_bulk_on_many_cards_is_one_action_and_one_undo(learner, deck):
    many = make_cards(deck, 1200)
    assert card_marks.flag(learner, Card.objects.filter(deck=deck), 4) == 1200
    assert MemoryState.objects.filter(user=learner, flag=4).count() == 1200
    assert card_marks.flag(learner, many, 4) == 1200  # all had it: removed
    assert MemoryState.objects.filter(user=learner, flag=0).count() == 1200
    card_marks.undo_action(card_marks.last_action(learner))
    assert MemoryState.objects.filter(user=learner, flag=4).count() == 1200


def test_another_users_private_cards_are_ignored(learner, other, cards):
    private = Deck.objects.create(owner=other, name="Bob's")
    [hidden] = make_cards(private, 1)
    assert card_marks.suspend(learner, [hidden]) == 0
    assert card_marks.flag(learner, [hidden.pk], 1) == 0
    assert card_marks.bury(learner, [hidden, cards[0]]) == 1
    assert not MemoryState.objects.filter(card=hidden).exists()


def test_a_public_cards_marks_are_the_learners_own(learner, other):
    public = Deck.objects.create(owner=other, name="Shared", is_public=True)
    [card] = make_cards(public, 1)
    card_marks.suspend(learner, [card])
    card.refresh_from_db()
    assert not card.suspended  # the author's "suspend for everyone" is untouched
    assert next_card(other).card == card
    assert next_card(learner) is None


# -- edit and undo --------------------------------------------------------------------------


def test_undo_of_an_edit_puts_the_text_back(learner, cards):
    card = cards[0]
    before = {"question": card.question, "answer": card.answer, "tags": card.tags}
    card.question, card.answer, card.tags = "New **q**", "New a", "verb"
    card.save()
    card_marks.record_edit(learner, card, before)

    card_marks.undo_action(card_marks.last_action(learner))
    card.refresh_from_db()
    assert (card.question, card.answer, card.tags) == ("Q0", "A0", "")
    assert card.question_html.strip() == "<p>Q0</p>"


def test_an_edit_changed_again_since_is_not_undone(learner, cards):
    card = cards[0]
    before = {"question": card.question, "answer": card.answer, "tags": card.tags}
    card.answer = "Mine"
    card.save()
    card_marks.record_edit(learner, card, before)
    Card.objects.filter(pk=card.pk).update(answer="Someone else's")

    with pytest.raises(card_marks.UndoError, match="changed again"):
        card_marks.undo_action(card_marks.last_action(learner))
    card.refresh_from_db()
    assert card.answer == "Someone else's"
    assert card_marks.last_action(learner) is None  # dropped from the undo stack


def test_an_action_undone_twice_says_so(learner, cards):
    card_marks.suspend(learner, [cards[0]])
    action = card_marks.last_action(learner)
    card_marks.undo_action(action)
    with pytest.raises(card_marks.UndoError, match="already undone"):
        card_marks.undo_action(action)


def test_last_action_is_per_deck_when_asked(learner, deck, cards):
    second = Deck.objects.create(owner=learner, name="Other")
    [elsewhere] = make_cards(second, 1, start=10)
    card_marks.suspend(learner, [cards[0]])
    card_marks.suspend(learner, [elsewhere])
    assert card_marks.last_action(learner).card == elsewhere
    assert card_marks.last_action(learner, deck).card == cards[0]


@pytest.mark.parametrize("count", [3, 450])
def test_a_bulk_action_makes_the_same_queries_for_few_or_many_cards(
    learner, deck, count, django_assert_num_queries
):
    """With memory states in place (cards studied or marked before). Creating NEW ones is one
    INSERT per batch: per CHUNK on PostgreSQL, per ~55 rows on SQLite (999 parameters)."""
    make_cards(deck, count)
    ids = list(Card.objects.values_list("pk", flat=True))
    card_marks.flag(learner, ids, 2)
    # Expect 8 queries: the visible cards, the count of those flagged 5 (flag toggles when all
    #  have it), SAVEPOINT, their memory states (FOR UPDATE on PostgreSQL), one UPDATE, the
    #  action INSERT, the DELETE of actions beyond the undo limit, RELEASE
    with django_assert_num_queries(8):
        assert card_marks.flag(learner, ids, 5) == count
    action = card_marks.last_action(learner)
    # The undo: SAVEPOINT, DELETE the action, one UPDATE per group of marks before, RELEASE
    with django_assert_num_queries(4):
        card_marks.undo_action(action)
    assert MemoryState.objects.filter(user=learner, flag=2).count() == count


def test_the_undo_stack_keeps_the_newest_30_actions_as_anki_does(learner, cards):
    for i in range(35):
        card_marks.flag(learner, [cards[0]], 1 + i % 7)
    assert StudyAction.objects.filter(user=learner).count() == card_marks.UNDO_LIMIT == 30
    for _ in range(30):
        card_marks.undo_action(card_marks.last_action(learner))
    assert card_marks.last_action(learner) is None
    assert marks(learner, cards[0])[2] == 5  # as the 5th call (i = 4) left it
