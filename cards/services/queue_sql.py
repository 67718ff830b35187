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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
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
MEMORIES = """
    FROM cards_memorystate m
    WHERE m.user_id = %(user)s AND m.studyable AND {scope}"""


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


def _reviews_done_sql(deck_id: int | None) -> str:
    in_deck = "WHERE deck_id = %(deck)s" if deck_id is not None else "WHERE TRUE"
    return f"""
        SELECT COUNT(*) FILTER (WHERE state_before = {State.NEW:d}) AS new_done,
               COUNT(*) FILTER (WHERE state_before = {State.REVIEW:d}) AS reviews_done,
               COUNT(*) FILTER ({in_deck}) AS studied
        FROM cards_reviewlog
        WHERE user_id = %(user)s AND reviewed_at >= %(start)s AND reviewed_at < %(end)s"""


def reviews_done(
    user_id: int, deck_id: int | None, start: datetime, end: datetime
) -> tuple[int, int, int]:
    """(new cards started, reviews of review cards, all reviews in `deck_id` if given) between
    `start` and `end`: the daily limits count every deck, the last figure one deck or all."""
    params = _params(user_id, deck_id, start=start, end=end)
    ((new, reviews, studied),) = _rows(_reviews_done_sql(deck_id), params)
    return new, reviews, studied


@dataclass
class Snapshot:
    """A queue at one moment, before the daily limits are applied."""

    new_done: int  # today, in every deck
    reviews_done: int  # today, of cards in review state, in every deck
    studied: int  # reviews today in the deck, or in every deck
    learning_due: int  # learning and relearning cards due by now
    review_due: int  # review cards due before the study day ends
    new_cards: int  # new cards, counted up to the new-card limit
    first_learning: int | None  # the memory state of the learning card due first
    first_review: int | None  # the memory state of the review card due first


def _due_counts_sql(memories: str, group: str = "") -> str:
    """Learning cards due by now and review cards due before the study day ends; both are
    due before the end, which keeps the search to the due rows of memory_user_state_due."""
    return f"""
        SELECT {group}COUNT(*) FILTER (WHERE {LEARNING} AND m.due <= %(now)s) AS learning_due,
               COUNT(*) FILTER (WHERE {REVIEW}) AS review_due
        {memories}
          AND {SCHEDULED}
          AND m.due < %(end)s"""


def snapshot(
    user_id: int,
    deck_id: int | None,
    now: datetime,
    start: datetime,
    end: datetime,
    new_limit: int,
) -> Snapshot:
    """Everything the study page asks of the queue, in one statement (one round trip).

    Each part is an index search: today's logs (reviewlog_user_time), the due memory states
    (memory_user[_deck]_state_due), the first of each kind (the same index, in due order), and
    the new cards counted from the end of the decks, where the unstarted ones are (cards are
    started in deck order, so counting from the start would first walk every started card).
    """
    memories = MEMORIES.format(scope=_memory_scope(deck_id))
    new_cards = _new_cards_sql(_card_scope(deck_id), "c.id", "c.deck_id DESC, c.position DESC")
    sql = f"""
        SELECT done.new_done, done.reviews_done, done.studied, due.learning_due, due.review_due,
          (SELECT COUNT(*) FROM ({new_cards}) new) AS new_cards,
          (SELECT m.id {memories} AND {LEARNING} AND m.due <= %(now)s
           ORDER BY m.due, m.id LIMIT 1) AS first_learning,
          (SELECT m.id {memories} AND {REVIEW} AND m.due < %(end)s
           ORDER BY m.due, m.id LIMIT 1) AS first_review
        FROM ({_reviews_done_sql(deck_id)}) done, ({_due_counts_sql(memories)}) due"""
    params = _params(user_id, deck_id, now=now, start=start, end=end, limit=new_limit)
    (row,) = _rows(sql, params)
    return Snapshot(*row)


def _new_cards_sql(scope: str, columns: str, order: str) -> str:
    return f"""
        SELECT {columns} FROM cards_card c
        WHERE {scope} AND {STUDYABLE}
          AND NOT EXISTS (
            SELECT 1 FROM cards_memorystate m
            WHERE m.card_id = c.id AND m.user_id = %(user)s AND m.state <> {State.NEW:d})
        ORDER BY {order} LIMIT %(limit)s"""


def first_new_cards(user_id: int, deck_id: int | None, limit: int) -> list[tuple[int, int | None]]:
    """Up to `limit` new cards in deck order: (card id, id of its NEW memory state or None)."""
    undone = (
        "(SELECT m.id FROM cards_memorystate m "
        f"WHERE m.card_id = c.id AND m.user_id = %(user)s AND m.state = {State.NEW:d})"
    )
    sql = _new_cards_sql(_card_scope(deck_id), f"c.id, {undone}", "c.deck_id, c.position, c.id")
    return _rows(sql, _params(user_id, deck_id, limit=limit))


def due_counts_by_deck(
    user_id: int, deck_ids: list[int], now: datetime, end: datetime
) -> dict[int, tuple[int, int]]:
    """For each deck with due cards: (learning cards due by `now`, reviews due before `end`)."""
    placeholders, ids = _id_list(deck_ids)
    memories = MEMORIES.format(scope=f"m.deck_id IN ({placeholders})")
    sql = _due_counts_sql(memories, group="m.deck_id, ") + " GROUP BY m.deck_id"
    rows = _rows(sql, _params(user_id, None, now=now, end=end) | ids)
    return {deck_id: (learning, review) for deck_id, learning, review in rows}


def new_cards_by_deck(user_id: int, deck_ids: list[int], limit: int) -> dict[int, int]:
    """For each deck, its new cards counted up to `limit`, from the end of the deck (as in
    snapshot), so that a big deck costs no more than a small one."""
    placeholders, ids = _id_list(deck_ids)
    new_cards = _new_cards_sql("c.deck_id = d.id", "1", "c.position DESC")
    sql = f"""
        SELECT d.id, (SELECT COUNT(*) FROM ({new_cards}) new)
        FROM cards_deck d WHERE d.id IN ({placeholders})"""
    return dict(_rows(sql, _params(user_id, None, limit=limit) | ids))


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
        SELECT {columns(MemoryState, "m")}, {columns(Card, "c")}
        FROM cards_memorystate m JOIN cards_card c ON c.id = m.card_id
        WHERE m.user_id = %(user)s AND m.card_id = %(card)s AND c.deck_id IN ({VISIBLE_DECKS})"""
    rows = _rows(sql, _params(user_id, None, card=card_id))
    return _memory_and_card(rows[0], with_deck=False) if rows else None
