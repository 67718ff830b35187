"""What a user studies next: learning cards due now, then reviews due today, then new cards.

Every function here makes a fixed number of index-backed queries, whatever the number of cards:
- the study settings (cached on the user object, so at most once per request);
- one aggregate over today's ReviewLog rows (index reviewlog_user_time) for the daily limits;
- one "first by due date" query per memory-state kind (index memory_user[_deck]_state_due);
- one "first card in deck order without a memory state" query (index card_deck_position with a
  NOT EXISTS probe of memory_unique_user_card).

A card with a blank answer or a suspended card never enters the queue. A card's MemoryState in
state NEW (left by undoing a first review) still counts as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, Func, Min, OuterRef, Q, Subquery
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import State

from .settings import get_study_settings, study_day_bounds

LEARNING_STATES = (State.LEARNING, State.RELEARNING)
Kind = Literal["learning", "review", "new"]


@dataclass
class QueueCounts:
    learning: int = 0
    review: int = 0
    new: int = 0

    @property
    def total(self) -> int:
        return self.learning + self.review + self.new


@dataclass
class NextCard:
    card: Card
    memory: MemoryState | None
    kind: Kind


@dataclass
class _Today:
    """The study day of `now` and what is left of the daily limits."""

    now: datetime
    start: datetime
    end: datetime
    new_left: int
    reviews_left: int


def _today(user, now: datetime | None) -> _Today:
    settings = get_study_settings(user)
    now = now or timezone.now()
    _, start, end = study_day_bounds(settings, now)
    done = ReviewLog.objects.filter(user=user, reviewed_at__gte=start, reviewed_at__lt=end)
    counts = done.aggregate(
        new=Count("pk", filter=Q(state_before=State.NEW)),
        reviews=Count("pk", filter=Q(state_before=State.REVIEW)),
    )
    return _Today(
        now=now,
        start=start,
        end=end,
        new_left=max(settings.new_cards_per_day - counts["new"], 0),
        reviews_left=max(settings.reviews_per_day - counts["reviews"], 0),
    )


def _visible(user, prefix: str = "") -> Q:
    """Own decks and public ones, as in Deck.objects.visible_to."""
    return Q(**{f"{prefix}deck__owner": user}) | Q(**{f"{prefix}deck__is_public": True})


def _memories(user, deck=None, decks=None):
    """The user's memory states of cards that may be studied (answered, not suspended)."""
    qs = MemoryState.objects.filter(user=user, card__suspended=False).exclude(card__answer="")
    if deck is not None:
        return qs.filter(deck=deck)
    if decks is not None:
        return qs.filter(deck__in=decks)
    return qs.filter(_visible(user))


def _new_cards(user, deck=None, decks=None):
    """Studyable cards this user has not started (no memory state beyond NEW)."""
    started = MemoryState.objects.filter(user=user, card=OuterRef("pk")).exclude(state=State.NEW)
    qs = Card.objects.studyable().filter(~Exists(started))
    if deck is not None:
        return qs.filter(deck=deck)
    if decks is not None:
        return qs.filter(deck__in=decks)
    # deck_id IN (the visible decks), not a join on the deck's columns: the join made SQLite
    # scan every card of every user (350 ms at 400,000 cards); IN walks card_deck_position.
    # is_public IN (true) rather than a bare boolean, so SQLite searches deck_public_name.
    visible = Deck.objects.filter(Q(owner=user) | Q(is_public__in=[True])).order_by().values("pk")
    if connection.vendor == "postgresql":
        # PostgreSQL turned IN (subquery) into a merge join that walks card_deck_position from
        # the first deck of all (183 ms for the last user of 20); = ANY(ARRAY(subquery)) runs
        # the subquery once and searches the index per deck (5 ms).
        return qs.filter(_EqualsAny(F("deck_id"), Subquery(visible)))
    return qs.filter(deck__in=visible)


class _EqualsAny(Func):
    """column = ANY(ARRAY(subquery)), a boolean for filter()."""

    arg_joiner = " = ANY(ARRAY("
    template = "%(expressions)s))"
    output_field = BooleanField()


def _learning_due(qs, now):
    return qs.filter(state__in=LEARNING_STATES, due__lte=now)


def _reviews_due(qs, end):
    return qs.filter(state=State.REVIEW, due__lt=end)


def next_card(user, deck=None, now: datetime | None = None) -> NextCard | None:
    """The card to show now, or None when the queue is empty for today.

    Queries: settings (if not cached), today's log counts, then at most: first learning card
    due now, first review card due before the end of the study day, first new card in deck
    order (and, only for a card whose first review was undone, its NEW memory state).
    """
    today = _today(user, now)
    memories = _memories(user, deck).select_related("card", "card__deck")
    memory = _learning_due(memories, today.now).order_by("due", "pk").first()
    if memory is not None:
        return NextCard(memory.card, memory, "learning")
    if today.reviews_left > 0:
        memory = _reviews_due(memories, today.end).order_by("due", "pk").first()
        if memory is not None:
            return NextCard(memory.card, memory, "review")
    if today.new_left > 0:
        undone = MemoryState.objects.filter(user=user, card=OuterRef("pk"), state=State.NEW)
        card = (
            _new_cards(user, deck)
            .select_related("deck")
            .annotate(new_memory_id=Subquery(undone.values("pk")[:1]))
            .order_by("deck_id", "position", "pk")
            .first()
        )
        if card is not None:
            memory = None
            if card.new_memory_id is not None:
                memory = MemoryState.objects.get(pk=card.new_memory_id)
            return NextCard(card, memory, "new")
    return None


def _memory_counts(qs, today: _Today, group: bool):
    aggregates = {
        "learning": Count("pk", filter=Q(state__in=LEARNING_STATES, due__lte=today.now)),
        "review": Count("pk", filter=Q(state=State.REVIEW, due__lt=today.end)),
    }
    # Both counts need due before the day's end (now < end): the range keeps the scan to the
    # due cards of memory_user_state_due instead of every card the user ever studied.
    qs = qs.filter(state__in=(*LEARNING_STATES, State.REVIEW), due__lt=today.end)
    if group:
        return {row["deck"]: row for row in qs.values("deck").annotate(**aggregates)}
    return qs.aggregate(**aggregates)


def queue_counts(user, deck=None, now: datetime | None = None) -> QueueCounts:
    """How many cards are left today, within the daily limits.

    Queries: settings (if not cached), today's log counts, memory states by kind, new cards.
    """
    today = _today(user, now)
    memory = _memory_counts(_memories(user, deck), today, group=False)
    # Only up to the daily limit matters: a LIMIT stops the count early on big collections.
    new = _new_cards(user, deck)[: today.new_left].count() if today.new_left else 0
    return QueueCounts(
        learning=memory["learning"],
        review=min(memory["review"], today.reviews_left),
        new=min(new, today.new_left),
    )


def deck_queue_counts(user, decks, now: datetime | None = None) -> dict[int, QueueCounts]:
    """QueueCounts for each deck (each within the user's daily limits), for the dashboard.

    Queries: settings (if not cached), today's log counts, memory states grouped by deck, new
    cards grouped by deck — the same four whatever the number of decks.
    """
    deck_ids = [getattr(deck, "pk", deck) for deck in decks]
    if not deck_ids:
        return {}
    today = _today(user, now)
    memory = _memory_counts(_memories(user, decks=deck_ids), today, group=True)
    new = dict(
        _new_cards(user, decks=deck_ids)
        .order_by()
        .values("deck")
        .annotate(n=Count("pk"))
        .values_list("deck", "n")
    )
    result = {}
    for deck_id in deck_ids:
        row = memory.get(deck_id, {"learning": 0, "review": 0})
        result[deck_id] = QueueCounts(
            learning=row["learning"],
            review=min(row["review"], today.reviews_left),
            new=min(new.get(deck_id, 0), today.new_left),
        )
    return result


def next_due_at(user, deck=None, now: datetime | None = None) -> datetime | None:
    """When the user's next learning or review card falls due after `now` (one query)."""
    now = now or timezone.now()
    qs = _memories(user, deck).filter(state__in=(*LEARNING_STATES, State.REVIEW), due__gt=now)
    return qs.aggregate(next_due=Min("due"))["next_due"]


def studied_today(user, deck=None, now: datetime | None = None) -> int:
    """Reviews the user has done this study day (in `deck` if given)."""
    settings = get_study_settings(user)
    _, start, end = study_day_bounds(settings, now)
    qs = ReviewLog.objects.filter(user=user, reviewed_at__gte=start, reviewed_at__lt=end)
    if deck is not None:
        qs = qs.filter(deck=deck)
    return qs.count()
