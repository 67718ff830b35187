"""The study page offers a learning card due within the learn-ahead limit instead of "All done"
(Anki's learn-ahead, StudySettings.learn_ahead_minutes, 20 minutes by default)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.models import Card, Deck, MemoryState
from cards.scheduling import State
from cards.services.settings import get_study_settings
from tests.conftest import start_days_far_from_now

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def learning_card(owner):
    """Alice's only card, in learning and due `minutes` from now."""
    start_days_far_from_now(owner)  # settings stored, as after any first visit
    deck = Deck.objects.create(owner=owner, name="Steps")
    card = Card.objects.create(deck=deck, question="What is a step?", answer="A delay", position=1)

    def due_in(minutes: int) -> Card:
        now = timezone.now()
        MemoryState.objects.update_or_create(
            user=owner,
            card=card,
            defaults=dict(deck=deck, state=State.LEARNING, step=1, stability=1.0, difficulty=5.0,
                          due=now + timedelta(minutes=minutes), last_review=now, reps=1),
        )  # fmt: skip
        return card

    return due_in


def test_it_shows_a_learning_card_due_in_3_minutes_instead_of_all_done(
    owner_client, learning_card, django_assert_num_queries
):
    card = learning_card(3)
    # Expect 5 queries: session, user (with study settings), deck, the queue's snapshot (the
    #  learning card ahead is its first_ahead), that card's memory state with card and deck
    with django_assert_num_queries(5):
        response = owner_client.get(f"/decks/{card.deck_id}/study/")
    assert response.context["current"].card == card
    html = response.content.decode()
    assert "What is a step?" in html
    assert "All done for now" not in html
    assert "<strong>1</strong> learning" in html


def test_the_htmx_fragment_shows_it_too(owner_client, learning_card):
    card = learning_card(3)
    response = owner_client.get("/study/", **HTMX)
    assert response.context["current"].card == card


@pytest.mark.parametrize("minutes, learn_ahead", [(25, 20), (3, 0)])
def test_beyond_the_limit_it_is_all_done(owner_client, owner, learning_card, minutes, learn_ahead):
    settings = get_study_settings(owner)
    settings.learn_ahead_minutes = learn_ahead
    settings.save()
    card = learning_card(minutes)
    response = owner_client.get(f"/decks/{card.deck_id}/study/")
    assert response.context["current"] is None
    assert "All done for now" in response.content.decode()
