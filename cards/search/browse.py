"""The card browser's listing: a search's cards sorted by a column, a page at a time.

Pages are keyset pages (WHERE (key, id) > (last key, last id) ORDER BY key, id LIMIT n), so
page 400 costs what page 1 costs; the cursor is the last row's key and id. A sort on a
per-learner column (due, interval, S, D, R, lapses, reviews) reads that value through a
subquery on the user's memory state, with a card never studied given a fixed stand-in, so
every card has a key and no row is skipped or repeated between pages.

The page's memory states come in one query and the columns are computed in Python, so a page
costs the same queries whatever the collection's size.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Count, F, FloatField, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce, Lower

from cards.models import MemoryState
from cards.scheduling import State, study_day
from cards.scheduling.policy import elapsed_days_anki, forgetting_curve
from cards.search.compiler import Context
from cards.search.sql import WholeDaysBetween
from cards.services.stats.sql import DaysBetween

PAGE_SIZE = 50
COUNT_LIMIT = 10_000
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
SORTS = {
    # name: (label, default direction)
    "question": ("Question", "asc"),
    "deck": ("Deck", "asc"),
    "due": ("Due", "asc"),
    "interval": ("Interval", "desc"),
    "stability": ("S", "desc"),
    "difficulty": ("D", "desc"),
    "retrievability": ("R", "asc"),
    "lapses": ("Lapses", "desc"),
    "reviews": ("Reviews", "desc"),
    "added": ("Added", "desc"),
    "edited": ("Edited", "desc"),
}
DEFAULT_SORT = "added"


def _memory(user, value):
    return Subquery(MemoryState.objects.filter(user=user, card=OuterRef("pk")).values(value)[:1])


def sort_key(name: str, ctx: Context):
    """The expression a column sorts by; every card has a value (see the module docstring)."""
    user = ctx.user
    if name == "question":
        return Lower("question")
    if name == "deck":
        return Lower("deck__name")
    if name == "added":
        return F("created_at")
    if name == "edited":
        return F("updated_at")
    if name in ("lapses", "reviews"):
        return Coalesce(_memory(user, "lapses" if name == "lapses" else "reps"), Value(0))
    if name == "due":  # new cards (no due day) last
        studied = MemoryState.objects.filter(user=user, card=OuterRef("pk")).exclude(
            state=State.NEW
        )
        return Coalesce(Subquery(studied.values("due")[:1]), Value(FAR_FUTURE))
    if name in ("stability", "difficulty"):
        return Coalesce(_memory(user, name), Value(-1.0), output_field=FloatField())
    if name == "interval":  # days from the last review to the due day, review cards only
        reviews = MemoryState.objects.filter(user=user, card=OuterRef("pk"), state=State.REVIEW)
        span = reviews.annotate(span=DaysBetween(F("last_review"), F("due"))).values("span")
        return Coalesce(Subquery(span[:1]), Value(0.0), output_field=FloatField())
    # retrievability falls as elapsed days / S grows: sort by that ratio, reversed.
    reviewed = MemoryState.objects.filter(
        user=user, card=OuterRef("pk"), stability__gt=0, last_review__isnull=False
    ).exclude(state=State.NEW)
    ratio = reviewed.annotate(
        ratio=-WholeDaysBetween(F("last_review"), Value(ctx.end)) / F("stability")
    ).values("ratio")
    return Coalesce(Subquery(ratio[:1]), Value(1.0), output_field=FloatField())


def encode_cursor(value, pk: int) -> str:
    if isinstance(value, datetime):
        value = {"t": value.astimezone(UTC).isoformat()}
    return json.dumps([value, pk], separators=(",", ":"))


_KEY_TYPES = {
    "question": str, "deck": str, "due": datetime, "added": datetime, "edited": datetime,
    "lapses": int, "reviews": int,
}  # fmt: skip
_BIGINT = 2**63 - 1


def decode_cursor(text: str, sort: str):
    """(key, pk) from a cursor made for this sort, or None when it is not one (then: the
    first page) — a hand-made cursor must never reach the database as a wrong type."""
    try:
        value, pk = json.loads(text)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
            if value.tzinfo is None:
                return None
    except (ValueError, TypeError, KeyError):
        return None
    expected = _KEY_TYPES.get(sort, float)
    if expected is float and type(value) is int:
        value = float(value)
    if type(pk) is not int or not 0 <= pk <= _BIGINT or type(value) is not expected:
        return None
    if expected is int and not -_BIGINT <= value <= _BIGINT:
        return None
    if expected is float and not math.isfinite(value):
        return None
    if expected is str and "\x00" in value:
        return None
    return value, pk


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    total: int
    total_capped: bool


_NOT_SHOWN = ("question_html", "answer_html", "imported_question", "imported_answer")


def page_of(
    cards, ctx: Context, sort: str, descending: bool, cursor: str | None, one_pass=False
) -> Page:
    """One page of `cards` (a filtered queryset): 2 queries (the count; the page, its ids a
    subquery) plus one for the page's memory states.

    `one_pass` (a first page of a search that reads text: scans_text): the count comes with
    the page's ids, COUNT(*) OVER (), so the text is scanned once, not twice (a common word
    over 25,000 cards: 29 ms → 17 ms on SQLite), and the page's rows are a query of their
    own. Not for other searches: there every matching id then goes through the window, where
    the page alone keeps the top 51, and a separate count is cheap."""
    key = sort_key(sort, ctx)
    listed = cards.alias(sort_key=key)
    after = decode_cursor(cursor, sort) if cursor else None
    one_pass = one_pass and after is None
    if not one_pass:
        total = listed.order_by()[: COUNT_LIMIT + 1].count()
    if after is not None:
        value, pk = after
        if descending:
            listed = listed.filter(Q(sort_key__lt=value) | Q(sort_key=value, pk__lt=pk))
        else:
            listed = listed.filter(Q(sort_key__gt=value) | Q(sort_key=value, pk__gt=pk))
    order = ("-sort_key", "-pk") if descending else ("sort_key", "pk")
    # The page's ids are chosen first, sorting only (key, id) — from an index when the key
    # and the filter are there (card_deck_created) — and the page's rows are read after: a
    # sort carrying whole card rows through thousands of matches cost more than the search.
    ordered = listed.order_by(*order)
    if one_pass:
        counted = ordered.annotate(total_found=Window(Count("*")))
        found = list(counted.values_list("pk", "total_found")[: PAGE_SIZE + 1])
        total = found[0][1] if found else 0
        chosen = [pk for pk, _ in found]
    else:
        chosen = ordered.values("pk")[: PAGE_SIZE + 1]  # a subquery of the page's query
    # The stored HTML and import copies are not shown: not read.
    page = cards.model.objects.filter(pk__in=chosen).select_related("deck").defer(*_NOT_SHOWN)
    page = page.alias(sort_key=key).annotate(sort_value=key)
    cards_page = list(page.order_by(*order))
    more = len(cards_page) > PAGE_SIZE
    cards_page = cards_page[:PAGE_SIZE]
    next_cursor = None
    if more:
        last = cards_page[-1]
        next_cursor = encode_cursor(last.sort_value, last.pk)
    return Page(
        rows=rows_for(cards_page, ctx),
        next_cursor=next_cursor,
        total=min(total, COUNT_LIMIT),
        total_capped=total > COUNT_LIMIT,
    )


@dataclass
class Row:
    card: object
    memory: MemoryState | None
    due: datetime | None
    due_day: date | None  # the study day it is due on, as Anki shows a due date
    interval: int | None
    retrievability: float | None

    @property
    def difficulty_percent(self):
        """Anki shows FSRS difficulty 1–10 as 0–100%."""
        if self.memory is None or self.memory.difficulty is None:
            return None
        return round((self.memory.difficulty - 1) / 9 * 100)


def rows_for(cards: list, ctx: Context) -> list[Row]:
    memories = {
        memory.card_id: memory
        for memory in MemoryState.objects.filter(user=ctx.user, card__in=[c.pk for c in cards])
    }
    rows = []
    for card in cards:
        memory = memories.get(card.pk)
        studied = memory is not None and memory.state != State.NEW
        interval = None
        if studied and memory.state == State.REVIEW and memory.last_review is not None:
            last_day = study_day(memory.last_review, ctx.timezone, ctx.day_start_hour)
            due_day = study_day(memory.due, ctx.timezone, ctx.day_start_hour)
            interval = (due_day - last_day).days
        r = None
        if studied and memory.stability and memory.last_review is not None:
            elapsed = elapsed_days_anki(memory.last_review, ctx.end)
            r = forgetting_curve(elapsed, memory.stability, ctx.decay)
        due = memory.due if studied else None
        due_day = study_day(due, ctx.timezone, ctx.day_start_hour) if due else None
        rows.append(Row(card, memory, due, due_day, interval, r))
    return rows
