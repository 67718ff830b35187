"""Custom study, as Anki's (rslib scheduler/filtered/custom_study.rs): raise today's limits, or
start a session of cards a search picks.

Anki builds a filtered deck from a search, always adding `-is:suspended -is:buried`:
- review forgotten cards: `rated:N:1` (answered Again in the last N days), random order,
  no rescheduling;
- review ahead: `prop:due<=N` (review and day-learning cards due within N days, today
  included; intraday learning cards due before the next day start + N days), due order,
  rescheduled;
- preview new cards: `is:new added:N` (added in the last N days), in the order added, no
  rescheduling;
- cram (Anki's "all cards in random order (don't reschedule)"): every card of the deck with
  the tag if one is given, random order, at most the card limit, no rescheduling.
"The last N days" ends at the next day start: N = 1 is today. Here the cards are those the
user may see (their decks and the public ones, or one of them), with an answer, not suspended
or buried by the user. tests/scheduling/test_anki_custom_study.py builds the same collection in
Anki and compares what each mode picks.

Raising the limits is Anki's NewLimitDelta / ReviewLimitDelta: today's counts of new cards and
reviews done are lowered by the boost (rslib decks/stats.rs extend_limits), so a new-card
boost also widens the review limit that caps new cards (queue._limits applies it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from cards import validators as v
from cards.models import Card, CustomStudySession, Deck, MemoryState, ReviewLog
from cards.scheduling import Grade, State, study_day, study_day_start

from .settings import get_study_settings, study_day_bounds

NEW_LIMIT, REVIEW_LIMIT = "new_limit", "review_limit"
FORGOT, AHEAD, PREVIEW, CRAM = (
    CustomStudySession.FORGOT,
    CustomStudySession.AHEAD,
    CustomStudySession.PREVIEW,
    CustomStudySession.CRAM,
)
# Which session modes change the cards' schedules (Anki's `reschedule` of each search).
RESCHEDULES = {FORGOT: False, AHEAD: True, PREVIEW: False, CRAM: False}
# The most cards one session holds (Anki's search limit is 99,999; ours is the cram maximum).
MAX_CARDS = v.CUSTOM_STUDY_CARDS_RANGE[1]
# Anki's custom study dialog starts at these.
DEFAULTS = {NEW_LIMIT: 10, REVIEW_LIMIT: 50, FORGOT: 1, AHEAD: 1, PREVIEW: 1, CRAM: 100}
NO_CARDS = "No cards match these criteria."


class CustomStudyError(ValueError):
    """A custom study request that cannot be carried out; the message is fit to show."""


@dataclass(frozen=True)
class Scope:
    """Where a search looks: one deck, or every deck the user may see (deck None)."""

    user: object
    deck: Deck | None
    now: datetime


def _decks(scope: Scope):
    if scope.deck is not None:
        return Deck.objects.filter(pk=scope.deck.pk).filter(Q(owner=scope.user) | Q(is_public=True))
    return Deck.objects.visible_to(scope.user)


def eligible_cards(scope: Scope):
    """Anki's `-is:suspended -is:buried` on the cards the user may study: answered, not
    suspended by the deck's owner, and not suspended or buried (until the day ends) by them."""
    marked = MemoryState.objects.filter(user=scope.user).filter(
        Q(suspended=True) | Q(buried_until__gt=scope.now)
    )
    return (
        Card.objects.studyable()
        .filter(deck__in=_decks(scope))
        .exclude(pk__in=marked.values("card_id"))
    )


def _next_day_start(scope: Scope) -> datetime:
    return study_day_bounds(get_study_settings(scope.user), scope.now)[2]


def forgotten_cards(scope: Scope, days: int) -> list[int]:
    """`rated:N:1`: cards answered Again since the day start N days before the next one."""
    since = _next_day_start(scope) - timedelta(days=days)
    forgot = ReviewLog.objects.filter(user=scope.user, grade=Grade.AGAIN, reviewed_at__gte=since)
    cards = eligible_cards(scope).filter(pk__in=forgot.values("card_id"))
    return list(cards.order_by("?").values_list("pk", flat=True)[:MAX_CARDS])


def cards_due_ahead(scope: Scope, days: int) -> list[int]:
    """`prop:due<=N`, in Anki's due order: review and day-learning cards due on a day up to N
    days from today (overdue ones too), placed at now + their days from today; intraday
    learning cards due less than N + 1 days after the next day start, at their due time."""
    settings = get_study_settings(scope.user)
    tz, hour = settings.timezone, settings.day_start_hour
    today = study_day(scope.now, tz, hour)
    next_start = _next_day_start(scope)
    last_day_end = study_day_start(today + timedelta(days=days + 1), tz, hour)
    learning_end = next_start + timedelta(days=days + 1)
    memories = MemoryState.objects.filter(
        user=scope.user,
        card__in=eligible_cards(scope),
        state__in=(State.LEARNING, State.REVIEW, State.RELEARNING),
        due__lt=max(last_day_end, learning_end),
    ).values_list("card_id", "state", "due")
    picked = []
    for card_id, state, due in memories:
        day = study_day(due, tz, hour)
        by_day = state == State.REVIEW or due == study_day_start(day, tz, hour)
        if by_day and due < last_day_end:
            picked.append((scope.now + timedelta(days=(day - today).days), card_id))
        elif not by_day and due < learning_end:
            picked.append((due, card_id))
    picked.sort()
    return [card_id for _, card_id in picked[:MAX_CARDS]]


def new_cards_added(scope: Scope, days: int) -> list[int]:
    """`is:new added:N`: cards the user has not started, added to their deck since the day
    start N days before the next one, in the order they were added."""
    since = _next_day_start(scope) - timedelta(days=days)
    started = MemoryState.objects.filter(user=scope.user).exclude(state=State.NEW)
    cards = eligible_cards(scope).exclude(pk__in=started.values("card_id"))
    cards = cards.filter(created_at__gt=since).order_by("created_at", "pk")
    return list(cards.values_list("pk", flat=True)[:MAX_CARDS])


def clean_tag(tag: str) -> str:
    """One tag as typed (one word, any case); raises CustomStudyError with the reason."""
    tag = (tag or "").strip()
    if any(char.isspace() for char in tag):
        raise CustomStudyError("Give one tag (tags are separated by spaces).")
    if "\x00" in tag or len(tag) > 100:
        raise CustomStudyError("A tag is at most 100 characters.")
    return tag


def cram_cards(scope: Scope, tag: str, limit: int) -> list[int]:
    """Every card in the scope, with `tag` (Anki's `tag:x`: the tag or one under it, `x::y`,
    in any case) if one is given, in random order, at most `limit`."""
    cards = eligible_cards(scope)
    tag = clean_tag(tag)
    if tag:
        padded = Concat(Value(" "), "tags", Value(" "))
        cards = cards.annotate(padded_tags=padded).filter(
            Q(padded_tags__icontains=f" {tag} ") | Q(padded_tags__icontains=f" {tag}::")
        )
    return list(cards.order_by("?").values_list("pk", flat=True)[: min(limit, MAX_CARDS)])


def _in_range(value, bounds: tuple[int, int], what: str) -> int:
    low, high = bounds
    if type(value) is not int or not low <= value <= high:
        raise CustomStudyError(f"{what} must be a whole number from {low} to {high}.")
    return value


def pick_cards(scope: Scope, mode: str, days: int | None = None, tag: str = "", limit=None):
    """The card ids a mode's search picks, in the order the session shows them."""
    if mode == CRAM:
        limit = _in_range(DEFAULTS[CRAM] if limit is None else limit,
                          v.CUSTOM_STUDY_CARDS_RANGE, "The number of cards")  # fmt: skip
        return cram_cards(scope, tag, limit)
    search = {FORGOT: forgotten_cards, AHEAD: cards_due_ahead, PREVIEW: new_cards_added}.get(mode)
    if search is None:
        raise CustomStudyError(f"Unknown custom study mode {mode!r}.")
    days = _in_range(DEFAULTS[mode] if days is None else days, v.CUSTOM_STUDY_DAYS_RANGE, "Days")
    return search(scope, days)


def start_session(
    user, mode: str, deck: Deck | None = None, *, days=None, tag="", limit=None, now=None
) -> CustomStudySession:
    """Replace the user's custom study session with a new one of the cards `mode` picks.
    Raises CustomStudyError (NO_CARDS when nothing matches, as Anki refuses an empty one)."""
    now = now or timezone.now()
    card_ids = pick_cards(Scope(user, deck, now), mode, days, tag, limit)
    if not card_ids:
        raise CustomStudyError(NO_CARDS)
    fields = {
        "mode": mode,
        "deck": deck,
        "tag": clean_tag(tag) if mode == CRAM else "",
        "days": None if mode == CRAM else (days or DEFAULTS[mode]),
        "reschedule": RESCHEDULES[mode],
        "card_ids": card_ids,
        "total": len(card_ids),
        "done": 0,
        "created_at": now,
    }
    session, _ = CustomStudySession.objects.update_or_create(user=user, defaults=fields)
    return session


def raise_limits(user, new: int = 0, reviews: int = 0, now: datetime | None = None):
    """Add to today's new-card and review limits (Anki's NewLimitDelta / ReviewLimitDelta).
    Boosts add up within a study day and lapse when it ends."""
    for amount, what in ((new, "New cards"), (reviews, "Reviews")):
        if amount:
            _in_range(amount, v.LIMIT_BOOST_RANGE, what)
    if not new and not reviews:
        raise CustomStudyError("Raise the new-card limit or the review limit by at least 1.")
    settings = get_study_settings(user)
    day = study_day_bounds(settings, now or timezone.now())[0]
    with transaction.atomic():
        stored = type(settings).objects.select_for_update().get(pk=settings.pk)
        if stored.boost_day != day:
            stored.boost_day, stored.boost_new, stored.boost_reviews = day, 0, 0
        stored.boost_new = min(stored.boost_new + new, v.INT_MAX)
        stored.boost_reviews = min(stored.boost_reviews + reviews, v.INT_MAX)
        stored.save(update_fields=["boost_day", "boost_new", "boost_reviews", "updated_at"])
    for name in ("boost_day", "boost_new", "boost_reviews"):
        setattr(settings, name, getattr(stored, name))
    return settings


def todays_boost(settings, now: datetime) -> tuple[int, int]:
    """(extra new cards, extra reviews) in force at `now`: only on the boost's study day."""
    if not settings.boost_day or not (settings.boost_new or settings.boost_reviews):
        return 0, 0
    if study_day(now, settings.timezone, settings.day_start_hour) != settings.boost_day:
        return 0, 0
    return settings.boost_new, settings.boost_reviews
