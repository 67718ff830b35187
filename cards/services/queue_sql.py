"""The study page's queue queries, and the review loop's row reads, written as SQL.

Django builds each of these queries in 0.6-0.8 ms and the database answers in 0.03 ms
(benchmark: 20 users x 20,000 cards, docs/performance.md): as querysets they were most of the
study page's time. The SQL is the same as the querysets built it, with the same indexes:
- memory states: memory_user_state_due (user, state, due), with their studyable flag;
- new cards: card_deck_position (deck, position) with a NOT EXISTS probe of
  memory_unique_user_card (user, card).

"Studyable" is Card.objects.studyable() (an answer, not suspended), copied onto each memory
state as MemoryState.studyable; "visible" is Deck.objects.visible_to() (own decks and public
ones). tests/services/test_queue.py checks that the study page's snapshot and the dashboard's
per-deck counts agree on mixed collections.

memory_to_show and memory_to_answer are the two card reads of the review loop, as model
instances (sql_rows); tests/services/test_sql_rows.py compares them with the querysets.
memory_to_answer also says whether the card has siblings (sibling burying).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cards.models import Card, Deck, MemoryState
from cards.scheduling import State

from .sql_rows import columns, instance, width

LEARNING = f"m.state IN ({State.LEARNING:d}, {State.RELEARNING:d})"
REVIEW = f"m.state = {State.REVIEW:d}"
SCHEDULED = f"m.state IN ({State.LEARNING:d}, {State.REVIEW:d}, {State.RELEARNING:d})"
STUDYABLE = "c.answer <> '' AND NOT c.suspended"
# is_public IN (true), not a bare boolean, so that SQLite searches deck_public_name.
VISIBLE_DECKS = (
    "SELECT d.id FROM cards_deck d WHERE d.owner_id = %(user)s OR d.is_public IN (%(yes)s)"
)

# Memory states carry their card's studyable flag (MemoryState.studyable): no card row is read.
# The learner's own suspension and burying (until the study day ends) keep a card out too.
ACTIVE = "m.studyable AND NOT m.suspended AND (m.buried_until IS NULL OR m.buried_until <= %(now)s)"
MEMORIES = f"""
    FROM cards_memorystate m
    WHERE m.user_id = %(user)s AND {ACTIVE} AND {{scope}}"""


def _memory_scope(deck_id: int | None) -> str:
    return "m.deck_id = %(deck)s" if deck_id is not None else f"m.deck_id IN ({VISIBLE_DECKS})"


def _id_list(deck_ids: list[int]) -> tuple[str, dict]:
    """Placeholders and parameters for `IN (...)` over these deck ids."""
    names = [f"deck_{i}" for i in range(len(deck_ids))]
    return ", ".join(f"%({name})s" for name in names), dict(zip(names, deck_ids, strict=True))


def _card_scope(deck_id: int | None) -> str:
    if deck_id is not None:
        return "c.deck_id = %(deck)s"
    if connection.vendor == "postgresql":
        # IN (subquery) became a merge join walking card_deck_position from the first deck of
        # all users (183 ms); = ANY(ARRAY(...)) runs the subquery once and searches per deck.
        return f"c.deck_id = ANY(ARRAY({VISIBLE_DECKS}))"
    return f"c.deck_id IN ({VISIBLE_DECKS})"


def _params(user_id: int, deck_id: int | None, **values) -> dict:
    params = {"user": user_id, "deck": deck_id, "yes": True}
    for name, value in values.items():
        if isinstance(value, datetime):
            value = connection.ops.adapt_datetimefield_value(value)
        params[name] = value
    return params


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Moment:
    """A moment of a user's study day: what the queue queries compare due times with."""

    now: datetime
    ahead: datetime  # now + the learn-ahead limit
    start: datetime  # the study day's start
    end: datetime  # the next study day's start
    timezone: str  # the user's zone and day start hour, which tell day learning apart
    day_start_hour: int

    def params(self) -> dict:
        return {"now": self.now, "ahead": self.ahead, "start": self.start, "end": self.end,
                "tz": self.timezone, "day_start": f"{self.day_start_hour:02d}:00:00"}  # fmt: skip


def _on_day_start(instant: str) -> str:
    """SQL: `instant` (UTC) is exactly the day start hour in the user's zone. A day-learning
    card (Anki's queue 3, counted in days) is due then; an intraday learning card (queue 1,
    counted in seconds) never is, as it falls due strictly between two day starts."""
    if connection.vendor == "postgresql":
        return f"(({instant}) AT TIME ZONE %(tz)s)::time = %(day_start)s::time"
    # Django's own SQLite function (the one behind TruncTime with a tzinfo), through zoneinfo.
    return f"django_datetime_cast_time({instant}, %(tz)s, 'UTC') = %(day_start)s"


def _due_before_review() -> str:
    """SQL: the due time of a reviewed card before the review (ReviewLog.before, ISO text)."""
    if connection.vendor == "postgresql":
        return "(before->>'due')::timestamptz"
    return "replace(json_extract(before, '$.due'), 'T', ' ')"  # the form Django's parser reads


def _intraday() -> str:
    return f"{LEARNING} AND NOT ({_on_day_start('m.due')})"


def _interday() -> str:
    return f"{LEARNING} AND ({_on_day_start('m.due')})"


def _reviews_done_sql(deck_id: int | None) -> str:
    """Today's answers that use up the daily limits, as Anki counts them (rslib
    scheduler/answering/mod.rs update_deck_stats_from_answer): new cards, and reviews = answers
    of review cards and of day-learning cards (queues 2 and 3)."""
    in_deck = "WHERE deck_id = %(deck)s" if deck_id is not None else "WHERE TRUE"
    learning = f"state_before IN ({State.LEARNING:d}, {State.RELEARNING:d})"
    day_learning = f"{learning} AND ({_on_day_start(_due_before_review())})"
    return f"""
        SELECT COUNT(*) FILTER (WHERE state_before = {State.NEW:d}) AS new_done,
               COUNT(*) FILTER (WHERE state_before = {State.REVIEW:d} OR ({day_learning}))
                 AS reviews_done,
               COUNT(*) FILTER ({in_deck}) AS studied
        FROM cards_reviewlog
        WHERE user_id = %(user)s AND reviewed_at >= %(start)s AND reviewed_at < %(end)s"""


def reviews_done(user_id: int, deck_id: int | None, moment: Moment) -> tuple[int, int, int]:
    """(new cards started, reviews of review and day-learning cards, all reviews in `deck_id` if
    given) this study day: the daily limits count every deck, the last figure one deck or all."""
    params = _params(user_id, deck_id, **moment.params())
    ((new, reviews, studied),) = _rows(_reviews_done_sql(deck_id), params)
    return new, reviews, studied


@dataclass
class Snapshot:
    """A queue at one moment, before the daily limits are applied."""

    new_done: int  # today, in every deck
    reviews_done: int  # today, of review and day-learning cards, in every deck
    studied: int  # reviews today in the deck, or in every deck
    intraday_due: int  # intraday (re)learning cards due by the learn-ahead limit
    interday_due: int  # day-learning cards due today
    review_due: int  # review cards due before the study day ends
    new_cards: int  # new cards, counted up to the new-card limit
    first_intraday: int | None  # the memory state of the intraday card due first (by now)
    first_interday: int | None  # the day-learning card due first
    first_review: int | None  # the review card due first
    first_ahead: int | None  # the intraday card due first within the learn-ahead limit


def _due_counts_sql(memories: str, group: str = "") -> str:
    """Intraday learning cards due by the learn-ahead limit (`ahead`: now + the user's minutes,
    Anki's learn_ahead_secs), day-learning cards and review cards due before the study day ends
    (rslib scheduler/queue/builder/mod.rs build, decks/tree.rs); all are due before the end,
    which keeps the search to the due rows of memory_user_state_due."""
    return f"""
        SELECT {group}COUNT(*) FILTER (WHERE {_intraday()} AND m.due <= %(ahead)s) AS intraday_due,
               COUNT(*) FILTER (WHERE {_interday()}) AS interday_due,
               COUNT(*) FILTER (WHERE {REVIEW}) AS review_due
        {memories}
          AND {SCHEDULED}
          AND m.due < %(end)s"""


def snapshot(user_id: int, deck_id: int | None, moment: Moment, new_limit: int) -> Snapshot:
    """Everything the study page asks of the queue, in one statement (one round trip).

    Each part is an index search: today's logs (reviewlog_user_time), the due memory states
    (memory_user[_deck]_state_due), the first of each kind (the same index, in due order), and
    the new cards counted from the end of the decks, where the unstarted ones are (cards are
    started in deck order, so counting from the start would first walk every started card).
    """
    memories = MEMORIES.format(scope=_memory_scope(deck_id))
    new_cards = _new_cards_sql(_card_scope(deck_id), "c.id", "c.deck_id DESC, c.position DESC")

    def first(kind: str, due: str) -> str:
        return f"(SELECT m.id {memories} AND {kind} AND {due} ORDER BY m.due, m.id LIMIT 1)"

    sql = f"""
        SELECT done.new_done, done.reviews_done, done.studied,
          due.intraday_due, due.interday_due, due.review_due,
          (SELECT COUNT(*) FROM ({new_cards}) new) AS new_cards,
          {first(_intraday(), "m.due <= %(now)s")} AS first_intraday,
          {first(_interday(), "m.due < %(end)s")} AS first_interday,
          {first(REVIEW, "m.due < %(end)s")} AS first_review,
          {first(_intraday(), "m.due <= %(ahead)s AND m.due < %(end)s")} AS first_ahead
        FROM ({_reviews_done_sql(deck_id)}) done, ({_due_counts_sql(memories)}) due"""
    params = _params(user_id, deck_id, limit=new_limit, **moment.params())
    (row,) = _rows(sql, params)
    return Snapshot(*row)


def _new_cards_sql(scope: str, columns: str, order: str) -> str:
    """New cards: studyable, and without a memory state of this user, or with one in state NEW
    (left by undoing a first review, or carrying the learner's marks) that is not suspended
    or buried."""
    return f"""
        SELECT {columns} FROM cards_card c
        WHERE {scope} AND {STUDYABLE}
          AND NOT EXISTS (
            SELECT 1 FROM cards_memorystate m
            WHERE m.card_id = c.id AND m.user_id = %(user)s
              AND NOT (m.state = {State.NEW:d} AND {ACTIVE}))
        ORDER BY {order} LIMIT %(limit)s"""


def first_new_cards(
    user_id: int, deck_id: int | None, limit: int, now: datetime | None = None
) -> list[tuple[int, int | None]]:
    """Up to `limit` new cards in deck order: (card id, id of its NEW memory state or None)."""
    undone = (
        "(SELECT m.id FROM cards_memorystate m "
        f"WHERE m.card_id = c.id AND m.user_id = %(user)s AND m.state = {State.NEW:d})"
    )
    sql = _new_cards_sql(_card_scope(deck_id), f"c.id, {undone}", "c.deck_id, c.position, c.id")
    return _rows(sql, _params(user_id, deck_id, limit=limit, now=now or timezone.now()))


def due_counts_by_deck(
    user_id: int, deck_ids: list[int], moment: Moment
) -> dict[int, tuple[int, int, int]]:
    """For each deck with due cards: (intraday learning cards due by the learn-ahead limit,
    day-learning cards and reviews due today)."""
    placeholders, ids = _id_list(deck_ids)
    memories = MEMORIES.format(scope=f"m.deck_id IN ({placeholders})")
    sql = _due_counts_sql(memories, group="m.deck_id, ") + " GROUP BY m.deck_id"
    rows = _rows(sql, _params(user_id, None, **moment.params()) | ids)
    return {deck_id: tuple(counts) for deck_id, *counts in rows}


def new_cards_by_deck(
    user_id: int, deck_ids: list[int], limit: int, now: datetime | None = None
) -> dict[int, int]:
    """For each deck, its new cards counted up to `limit`, from the end of the deck (as in
    snapshot), so that a big deck costs no more than a small one."""
    placeholders, ids = _id_list(deck_ids)
    new_cards = _new_cards_sql("c.deck_id = d.id", "1", "c.position DESC")
    sql = f"""
        SELECT d.id, (SELECT COUNT(*) FROM ({new_cards}) new)
        FROM cards_deck d WHERE d.id IN ({placeholders})"""
    params = _params(user_id, None, limit=limit, now=now or timezone.now())
    return dict(_rows(sql, params | ids))


def next_due(user_id: int, deck_id: int | None, now: datetime) -> datetime | None:
    """When the first learning or review card falls due after `now`."""
    memories = MEMORIES.format(scope=_memory_scope(deck_id))
    sql = f"""
        SELECT MIN(m.due) {memories}
          AND {SCHEDULED}
          AND m.due > %(now)s"""
    ((due,),) = _rows(sql, _params(user_id, deck_id, now=now))
    if isinstance(due, str):  # SQLite stores datetimes as UTC text; an aggregate stays text
        due = parse_datetime(due).replace(tzinfo=UTC)
    return due


def _memory_and_card(row: tuple, with_deck: bool) -> MemoryState:
    memory = instance(MemoryState, row)
    card = instance(Card, row, width(MemoryState))
    if with_deck:
        card.deck = instance(Deck, row, width(MemoryState) + width(Card))
    memory.card = card
    return memory


def memory_to_show(memory_id: int) -> MemoryState:
    """The memory state the study page shows next, with its card and the card's deck."""
    sql = f"""
        SELECT {columns(MemoryState, "m")}, {columns(Card, "c")}, {columns(Deck, "d")}
        FROM cards_memorystate m
          JOIN cards_card c ON c.id = m.card_id
          JOIN cards_deck d ON d.id = c.deck_id
        WHERE m.id = %(memory)s"""
    (row,) = _rows(sql, {"memory": memory_id})
    return _memory_and_card(row, with_deck=True)


def memory_to_answer(user_id: int, card_id: int) -> MemoryState | None:
    """The user's memory state of a card, with the card, if the card is in a deck they may see:
    what the review POST reads (one row of memory_unique_user_card)."""
    sql = f"""
        SELECT {columns(MemoryState, "m")}, {columns(Card, "c")}, {HAS_SIBLINGS}
        FROM cards_memorystate m JOIN cards_card c ON c.id = m.card_id
        WHERE m.user_id = %(user)s AND m.card_id = %(card)s AND c.deck_id IN ({VISIBLE_DECKS})"""
    rows = _rows(sql, _params(user_id, None, card=card_id))
    if not rows:
        return None
    memory = _memory_and_card(rows[0], with_deck=False)
    memory.card.has_siblings = bool(rows[0][-1])
    return memory


# Whether the card has siblings (other cards of its note), for sibling burying
# (services/siblings.py): a probe of card_unique_ord_per_note (note, ord) in the same read.
HAS_SIBLINGS = "EXISTS (SELECT 1 FROM cards_card s WHERE s.note_id = c.note_id AND s.id <> c.id)"
