"""A small hand-made history for alice (Europe/Berlin, days start at 04:00) plus bob's noise.

"Now" is Saturday 2026-11-28 12:00 UTC (13:00 in Berlin): today's study day is the 28th and it
began at 03:00 UTC. Every expected number in the tests is worked out from the rows below.
"""

from datetime import UTC, datetime

import pytest

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from tests.conftest import make_user

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add_log(user, card, when, grade, state_before, r=None, elapsed=0, ms=90_000):
    return ReviewLog.objects.create(
        user=user,
        card=card,
        deck=card.deck,
        rating=grade + 1,
        grade=grade,
        reviewed_at=when,
        duration_ms=ms,
        state_before=state_before,
        retrievability=r,
        elapsed_days=elapsed,
        state_after=2,
        due_after=when,
    )


def add_memory(user, card, state, stability, difficulty, last_review, due):
    return MemoryState.objects.create(
        user=user,
        card=card,
        deck=card.deck,
        state=state,
        stability=stability,
        difficulty=difficulty,
        last_review=last_review,
        due=due,
        reps=1,
    )


@pytest.fixture
def history(owner, other):
    StudySettings.objects.create(
        user=owner, timezone="Europe/Berlin", day_start_hour=4, desired_retention=0.9
    )
    StudySettings.objects.create(user=other)
    staff = make_user("site")
    alpha = Deck.objects.create(owner=owner, name="Alpha")
    beta = Deck.objects.create(owner=staff, name="Beta", is_public=True)
    Deck.objects.create(owner=None, name="Gamma (never studied)", is_public=True)
    bobs = Deck.objects.create(owner=other, name="Bob's secret deck")
    a = {i: Card.objects.create(deck=alpha, question=f"A{i}", answer="x") for i in range(1, 6)}
    Card.objects.create(deck=alpha, question="A6 has no answer yet", answer="")
    b1 = Card.objects.create(deck=beta, question="B1", answer="x")
    Card.objects.create(deck=beta, question="B2", answer="x")
    bob_card = Card.objects.create(deck=bobs, question="secret", answer="x")

    # Memory now (desired retention 0.9 makes k = 1: mastered when elapsed days <= stability).
    add_memory(owner, a[1], 2, 10.0, 5.0, at(2026, 11, 20, 12), at(2026, 11, 30, 10))  # mastered
    add_memory(owner, a[2], 2, 3.0, 7.5, at(2026, 11, 20, 12), at(2026, 11, 23, 9))  # overdue
    add_memory(owner, a[3], 1, 0.5, 2.2, at(2026, 11, 28, 11), at(2026, 11, 28, 11, 10))
    # Due at 03:30 Berlin on the 29th: still study day 28.
    add_memory(owner, a[4], 3, 1.2, 10.0, at(2026, 11, 27, 20), at(2026, 11, 29, 2, 30))
    add_memory(owner, b1, 2, 400.0, 1.0, at(2026, 6, 1, 10), at(2026, 12, 1, 4))
    # Bob's memories, in his deck and in the public one: never counted for alice.
    add_memory(other, bob_card, 2, 50.0, 3.0, at(2026, 11, 27, 10), at(2026, 11, 28, 15))
    add_memory(other, b1, 1, 2.0, 4.0, at(2026, 11, 27, 10), at(2026, 11, 28, 15))

    add_log(owner, a[3], at(2026, 11, 28, 11), 3, 0, ms=3_000_000)  # day 28
    add_log(owner, a[3], at(2026, 11, 28, 11, 10), 3, 1, r=0.99)  # day 28, same-day step
    add_log(owner, a[4], at(2026, 11, 27, 20), 1, 2, r=0.85, elapsed=7)  # day 27, forgotten
    add_log(owner, a[1], at(2026, 11, 27, 3, 30), 3, 2, r=0.95, elapsed=5)  # 04:30 Berlin: 27
    add_log(owner, a[2], at(2026, 11, 27, 2, 30), 2, 2, r=0.75, elapsed=3)  # 03:30 Berlin: 26
    add_log(owner, b1, at(2026, 11, 24, 10), 4, 2, r=0.92, elapsed=30)  # day 24
    add_log(owner, a[2], at(2026, 10, 10, 10), 1, 2, r=0.55, elapsed=4)  # Oct 10, forgotten
    add_log(owner, a[2], at(2026, 10, 10, 10, 5), 3, 3, r=0.99)  # relearning step, same day
    add_log(owner, a[1], at(2025, 6, 1, 10), 3, 2, r=0.35, elapsed=20)  # before the year
    for day in range(20, 29):
        add_log(other, bob_card, at(2026, 11, day, 10), 1, 2, r=0.5, elapsed=3, ms=999_000)
        add_log(other, b1, at(2026, 11, day, 11), 1, 2, r=0.5, elapsed=3, ms=999_000)
    return {"alpha": alpha, "beta": beta, "bobs": bobs, "cards": a, "b1": b1}


@pytest.fixture
def stats_at_now(monkeypatch):
    """The stats page computed at NOW, whatever today's date: the history's figures (heatmap
    cells, forecast) are worked out for that moment."""
    from cards.services.stats import build_stats

    monkeypatch.setattr(
        "cards.views.stats.build_stats",
        lambda user, settings, deck=None: build_stats(user, settings, deck=deck, now=NOW),
    )
