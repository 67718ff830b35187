"""Study days: calendar days in the user's time zone that begin at a configurable local hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DAY_START_HOUR = 4  # Anki's default "next day starts at" hour


@lru_cache(maxsize=64)
def get_zone(tz: str) -> ZoneInfo:
    """Return the IANA zone, turning an unknown name into a ValueError."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"timezone: unknown IANA time zone {tz!r}") from exc


def require_aware(moment: datetime, name: str = "datetime") -> datetime:
    """Reject naive datetimes (their meaning depends on the server's clock) and return UTC."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC)


def _check_hour(day_start_hour: int) -> None:
    if not 0 <= day_start_hour <= 23:
        raise ValueError(f"day_start_hour must be 0-23, got {day_start_hour!r}")


def study_day(moment: datetime, tz: str, day_start_hour: int = DEFAULT_DAY_START_HOUR) -> date:
    """The study day `moment` belongs to: local wall time shifted back by the day-start hour."""
    _check_hour(day_start_hour)
    local = require_aware(moment, "moment").astimezone(get_zone(tz))
    # Wall-clock arithmetic on purpose: 03:00 local with a 04:00 start is still "yesterday".
    return (local.replace(tzinfo=None) - timedelta(hours=day_start_hour)).date()


def study_day_start(day: date, tz: str, day_start_hour: int = DEFAULT_DAY_START_HOUR) -> datetime:
    """Aware UTC instant at which study day `day` begins.

    fold=0 makes zoneinfo read a nonexistent local time (DST gap) with the pre-gap offset,
    which lands on the instant just after the gap, i.e. the start rolls forward.
    """
    _check_hour(day_start_hour)
    local = datetime.combine(day, time(day_start_hour), tzinfo=get_zone(tz)).replace(fold=0)
    return local.astimezone(UTC)


def elapsed_days(
    previous: datetime, now: datetime, tz: str, day_start_hour: int = DEFAULT_DAY_START_HOUR
) -> int:
    """Number of study-day boundaries crossed between two moments (negative if now < previous)."""
    return (study_day(now, tz, day_start_hour) - study_day(previous, tz, day_start_hour)).days
