"""Time series of the statistics page: reviews per study day, streak, weeks, months, forecast."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    Q,
    Value,
    When,
)

from cards.scheduling.days import study_day_start

from .results import FORECAST_DAYS, PASS_GRADE, RETENTION_MONTHS, RETENTION_WEEKS, REVIEW, Bucket
from .sql import StudyDay


def _daily(logs, tz, hour, start: date, now: datetime) -> dict[date, dict]:
    """Query: reviews per study day since `start` (at most ~400 rows)."""
    since = study_day_start(start, tz, hour)
    until = now + timedelta(days=1)  # a little slack for clocks; later rows are still exact
    rows = (
        logs.filter(reviewed_at__gte=since)
        .annotate(day=StudyDay("reviewed_at", tz, hour, since, until))
        .values("day")
        .annotate(
            reviews=Count("id"),
            review_state=Count("id", filter=Q(state_before=REVIEW)),
            passed=Count("id", filter=Q(state_before=REVIEW, grade__gte=PASS_GRADE)),
        )
        .order_by("day")
    )
    return {row["day"]: row for row in rows}


def _streak(days, today, window_start, logs, tz, hour, first_review) -> int:
    """Study days in a row up to today (or up to yesterday while today is still open)."""
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    if day < window_start:
        # The run fills the whole window: one more query reads the study days before it.
        until = study_day_start(window_start, tz, hour)
        older = set(
            logs.filter(reviewed_at__lt=until)
            .annotate(day=StudyDay("reviewed_at", tz, hour, first_review, until))
            .values_list("day", flat=True)
            .order_by()
            .distinct()
        )
        while day in older:
            streak += 1
            day -= timedelta(days=1)
    return streak


def _weekly(days, today) -> list[Bucket]:
    """The last RETENTION_WEEKS Monday-first weeks, summed from the per-day rows."""
    this_week = today - timedelta(days=today.weekday())
    buckets = []
    for i in range(RETENTION_WEEKS - 1, -1, -1):
        start = this_week - timedelta(weeks=i)
        buckets.append(Bucket(label=f"{start:%b} {start.day}", start=start))
    by_start = {b.start: b for b in buckets}
    for day, row in days.items():
        bucket = by_start.get(day - timedelta(days=day.weekday()))
        if bucket:
            bucket.reviews += row["review_state"]
            bucket.passed += row["passed"]
    return buckets


def _monthly(days, today) -> list[Bucket]:
    first = today.replace(day=1)
    buckets = []
    for i in range(RETENTION_MONTHS - 1, -1, -1):
        start = _add_months(first, -i)
        buckets.append(Bucket(label=f"{start:%b %Y}", start=start))
    by_start = {b.start: b for b in buckets}
    for day, row in days.items():
        bucket = by_start.get(day.replace(day=1))
        if bucket:
            bucket.reviews += row["review_state"]
            bucket.passed += row["passed"]
    return buckets


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _forecast(memories, tz, hour, today, today_start) -> list[tuple[date, int]]:
    """Query: cards falling due per study day for FORECAST_DAYS days; overdue counts today."""
    end = study_day_start(today + timedelta(days=FORECAST_DAYS), tz, hour)
    rows = (
        memories.filter(card__suspended=False, due__lt=end)
        .annotate(
            day=Case(
                When(due__lt=today_start, then=Value(today)),
                default=StudyDay("due", tz, hour, today_start, end),
                output_field=DateField(),
            )
        )
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [
        (today + timedelta(days=i), counts.get(today + timedelta(days=i), 0))
        for i in range(FORECAST_DAYS)
    ]
