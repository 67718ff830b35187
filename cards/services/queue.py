"""What a user studies next: learning cards due now, then reviews due today, then new cards.

StudyQueue answers the study page's questions (next card, counters, reviews done today) with
a fixed number of index-backed queries, whatever the number of cards (SQL in queue_sql):
- the study settings (cached on the user object, so at most once per request);
- one aggregate over today's ReviewLog rows (index reviewlog_user_time) for the daily limits
  and the reviews done;
- the first learning or review card due (index memory_user[_deck]_state_due), then that card;
- one count of the due learning and review cards;
- one new-card query (index card_deck_position with a NOT EXISTS probe of
  memory_unique_user_card), stopped at the daily limit.
The dashboard's deck_queue_counts counts the same queue for many decks at once (three queries).

A card with a blank answer or a suspended card never enters the queue. A card's MemoryState in
state NEW (left by undoing a first review) still counts as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.utils import timezone

from cards.models import Card, MemoryState
from cards.scheduling import State

from . import queue_sql
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


def kind_of(memory: MemoryState | None) -> Kind:
    """How the study page labels a card with this memory state (None: never studied)."""
    if memory is None or memory.state == State.NEW:
        return "new"
    return "learning" if memory.state in LEARNING_STATES else "review"


@dataclass
class _Today:
    """The study day of `now`, what is left of the daily limits, and the reviews done."""

    now: datetime
    start: datetime
    end: datetime
    new_left: int
    reviews_left: int
    studied: int


def _study_day(user, now: datetime | None):
    """The user's settings, `now` and the bounds of its study day."""
    settings = get_study_settings(user)
    now = now or timezone.now()
    _, start, end = study_day_bounds(settings, now)
    return settings, now, start, end


def _limits(settings, now, start, end, new_done: int, reviews_done: int, studied: int) -> _Today:
    return _Today(
        now=now,
        start=start,
        end=end,
        new_left=max(settings.new_cards_per_day - new_done, 0),
        reviews_left=max(settings.reviews_per_day - reviews_done, 0),
        studied=studied,
    )


def _today(user, now: datetime | None, deck=None) -> _Today:
    """The study day of `now` and the daily limits left, from today's logs (one aggregate)."""
    settings, now, start, end = _study_day(user, now)
    done = queue_sql.reviews_done(user.pk, getattr(deck, "pk", None), start, end)
    return _limits(settings, now, start, end, *done)


class StudyQueue:
    """One user's queue at one moment, in one deck or in all visible decks.

    One statement (queue_sql.snapshot) answers the counters, the reviews done today and which
    card comes next; showing that card takes one more query (two for a new card).
    """

    def __init__(self, user, deck=None, now: datetime | None = None):
        self.user = user
        self.deck = deck
        self._deck_id = deck.pk if deck is not None else None
        settings, now, start, end = _study_day(user, now)
        row = queue_sql.snapshot(
            user.pk, self._deck_id, now, start, end, new_limit=settings.new_cards_per_day
        )
        self.today = _limits(settings, now, start, end, row.new_done, row.reviews_done, row.studied)
        self._counts = QueueCounts(
            learning=row.learning_due,
            review=min(row.review_due, self.today.reviews_left),
            new=min(row.new_cards, self.today.new_left),
        )
        self._first_memory = row.first_learning
        if self._first_memory is None and self._counts.review:
            self._first_memory = row.first_review
        self._next: NextCard | None | Literal[False] = False

    @property
    def studied(self) -> int:
        """Reviews done this study day (in the deck if given)."""
        return self.today.studied

    def counts(self) -> QueueCounts:
        """How many cards are left today, within the daily limits."""
        return self._counts

    def next_card(self) -> NextCard | None:
        """Learning cards due now, then reviews due today, then new cards; None when done."""
        if self._next is False:
            self._next = self._find_next()
        return self._next

    def _find_next(self) -> NextCard | None:
        if self._first_memory is not None:
            memory = queue_sql.memory_to_show(self._first_memory)
            return NextCard(memory.card, memory, kind_of(memory))
        if not self._counts.new:
            return None
        [(card_id, undone_memory_id)] = queue_sql.first_new_cards(self.user.pk, self._deck_id, 1)
        card = Card.objects.select_related("deck").get(pk=card_id)
        memory = None
        if undone_memory_id is not None:
            memory = MemoryState.objects.get(pk=undone_memory_id)
        return NextCard(card, memory, "new")

    def next_due_at(self) -> datetime | None:
        """When the next learning or review card falls due after now (one query)."""
        return next_due_at(self.user, self.deck, self.today.now)


def next_card(user, deck=None, now: datetime | None = None) -> NextCard | None:
    """The card to show now, or None when the queue is empty for today."""
    return StudyQueue(user, deck, now).next_card()


def queue_counts(user, deck=None, now: datetime | None = None) -> QueueCounts:
    """How many cards are left today, within the daily limits."""
    return StudyQueue(user, deck, now).counts()


def deck_queue_counts(user, decks, now: datetime | None = None) -> dict[int, QueueCounts]:
    """QueueCounts for each deck (each within the user's daily limits), for the dashboard.

    Queries: settings (if not cached), today's log counts, due cards grouped by deck, new cards
    of each deck counted up to the limit — the same three whatever the number of decks.
    """
    deck_ids = [getattr(deck, "pk", deck) for deck in decks]
    if not deck_ids:
        return {}
    today = _today(user, now)
    due = queue_sql.due_counts_by_deck(user.pk, deck_ids, today.now, today.end)
    new = queue_sql.new_cards_by_deck(user.pk, deck_ids, today.new_left) if today.new_left else {}
    result = {}
    for deck_id in deck_ids:
        learning, review = due.get(deck_id, (0, 0))
        result[deck_id] = QueueCounts(
            learning=learning,
            review=min(review, today.reviews_left),
            new=new.get(deck_id, 0),
        )
    return result


def next_due_at(user, deck=None, now: datetime | None = None) -> datetime | None:
    """When the user's next learning or review card falls due after `now` (one query)."""
    return queue_sql.next_due(user.pk, getattr(deck, "pk", None), now or timezone.now())


def studied_today(user, deck=None, now: datetime | None = None) -> int:
    """Reviews the user has done this study day (in `deck` if given)."""
    return _today(user, now, deck).studied
