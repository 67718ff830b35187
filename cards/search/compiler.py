"""A search tree as a filter over the cards one user may see.

Per-learner terms (is:, flag:, prop:, rated:, introduced:) are `id IN (card ids of the
user's matching MemoryState or ReviewLog rows)`, uncorrelated, so each runs once from the
user's indexes; negation is NOT IN, and a card never studied — no memory state — takes the
values Anki gives a new card (no flag, 0 reviews, interval 0).
Times are the user's study days (cards/services/settings.study_day_bounds), as Anki counts
"today" from its day rollover. Deck names are matched in Python over the user's visible decks
(one query), so deck: folds case and accents the same way on both databases.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.db.models import F, Min, Q, Value

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import State, learn_ahead_cutoff, study_day_start
from cards.search import nodes
from cards.search.fold import fold
from cards.search.patterns import like_pattern, literal_text, matches_name, tag_regex
from cards.search.sql import TagsMatch, TextLike, WholeDaysBetween, rare_in_sqlite
from cards.services.settings import get_study_settings, study_day_bounds
from cards.services.stats.sql import DaysBetween

LEARNING = (State.LEARNING, State.RELEARNING)
# An interval is whole study days from the last review to the due day start; the difference
# of the two instants is in (ivl - 1, ivl], give or take an hour of DST (see _interval).
_DST_SLACK = 0.05


def visible_decks(user):
    """Decks the user may see: their own, the public ones, and for staff the site's."""
    q = Q(owner=user) | Q(is_public=True)
    if user.is_staff:
        q |= Q(owner__isnull=True)
    return Deck.objects.filter(q)


@dataclass
class Context:
    user: object
    now: datetime
    day: date
    start: datetime
    end: datetime
    ahead: datetime
    timezone: str
    day_start_hour: int
    decay: float
    _decks: list | None = field(default=None, repr=False)
    # The decks a text term need read: those of a deck: term beside it (see _and).
    text_decks: list[int] | None = None

    @classmethod
    def of(cls, user, now: datetime) -> Context:
        settings = get_study_settings(user)
        day, start, end = study_day_bounds(settings, now)
        parameters = settings.fsrs_parameters
        return cls(
            user=user,
            now=now,
            day=day,
            start=start,
            end=end,
            ahead=learn_ahead_cutoff(now, settings.learn_ahead_minutes),
            timezone=settings.timezone,
            day_start_hour=settings.day_start_hour,
            decay=parameters[20] if len(parameters) > 20 else 0.5,
        )

    def day_start(self, offset: int) -> datetime:
        """The start of the study day `offset` days from today."""
        day = self.day + timedelta(days=offset)
        return study_day_start(day, self.timezone, self.day_start_hour)

    def decks(self) -> list:
        if self._decks is None:
            visible = visible_decks(self.user).order_by()
            self._decks = list(visible.values_list("pk", "name"))
        return self._decks


def compile_node(node: nodes.Node, ctx: Context) -> Q:
    return _COMPILERS[type(node)](node, ctx)


def _and(node, ctx):
    """A deck: term limits the text terms beside it to its decks: a card elsewhere fails the
    deck: term whatever its text, so the text of the other decks need not be read
    (deck:French* (chat or chien): a quarter of the folded rows on SQLite)."""
    narrowed = ctx
    for child in node.children:
        if isinstance(child, nodes.Deck) and literal_text(child.value) != "*":
            ids = [pk for pk, name in ctx.decks() if matches_name(child.value, name)]
            if ids:
                known = narrowed.text_decks
                ids = ids if known is None else [pk for pk in ids if pk in known]
                narrowed = replace(narrowed, text_decks=ids or [0])
    q = Q()
    for child in node.children:
        q &= compile_node(child, narrowed)
    return q


def _or(node, ctx):
    """Words joined by `or` (escaped alike) are one text condition: SQLite then reads each
    visible card's folded text once, not once a word ((chat or chien): 2 scans → 1)."""
    words: dict[bool, list[tuple[str, bool]]] = {}
    others = []
    for child in node.children:
        if isinstance(child, nodes.Text):
            pattern = like_pattern(child.value, contains=True)
            words.setdefault(pattern[1], []).append(pattern)
        else:
            others.append(compile_node(child, ctx))
    parts = [_like(ctx, TEXT_COLUMNS, patterns) for patterns in words.values()] + others
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def _not(node, ctx):
    return ~compile_node(node.child, ctx)


TEXT_COLUMNS = ("question", "answer")


def _text(node, ctx):
    return _like(ctx, TEXT_COLUMNS, [like_pattern(node.value, contains=True)])


def _field_text(node, ctx):
    # Never probed: FTS5 checks an anchored pattern (`chat%`) row by row over every
    # trigram match of all users (33 ms at 20 users × 20,000 cards) to count the matches.
    return _like(ctx, (node.field,), [like_pattern(node.value, contains=False)], probe=False)


def _like(ctx, columns, patterns: list[tuple[str, bool]], probe=True) -> Q:
    """Any of `patterns` ((pattern, escaped) pairs, all escaped alike)."""
    escaped = patterns[0][1]
    texts = [pattern for pattern, _ in patterns]
    # Each pattern probed, whatever the first says: the same queries whatever the data.
    few = probe and all([rare_in_sqlite(columns, text, escaped) for text in texts])
    return Q(TextLike(columns, texts, escaped, decks=_decks_sql(ctx), few=few))


def _decks_sql(ctx):
    """The SQL of the user's visible decks' ids (the same as visible_cards'), for the SQLite
    text terms to read only those decks' folded rows; of fewer when a deck: term allows."""
    if ctx.text_decks is not None:
        return ", ".join(["%s"] * len(ctx.text_decks)), tuple(ctx.text_decks)
    return visible_decks(ctx.user).order_by().values("pk").query.sql_with_params()


def _deck(node, ctx):
    if literal_text(node.value) == "*":
        return Q()
    return Q(deck_id__in=[pk for pk, name in ctx.decks() if matches_name(node.value, name)])


def _tag(node, ctx):
    if node.value.lower() == "none":
        return Q(tags__regex=r"^ *$")
    runs = re.split(r"[*_\\%]", literal_text(node.value))
    hint = fold(max(runs, key=len))
    return Q(TagsMatch(tag_regex(node.value), hint=hint, decks=_decks_sql(ctx)))


def _cards_of(rows) -> Q:
    """Cards among `rows`' card ids: one uncorrelated subquery, which both databases run once
    (from the user's index) rather than once per card."""
    return Q(pk__in=rows.values("card_id"))


def _memory(ctx, *args, **kwargs) -> Q:
    return _cards_of(MemoryState.objects.filter(*args, user=ctx.user, **kwargs))


def _buried(ctx) -> Q:
    return Q(buried_until__gt=ctx.now)


def _state(node, ctx):
    kind = node.kind
    if kind == "new":
        return ~_memory(ctx, ~Q(state=State.NEW))
    if kind == "learn":
        return Q(_memory(ctx, state__in=LEARNING))
    if kind == "review":
        return Q(_memory(ctx, state__in=(State.REVIEW, State.RELEARNING)))
    if kind == "suspended":
        return Q(suspended=True) | Q(_memory(ctx, suspended=True))
    if kind == "buried":
        return Q(_memory(ctx, _buried(ctx)))
    if kind == "leech":
        return Q(_memory(ctx, leech=True))
    # due: in the queue today (Anki's review and day-learning cards due by today, learning
    # cards due by the learn-ahead limit), neither suspended nor buried.
    due = Q(state=State.REVIEW, due__lt=ctx.end) | Q(state__in=LEARNING, due__lte=ctx.ahead)
    return Q(_memory(ctx, due, ~_buried(ctx), studyable=True, suspended=False))


def _flag(node, ctx):
    if node.flag == 0:
        return ~_memory(ctx, ~Q(flag=0))
    return Q(_memory(ctx, flag=node.flag))


def _compare(value, op: str, target) -> bool:
    return {
        "<": value < target,
        "<=": value <= target,
        "=": value == target,
        "!=": value != target,
        ">": value > target,
        ">=": value >= target,
    }[op]


def _lookup(name: str, op: str, value) -> Q:
    """`name op value` as a Q; != is the negation of =."""
    if op == "!=":
        return ~Q(**{name: value})
    suffix = {"<": "lt", "<=": "lte", "=": "exact", ">": "gt", ">=": "gte"}[op]
    return Q(**{f"{name}__{suffix}": value})


def _counter(ctx, name: str, op: str, value) -> Q:
    """prop:reps / prop:lapses: a card never studied counts 0."""
    q = Q(_memory(ctx, _lookup(name, op, value)))
    if _compare(0, op, value):
        q |= ~_memory(ctx)
    return q


def _prop(node, ctx):
    kind, op, value = node.kind, node.op, node.value
    if kind in ("reps", "lapses"):
        return _counter(ctx, kind, op, value)
    if kind == "ivl":
        return _interval(ctx, op, value)
    if kind == "due":
        return _due(ctx, op, int(value))
    if kind == "s":
        return Q(_memory(ctx, ~Q(state=State.NEW), _lookup("stability", op, value)))
    if kind == "d":  # Anki's prop:d is 0–1 for FSRS difficulty 1–10
        return Q(_memory(ctx, ~Q(state=State.NEW), _lookup("difficulty", op, value * 9 + 1)))
    return _retrievability(ctx, op, value)


def _interval(ctx, op, ivl) -> Q:
    """prop:ivl: a review card's interval in study days, 0 for new and learning cards."""
    # ivl >= N  <=>  days(last_review, due) > N - 1 + slack, and so on.
    bounds = {
        "<": ("lte", ivl - 1 + _DST_SLACK),
        "<=": ("lte", ivl + _DST_SLACK),
        ">": ("gt", ivl + _DST_SLACK),
        ">=": ("gt", ivl - 1 + _DST_SLACK),
    }
    if op in ("=", "!="):
        span = Q(span__gt=ivl - 1 + _DST_SLACK, span__lte=ivl + _DST_SLACK)
    else:
        lookup, limit = bounds[op]
        span = Q(**{f"span__{lookup}": limit})
    reviews = MemoryState.objects.filter(user=ctx.user, state=State.REVIEW).alias(
        span=DaysBetween(F("last_review"), F("due"))
    )
    q = _cards_of(reviews.filter(span if op != "!=" else ~span))
    if _compare(0, op, ivl):
        q |= ~Q(_memory(ctx, state=State.REVIEW))
    return q


def _due(ctx, op, days) -> Q:
    """prop:due: days from today to the due day of a card in the queue (review, learning)."""
    first, after = ctx.day_start(days), ctx.day_start(days + 1)
    window = {
        "<": Q(due__lt=first),
        "<=": Q(due__lt=after),
        "=": Q(due__gte=first, due__lt=after),
        "!=": Q(due__lt=first) | Q(due__gte=after),
        ">": Q(due__gte=after),
        ">=": Q(due__gte=first),
    }[op]
    return Q(_memory(ctx, window, ~Q(state=State.NEW), ~_buried(ctx), suspended=False))


def _retrievability(ctx, op, r) -> Q:
    """prop:r: today's recall probability, R = (1 + f·t/S)^-decay with t in whole days as the
    scheduler counts them. R falls as t/S grows, so `R op r` is `t op' k(r)·S`."""
    factor = 0.9 ** (-1.0 / ctx.decay) - 1.0

    def k(target: float) -> float:  # t/S at which R = target
        return math.inf if target <= 0 else (target ** (-1.0 / ctx.decay) - 1.0) / factor

    if op in ("=", "!="):  # equal to two decimals: R in [r - 0.005, r + 0.005)
        low, high = k(r + 0.005), k(r - 0.005)
        match = Q(elapsed__gt=F("stability") * low) & _upto(high)
        match = match if op == "=" else ~match
    else:
        inverse = {"<": "gt", "<=": "gte", ">": "lt", ">=": "lte"}[op]
        limit = k(r)
        if math.isinf(limit):
            match = Q() if inverse in ("lt", "lte") else Q(pk=None)
        else:
            match = Q(**{f"elapsed__{inverse}": F("stability") * limit})
    reviewed = MemoryState.objects.filter(
        user=ctx.user,
        stability__gt=0,
        last_review__isnull=False,
    ).exclude(state=State.NEW)
    reviewed = reviewed.alias(elapsed=WholeDaysBetween(F("last_review"), Value(ctx.end)))
    return _cards_of(reviewed.filter(match))


def _upto(limit: float) -> Q:
    return Q() if math.isinf(limit) else Q(elapsed__lte=F("stability") * limit)


def _logs(ctx, *args, **kwargs) -> Q:
    return _cards_of(ReviewLog.objects.filter(*args, user=ctx.user, **kwargs))


def _rated(node, ctx):
    since = ctx.day_start(1 - node.days)
    extra = {"grade": node.ease} if node.ease is not None else {}
    return Q(_logs(ctx, reviewed_at__gte=since, **extra))


def _introduced(node, ctx):
    """First reviewed on or after the day N-1 days ago: the cards whose earliest log is since
    then, grouped from reviewlog_user_card_time alone (a log before and one after, as two
    lists, read every old log's row for its card id: 32 → 17 ms at 20,000 cards, SQLite)."""
    since = ctx.day_start(1 - node.days)
    logs = ReviewLog.objects.filter(user=ctx.user).values("card_id")
    return _cards_of(logs.annotate(first=Min("reviewed_at")).filter(first__gte=since))


def _added(node, ctx):
    return Q(created_at__gte=ctx.day_start(1 - node.days))


def _edited(node, ctx):
    return Q(updated_at__gte=ctx.day_start(1 - node.days))


def _card_ids(node, ctx):
    return Q(pk__in=node.ids)


_COMPILERS = {
    nodes.And: _and,
    nodes.Or: _or,
    nodes.Not: _not,
    nodes.Text: _text,
    nodes.FieldText: _field_text,
    nodes.Deck: _deck,
    nodes.Tag: _tag,
    nodes.State: _state,
    nodes.Flag: _flag,
    nodes.Prop: _prop,
    nodes.Rated: _rated,
    nodes.Introduced: _introduced,
    nodes.Added: _added,
    nodes.Edited: _edited,
    nodes.CardIds: _card_ids,
}


def scans_text(node: nodes.Node | None) -> bool:
    """Whether the search reads the cards' text (words, front:/back:, tag:), the part of a
    search that costs by the size of the user's collection (browse.page_of's one_pass)."""
    if isinstance(node, (nodes.Text, nodes.FieldText, nodes.Tag)):
        return True
    if isinstance(node, (nodes.And, nodes.Or)):
        return any(scans_text(child) for child in node.children)
    return isinstance(node, nodes.Not) and scans_text(node.child)


def search_q(user, node: nodes.Node | None, now: datetime) -> Q:
    """The filter of a parsed query (None: every card), visibility not included."""
    if node is None:
        return Q()
    return compile_node(node, Context.of(user, now))


def visible_cards(user):
    """deck_id IN (the visible decks): each deck's cards by index card_deck_position, where
    a join on "owner or public" scanned every card of every user."""
    return Card.objects.filter(deck_id__in=visible_decks(user).order_by().values("pk"))
