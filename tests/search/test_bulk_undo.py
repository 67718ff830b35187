"""Undo of the browser's forget and set due date (Anki undoes both): the whole call comes
back in one step, and a card studied since makes the undo refuse, changing nothing."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, StudyAction
from cards.scheduling import State
from cards.services import card_bulk, card_marks

UNDO = reverse("card_browser_undo")


@pytest.fixture
def cards(owner):
    deck = Deck.objects.create(owner=owner, name="Mine")
    return [Card.objects.create(deck=deck, question=f"q{i}", answer="a") for i in range(3)]


def studied(user, card, days=3):
    now = timezone.now()
    memory = MemoryState.of(
        user, card, state=State.REVIEW, due=now + timedelta(days=days),
        last_review=now - timedelta(days=2), stability=4.0 + days, difficulty=5.0, reps=4,
        lapses=1, step=None,
    )  # fmt: skip
    memory.save()
    return memory


SCHEDULE = ("state", "step", "stability", "difficulty", "last_review", "due", "reps", "lapses")


def schedules(user):
    rows = MemoryState.objects.filter(user=user).order_by("card_id")
    return [tuple(getattr(m, name) for name in SCHEDULE) for m in rows]


def undo(client) -> str:
    response = client.post(UNDO, {"q": "deck:Mine"})
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


@pytest.mark.parametrize("action", ["forget", "set_due"])
def test_undo_puts_back_every_cards_schedule(owner_client, owner, cards, action):
    for days, card in enumerate(cards, start=2):
        studied(owner, card, days)
    before = schedules(owner)
    fields = {"reset_counts": "on"} if action == "forget" else {"due": "10-20!"}
    data = {"action": action, "scope": "all", "q": "deck:Mine", **fields}
    owner_client.post(reverse("card_browser_action"), data)
    assert schedules(owner) != before
    label = "forget" if action == "forget" else "set due date"
    assert undo(owner_client) == f"Undid {label}: 3 cards."
    assert schedules(owner) == before
    assert not StudyAction.objects.filter(user=owner).exists()


def test_undo_refuses_when_a_card_was_studied_since(owner_client, owner, cards):
    for card in cards:
        studied(owner, card)
    card_bulk.forget(owner, [c.pk for c in cards])
    after = schedules(owner)
    review = MemoryState.objects.get(user=owner, card=cards[1])
    review.version += 1  # what a review does
    review.save(update_fields=["version"])
    message = undo(owner_client)
    assert message == "Forget was not undone: some of its cards were studied or changed since."
    assert schedules(owner) == after  # not even the untouched cards came back


def test_the_study_pages_undo_takes_a_forget_back_too(owner, cards):
    memory = studied(owner, cards[0])
    card_bulk.set_due(owner, [cards[0].pk], "0")
    card_marks.undo_action(card_marks.last_action(owner))
    changed = MemoryState.objects.get(pk=memory.pk)
    assert (changed.due, changed.stability) == (memory.due, memory.stability)
    assert changed.version == memory.version + 2  # the action, then its undo


def test_nothing_changed_records_nothing(owner, cards):
    assert card_bulk.forget(owner, [c.pk for c in cards]).changed == 0  # all new already
    assert not StudyAction.objects.filter(user=owner).exists()


def test_another_learner_cannot_undo_my_forget(owner, other, other_client, cards):
    memory = studied(owner, cards[0])
    card_bulk.forget(owner, [cards[0].pk])
    assert undo(other_client).startswith("There is no suspend")
    assert MemoryState.objects.get(pk=memory.pk).state == State.NEW
