"""What a user studies next: learning cards due now, then reviews due today, then new cards,
then learning cards due within the learn-ahead limit (Anki's order, rslib scheduler/queue).

StudyQueue answers the study page's questions (next card, counters, reviews done today) with
a fixed number of index-backed queries, whatever the number of cards (SQL in queue_sql):
- the study settings (cached on the user object, so at most once per request);
- one aggregate over today's ReviewLog rows (index reviewlog_user_time) for the daily limits
  and the reviews done;
- the first learning or review card due (index memory_user[_deck]_state_due), then that card;
- one count of the due intraday learning, day-learning and review cards (intraday learning
  counted up to the learn-ahead limit, `StudySettings.learn_ahead_minutes`), limited as Anki's
  v3 queue limits them (_Today.counts; docs/scheduling_service.md lists the rules);
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
from cards.scheduling import State, learn_ahead_cutoff

from . import queue_sql
from .custom_study import todays_boost
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
    """The study day of `now` (a queue_sql.Moment), the daily limits left, the reviews done."""

    moment: queue_sql.Moment
    new_left: int
    reviews_left: int
    studied: int

    @property
    def now(self) -> datetime:
        return self.moment.now

    @property
    def end(self) -> datetime:
        return self.moment.end

    def counts(self, intraday: int, interday: int, review: int, new: int) -> QueueCounts:
        """Due cards within the limits left, as Anki's v3 queue counts them (rslib
        decks/tree.rs NodeCountsV3::capped, queue/builder/gathering.rs): day-learning cards use
        the review limit first, reviews what remains, new cards at most what remains after both
        (Anki's default: new cards do not ignore the review limit). Intraday learning cards are
        never limited; the learning count holds both kinds."""
        interday = min(interday, self.reviews_left)
        review = min(review, self.reviews_left - interday)
        new = min(new, self.new_left, self.reviews_left - interday - review)
        return QueueCounts(learning=intraday + interday, review=review, new=new)


def _study_day(user, now: datetime | None) -> tuple:
    """The user's settings and the Moment of `now` in their study day."""
    settings = get_study_settings(user)
    now = now or timezone.now()
    _, start, end = study_day_bounds(settings, now)
    ahead = learn_ahead_cutoff(now, settings.learn_ahead_minutes)
    moment = queue_sql.Moment(now, ahead, start, end, settings.timezone, settings.day_start_hour)
    return settings, moment


def _limits(settings, moment, new_done: int, reviews_done: int, studied: int) -> _Today:
    """What is left of the daily limits: as in Anki (rslib decks/limits.rs
    RemainingLimits::new_for_normal_deck_v3), new cards started today use up the review limit
    too, and the new limit is at most the review limit left. Custom study's boosts for today
    lower the counts done, as Anki's extend_limits does (services/custom_study.py)."""
    boost_new, boost_reviews = todays_boost(settings, moment.now)
    new_done, reviews_done = new_done - boost_new, reviews_done - boost_reviews
    reviews_left = max(settings.reviews_per_day - reviews_done - new_done, 0)
    new_left = max(min(settings.new_cards_per_day - new_done, reviews_left), 0)
    return _Today(moment, new_left=new_left, reviews_left=reviews_left, studied=studied)


def _today(user, now: datetime | None, deck=None) -> _Today:
    """The study day of `now` and the daily limits left, from today's logs (one aggregate)."""
    settings, moment = _study_day(user, now)
    done = queue_sql.reviews_done(user.pk, getattr(deck, "pk", None), moment)
    return _limits(settings, moment, *done)


class StudyQueue:
    """One user's queue at one moment, in one deck or in all visible decks.

    One statement (queue_sql.snapshot) answers the counters, the reviews done today and which
    card comes next; showing that card takes one more query (two for a new card).
    """

    def __init__(self, user, deck=None, now: datetime | None = None):
        self.user = user
        self.deck = deck
        self._deck_id = deck.pk if deck is not None else None
        settings, moment = _study_day(user, now)
        new_limit = settings.new_cards_per_day + todays_boost(settings, moment.now)[0]
        row = queue_sql.snapshot(user.pk, self._deck_id, moment, new_limit)
        self.today = _limits(settings, moment, row.new_done, row.reviews_done, row.studied)
        self._counts = self.today.counts(
            row.intraday_due, row.interday_due, row.review_due, row.new_cards
        )
        # Anki's order: intraday learning due now, then day learning and reviews within the
        # review limit, then new cards, then intraday learning due within the learn-ahead limit.
        self._first_memory = row.first_intraday
        if self._first_memory is None and self._counts.learning > row.intraday_due:
            self._first_memory = row.first_interday
        if self._first_memory is None and self._counts.review:
            self._first_memory = row.first_review
        self._first_ahead = row.first_ahead
        self._next: NextCard | None | Literal[False] = False

    @property
    def studied(self) -> int:
        """Reviews done this study day (in the deck if given)."""
        return self.today.studied

    def counts(self) -> QueueCounts:
        """How many cards are left today, within the daily limits."""
        return self._counts

    def next_card(self) -> NextCard | None:
        """Learning cards due now, then reviews due today, then new cards, then learning cards
        due within the learn-ahead limit; None when done."""
        if self._next is False:
            self._next = self._find_next()
        return self._next

    def _find_next(self) -> NextCard | None:
        if self._first_memory is not None:
            memory = queue_sql.memory_to_show(self._first_memory)
            return NextCard(memory.card, memory, kind_of(memory))
        if not self._counts.new:
            if self._first_ahead is None:
                return None
            memory = queue_sql.memory_to_show(self._first_ahead)
            return NextCard(memory.card, memory, kind_of(memory))
        [(card_id, undone_memory_id)] = queue_sql.first_new_cards(
            self.user.pk, self._deck_id, 1, self.today.now
        )
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
    due = queue_sql.due_counts_by_deck(user.pk, deck_ids, today.moment)
    new = {}
    if today.new_left:
        new = queue_sql.new_cards_by_deck(user.pk, deck_ids, today.new_left, today.now)
    return {
        deck_id: today.counts(*due.get(deck_id, (0, 0, 0)), new.get(deck_id, 0))
        for deck_id in deck_ids
    }


def next_due_at(user, deck=None, now: datetime | None = None) -> datetime | None:
    """When the user's next learning or review card falls due after `now` (one query)."""
    return queue_sql.next_due(user.pk, getattr(deck, "pk", None), now or timezone.now())


def studied_today(user, deck=None, now: datetime | None = None) -> int:
    """Reviews the user has done this study day (in `deck` if given)."""
    return _today(user, now, deck).studied
