"""Sibling burying (cards/services/siblings.py, hooked into record_review): answering a card
buries the other cards of its note for the rest of the study day, per kind and setting, as
Anki does; undoing the review unburies them; siblings keep separate memory states."""

from datetime import timedelta

import pytest

from cards.models import Card, MemoryState, Note, NoteKind, ReviewLog
from cards.scheduling import State
from cards.services import siblings
from cards.services.queue import queue_counts
from cards.services.reviews import undo_last_review
from cards.services.settings import get_study_settings, study_day_bounds

from .conftest import answer, local

NOW = local(2026, 6, 10, 15, 0)
# A day-learning card is due at a day start (4 am in New York); intraday at any other time.
DAY_START = local(2026, 6, 10, 4, 0)


def make_note(deck, kind=NoteKind.REVERSED, count=2, position=0) -> list[Card]:
    note = Note.objects.create(deck=deck, kind=kind, fields={"Front": "f", "Back": "b"})
    return [
        Card.objects.create(
            deck=deck, note=note, ord=i, question=f"Q{i}", answer=f"A{i}", position=position + i
        )
        for i in range(count)
    ]


def set_state(user, card, kind: str, due=None):
    """Give `user` a memory state of `card` in one of Anki's queues."""
    state = {
        siblings.REVIEW: State.REVIEW,
        siblings.INTERDAY: State.LEARNING,
        siblings.INTRADAY: State.LEARNING,
    }[kind]
    default_due = {siblings.REVIEW: NOW - timedelta(days=1), siblings.INTERDAY: DAY_START}
    due = due or default_due.get(kind, NOW - timedelta(minutes=5))
    return MemoryState.objects.create(
        user=user, card=card, deck=card.deck, state=state, step=0 if kind != "review" else None,
        stability=5.0, difficulty=5.0, due=due, last_review=NOW - timedelta(days=3), reps=3,
    )  # fmt: skip


def buried(user, card) -> bool:
    memory = MemoryState.objects.filter(user=user, card=card).first()
    return memory is not None and memory.buried_until is not None and memory.buried_until > NOW


@pytest.fixture
def settings(learner):
    return get_study_settings(learner)


def test_answering_a_new_card_buries_its_new_sibling_until_the_day_ends(learner, deck):
    front, back = make_note(deck)

    answer(learner, front, 4, NOW)

    memory = MemoryState.objects.get(user=learner, card=back)
    assert memory.state == State.NEW and memory.reps == 0
    assert memory.buried_until == study_day_bounds(get_study_settings(learner), NOW)[2]
    assert queue_counts(learner, now=NOW).new == 0
    # The next study day the sibling is new again.
    assert queue_counts(learner, now=NOW + timedelta(days=1)).new == 1


def test_a_basic_card_without_siblings_buries_nothing(learner, deck):
    (card,) = make_note(deck, NoteKind.BASIC, count=1)
    other = make_note(deck, position=5)[0]

    answer(learner, card, 4, NOW)

    assert not buried(learner, other)
    assert "buried_siblings" not in ReviewLog.objects.get().before


@pytest.mark.parametrize(
    "sibling_kind, setting",
    [
        (siblings.NEW, "bury_new_siblings"),
        (siblings.REVIEW, "bury_review_siblings"),
        (siblings.INTERDAY, "bury_interday_siblings"),
    ],
)
@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
def test_each_kind_of_sibling_follows_its_setting(
    learner, deck, settings, sibling_kind, setting, on
):
    answered, sibling = make_note(deck)
    set_state(learner, answered, siblings.INTRADAY)  # gathered first: buries every kind
    if sibling_kind != siblings.NEW:
        set_state(learner, sibling, sibling_kind)
    setattr(settings, setting, on)
    settings.save()

    answer(learner, answered, 3, NOW)

    assert buried(learner, sibling) is on


def test_an_intraday_learning_sibling_is_never_buried(learner, deck):
    answered, sibling = make_note(deck)
    set_state(learner, sibling, siblings.INTRADAY)

    answer(learner, answered, 4, NOW)

    assert not buried(learner, sibling)


@pytest.mark.parametrize(
    "answered_kind, expected",
    [
        (siblings.NEW, {siblings.NEW}),
        (siblings.REVIEW, {siblings.NEW, siblings.REVIEW}),
        (siblings.INTERDAY, {siblings.NEW, siblings.REVIEW, siblings.INTERDAY}),
        (siblings.INTRADAY, {siblings.NEW, siblings.REVIEW, siblings.INTERDAY}),
    ],
)
def test_kinds_gathered_before_the_answered_card_are_left_alone(
    learner, deck, answered_kind, expected
):
    cards = make_note(deck, NoteKind.CLOZE, count=4)
    answered, others = cards[0], dict(zip(["new", "review", "interday"], cards[1:], strict=True))
    if answered_kind != siblings.NEW:
        set_state(learner, answered, answered_kind)
    set_state(learner, others["review"], siblings.REVIEW)
    set_state(learner, others["interday"], siblings.INTERDAY)

    answer(learner, answered, 3, NOW)

    assert {kind for kind, card in others.items() if buried(learner, card)} == expected


def test_suspended_and_blank_siblings_are_left_alone(learner, deck):
    answered, suspended, blank = make_note(deck, NoteKind.CLOZE, count=3)
    Card.objects.filter(pk=blank.pk).update(answer="")
    MemoryState.objects.create(
        user=learner, card=suspended, deck=deck, state=State.NEW, due=NOW, suspended=True
    )

    answer(learner, answered, 4, NOW)

    assert not buried(learner, suspended)
    assert not MemoryState.objects.filter(card=blank).exists()


def test_undoing_the_review_unburies_the_siblings(learner, deck):
    front, back = make_note(deck)
    review = make_note(deck, NoteKind.CLOZE, count=3, position=10)
    set_state(learner, review[0], siblings.REVIEW)
    set_state(learner, review[1], siblings.REVIEW)

    answer(learner, front, 4, NOW)
    answer(learner, review[0], 4, NOW + timedelta(minutes=1))
    assert buried(learner, back) and buried(learner, review[1]) and buried(learner, review[2])

    undo_last_review(learner)
    assert not buried(learner, review[1]) and not buried(learner, review[2])
    assert buried(learner, back)  # the older review's burying stays
    undo_last_review(learner)
    assert not buried(learner, back)
    assert queue_counts(learner, now=NOW).new == 3


def test_undo_keeps_a_bury_the_learner_changed_since(learner, deck):
    front, back = make_note(deck)
    answer(learner, front, 4, NOW)
    later = NOW + timedelta(days=3)
    MemoryState.objects.filter(card=back).update(buried_until=later)

    undo_last_review(learner)

    assert MemoryState.objects.get(card=back).buried_until == later


def test_another_learner_is_not_affected(learner, deck, other):
    deck.is_public = True
    deck.save()
    front, back = make_note(deck)

    answer(learner, front, 4, NOW)

    assert not MemoryState.objects.filter(user=other).exists()
    assert queue_counts(other, now=NOW).new == 2


@pytest.mark.parametrize("kind", [NoteKind.REVERSED, NoteKind.CLOZE])
def test_siblings_are_scheduled_independently(learner, deck, settings, kind):
    settings.bury_new_siblings = settings.bury_review_siblings = False
    settings.save()
    first, second = make_note(deck, kind)

    answer(learner, first, 5, NOW)  # Easy: straight to review
    answer(learner, second, 1, NOW + timedelta(minutes=1))  # Again: learning

    a = MemoryState.objects.get(user=learner, card=first)
    b = MemoryState.objects.get(user=learner, card=second)
    assert a.pk != b.pk
    assert (a.state, b.state) == (State.REVIEW, State.LEARNING)
    assert a.due > b.due and a.stability != b.stability
    assert ReviewLog.objects.filter(card=first).count() == 1


def test_queue_kind_tells_day_learning_from_intraday(settings):
    assert siblings.queue_kind(None, None, settings) == siblings.NEW
    assert siblings.queue_kind(State.LEARNING, DAY_START, settings) == siblings.INTERDAY
    later = DAY_START + timedelta(minutes=10)
    assert siblings.queue_kind(State.RELEARNING, later, settings) == siblings.INTRADAY
    assert siblings.queue_kind(State.REVIEW, later, settings) == siblings.REVIEW


def test_burying_costs_queries_only_when_the_card_has_siblings(
    learner, deck, django_assert_num_queries
):
    from cards.services.reviews import issue_review_token, record_review

    (alone,) = make_note(deck, NoteKind.BASIC, count=1)
    front, back = make_note(deck, position=5)
    set_state(learner, alone, siblings.REVIEW)
    set_state(learner, front, siblings.REVIEW)
    set_state(learner, back, siblings.REVIEW)
    get_study_settings(learner)  # cached on the user, as a request has it
    tokens = {
        card: issue_review_token(learner, card, card.memory_states.get()) for card in (alone, front)
    }
    # The memory state with its card (and whether it has siblings), SAVEPOINT, memory UPDATE,
    # log INSERT, RELEASE.
    with django_assert_num_queries(5):
        record_review(learner, tokens[alone], 4, now=NOW)
    # The same, and the siblings with this learner's memory states, their UPDATE.
    with django_assert_num_queries(7):
        record_review(learner, tokens[front], 4, now=NOW)
    assert buried(learner, back)
