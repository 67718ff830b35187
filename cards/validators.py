"""Reusable field validators: the one definition of what a stored value may be.

Attached to the model fields, so that every path that calls full_clean() — forms, the admin,
the JSON data import, the revlog import, restore_site — checks the same rules.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# Column limits of the integer fields (PostgreSQL's; SQLite would store anything).
SMALLINT_MAX = 32767
INT_MAX = 2**31 - 1

# Learning and relearning steps, in seconds.
MAX_STEPS = 10
MAX_STEP_SECONDS = 30 * 86400

DESIRED_RETENTION_RANGE = (0.70, 0.99)
DAY_START_HOUR_RANGE = (0, 23)
LEARN_AHEAD_MINUTES_RANGE = (0, 1440)
MAXIMUM_INTERVAL_RANGE = (1, 36500)
NEW_CARDS_PER_DAY_RANGE = (0, 9999)
REVIEWS_PER_DAY_RANGE = (0, 99999)
# Lapses after which a card is a leech (Anki's leech threshold; 0 turns the check off).
LEECH_THRESHOLD_RANGE = (0, 999)
# Anki's flags: 0 none, 1 red … 7 purple.
FLAG_RANGE = (0, 7)
# How far custom study looks back or ahead, in days, and how many cards one session holds.
CUSTOM_STUDY_DAYS_RANGE = (1, 365)
CUSTOM_STUDY_CARDS_RANGE = (1, 9999)
# How far today's limits can be raised at once (custom study).
LIMIT_BOOST_RANGE = (1, 9999)

# FSRS-6 memory bounds (fsrs-rs clamps stability to [S_MIN, S_MAX] and difficulty to [1, 10]).
STABILITY_RANGE = (0.001, 36500.0)
DIFFICULTY_RANGE = (1.0, 10.0)

FSRS_PARAMETER_COUNT = 21
# fsrs-rs clamps every weight into a range inside this one; w20 (the decay) must stay off 0,
# since the forgetting curve divides by it.
FSRS_PARAMETER_RANGE = (0.0, 100.0)
FSRS_DECAY_RANGE = (0.1, 0.8)

# Any stored instant: after the epoch, and before any due date a 100-year interval can reach.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# How far a review may lie ahead of the server's clock (another device's clock, a slow upload).
REVIEW_CLOCK_SKEW = timedelta(days=1)

no_nul = ProhibitNullCharactersValidator(message="must not contain NUL characters")


def ranged(low, high) -> list:
    """[MinValueValidator(low), MaxValueValidator(high)] with one message naming both ends."""
    message = f"must be between {low} and {high}"
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]


def validate_finite(value) -> None:
    """NaN passes every comparison and inf breaks the maths: a float field must be finite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError("must be a finite number, not %(value)s", params={"value": value})


@cache
def time_zone_names() -> frozenset[str]:
    # "localtime" is the server's own zone and "Factory" no real place: neither means a user's.
    return frozenset(available_timezones() - {"localtime", "Factory"})


def validate_time_zone(value) -> None:
    """An IANA zone name from the tz database. The set, not ZoneInfo(value): ZoneInfo reads
    any file a path-like key points to."""
    if not isinstance(value, str) or value not in time_zone_names():
        raise ValidationError(
            "%(value)r is not a time zone (use an IANA name such as Europe/Paris)",
            code="invalid_time_zone",
            params={"value": value},
        )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_fsrs_parameters(value) -> None:
    """A list of 21 finite FSRS-6 weights, each in the range the scheduler can use."""
    if not isinstance(value, list) or len(value) != FSRS_PARAMETER_COUNT:
        got = f"{len(value)} values" if isinstance(value, list) else type(value).__name__
        raise ValidationError(
            "must be a list of %(count)s numbers (FSRS-6 weights), got %(got)s",
            code="invalid_parameters",
            params={"count": FSRS_PARAMETER_COUNT, "got": got},
        )
    for index, weight in enumerate(value):
        low, high = FSRS_DECAY_RANGE if index == 20 else FSRS_PARAMETER_RANGE
        if not _is_number(weight) or not math.isfinite(weight) or not low <= weight <= high:
            raise ValidationError(
                "weight %(index)s must be a number between %(low)s and %(high)s, not %(value)r",
                code="invalid_parameters",
                params={"index": index, "low": low, "high": high, "value": weight},
            )


def validate_steps(value) -> None:
    """Learning or relearning steps: a list of at most 10 whole seconds, each 1 s to 30 days."""
    if not isinstance(value, list):
        raise ValidationError(
            "must be a list of steps in seconds, not %(type)s",
            code="invalid_steps",
            params={"type": type(value).__name__},
        )
    if len(value) > MAX_STEPS:
        raise ValidationError(
            "must have at most %(max)s steps", code="invalid_steps", params={"max": MAX_STEPS}
        )
    for step in value:
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= MAX_STEP_SECONDS:
            raise ValidationError(
                "each step must be a whole number of seconds from 1 to %(max)s (30 days), "
                "not %(value)r",
                code="invalid_steps",
                params={"max": MAX_STEP_SECONDS, "value": step},
            )


def validate_instant(value) -> None:
    """A stored time: aware, from 1970 up to 2200."""
    aware = isinstance(value, datetime) and timezone.is_aware(value)
    if aware and not EARLIEST <= value < LATEST:
        raise ValidationError(
            "%(value)s is outside 1970–2199", code="out_of_range", params={"value": value}
        )


def validate_not_future(value) -> None:
    """A review cannot have happened more than a day ahead of the server's clock."""
    aware = isinstance(value, datetime) and timezone.is_aware(value)
    if aware and value > timezone.now() + REVIEW_CLOCK_SKEW:
        raise ValidationError("%(value)s is in the future", code="future", params={"value": value})


_SNAPSHOT_INTS = {"state": (0, 3), "reps": (0, INT_MAX), "lapses": (0, INT_MAX),
                  "version": (0, INT_MAX)}  # fmt: skip


def _snapshot_problem(value: dict) -> str | None:
    if not value.get("exists"):
        return None  # the card was new: undo needs nothing else
    for key, (low, high) in _SNAPSHOT_INTS.items():
        item = value.get(key)
        if key == "version" and item is None:
            continue  # imported revlogs keep no version
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            return f"{key} must be a whole number from {low} to {high}"
    step = value.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
        return "step must be null or a whole number"
    for key in ("stability", "difficulty"):
        item = value.get(key)
        if item is not None and (not _is_number(item) or not math.isfinite(item)):
            return f"{key} must be null or a finite number"
    for key, required in (("due", True), ("last_review", False)):
        item = value.get(key)
        if item is None and not required:
            continue
        try:
            moment = datetime.fromisoformat(item) if isinstance(item, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            return f"{key} must be an ISO 8601 time with its offset"
    return None


def validate_state_snapshot(value) -> None:
    """ReviewLog.before: the memory state before a review, as undo reads it back."""
    if not isinstance(value, dict):
        raise ValidationError(
            "must be an object, not %(type)s",
            code="invalid_snapshot",
            params={"type": type(value).__name__},
        )
    problem = _snapshot_problem(value)
    if problem:
        raise ValidationError("%(problem)s", code="invalid_snapshot", params={"problem": problem})


@deconstructible
class CardTextLengthValidator:
    """At most settings.CARD_TEXT_MAX_CHARS characters; read at call time so that changing
    the setting needs no migration."""

    code = "max_length"

    def __call__(self, value) -> None:
        limit = settings.CARD_TEXT_MAX_CHARS
        if isinstance(value, str) and len(value) > limit:
            raise ValidationError(
                "must be at most %(limit)s characters (CARD_TEXT_MAX_CHARS; it has %(length)s)",
                code=self.code,
                params={"limit": limit, "length": len(value)},
            )

    def __eq__(self, other):
        return isinstance(other, CardTextLengthValidator)
