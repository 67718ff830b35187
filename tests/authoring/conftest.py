from datetime import timedelta

import pytest
from django.utils import timezone

from cards.importers.load import parse_deck_file, save_deck
from cards.models import Card, Deck, MemoryState, ReviewLog


@pytest.fixture
def seed_deck(db, seed_path):
    """The real seed deck as a public site deck (42 cards, 18 without an answer)."""
    parsed = parse_deck_file(seed_path.read_bytes(), seed_path.name)
    return save_deck(parsed, owner=None, public=True).deck


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def own_deck(owner):
    deck = Deck.objects.create(owner=owner, name="Alice's deck")
    for i in range(1, 4):
        Card.objects.create(deck=deck, question=f"Question {i}", answer=f"Answer {i}", position=i)
    Card.objects.create(deck=deck, question="Blank one", answer="", position=4)
    return deck


@pytest.fixture
def public_deck(other):
    deck = Deck.objects.create(owner=other, name="Bob's public deck", is_public=True)
    Card.objects.create(deck=deck, question="Public Q", answer="Public A", position=1)
    return deck


def add_cards(deck, count, start=100):
    Card.objects.bulk_create(
        Card(deck=deck, question=f"Extra {i}", answer=f"**A{i}**", position=start + i)
        for i in range(count)
    )


def review(user, card, when=None, rating=4, state_after=2, days=7):
    """A review log and the memory state it leaves, written directly (no scheduler needed)."""
    when = when or timezone.now() - timedelta(days=1)
    due = when + timedelta(days=days)
    ReviewLog.objects.create(
        user=user, card=card, deck=card.deck, rating=rating, grade=3, reviewed_at=when,
        state_before=0, state_after=state_after, stability_after=3.5, difficulty_after=5.0,
        due_after=due, before={"state": 0},
    )  # fmt: skip
    state, _ = MemoryState.objects.update_or_create(
        user=user,
        card=card,
        defaults={
            "deck": card.deck, "state": state_after, "stability": 3.5, "difficulty": 5.0,
            "due": due, "last_review": when, "reps": 1,
        },
    )  # fmt: skip
    return state
