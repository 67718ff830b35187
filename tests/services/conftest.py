"""Helpers for the scheduling service tests: a learner in New York whose day starts at 4 am."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cards.models import Card, Deck, MemoryState
from cards.services.reviews import issue_review_token, record_review
from cards.services.settings import get_study_settings

NEW_YORK = ZoneInfo("America/New_York")


def local(*args) -> datetime:
    """A New York wall-clock time as an aware UTC datetime."""
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


def make_cards(deck, count, start=0, **fields) -> list[Card]:
    """Cards with answers, created in one query (positions start, start+1, …)."""
    cards = [
        Card(deck=deck, question=f"Q{i}", answer=f"A{i}", position=i, **fields)
        for i in range(start, start + count)
    ]
    return Card.objects.bulk_create(cards)


def answer(user, card, rating, now, duration_ms=1000):
    """Show the card (issue a token for its current state) and answer it."""
    memory = MemoryState.objects.filter(user=user, card=card).first()
    return record_review(user, issue_review_token(user, card, memory), rating, duration_ms, now=now)


@pytest.fixture
def learner(owner):
    settings = get_study_settings(owner)
    settings.timezone = "America/New_York"
    settings.day_start_hour = 4
    settings.save()
    return owner


@pytest.fixture
def deck(learner):
    return Deck.objects.create(owner=learner, name="Spanish")
