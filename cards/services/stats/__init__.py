"""Statistics for the /stats/ page.

Every figure is aggregated in the database: each query returns at most one row per study day,
per deck, per bin or a single row, so the page costs the same number of queries (and Python
work) whatever the number of reviews. docs/stats.md lists the queries.

The package: results (constants and result types), sql (the study day in SQL), series (per
day, week and month), memory (mastery, distributions, calibration); build_stats joins them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from cards.models import Deck, MemoryState, ReviewLog
from cards.scheduling.days import get_zone, study_day, study_day_start
from cards.scheduling.optimizer import MIN_REVIEWS

from .memory import _distributions, _history, _mastery
from .results import (
    HEATMAP_WEEKS,
    POOR_FIT_RMSE,
    RETENTION_MONTHS,
    Stats,
    decay_of,
    mastery_threshold,
)
from .series import _add_months, _daily, _forecast, _monthly, _streak, _weekly
from .sql import offset_segments, register_sqlite_functions

__all__ = [
    "Stats", "benchmark_stats", "build_stats", "mastery_threshold", "offset_segments",
    "register_sqlite_functions",
]  # fmt: skip


def build_stats(user, settings, deck: Deck | None = None, now: datetime | None = None) -> Stats:
    """Every figure of the statistics page for `user` (one deck, or all when deck is None).

    Six queries, plus one more only for a streak longer than the heatmap's year.
    """
    now = now or timezone.now()
    tz = settings.timezone
    try:
        get_zone(tz)
    except ValueError:
        tz = "UTC"
    hour = settings.day_start_hour
    today = study_day(now, tz, hour)
    today_start = study_day_start(today, tz, hour)

    logs = ReviewLog.objects.filter(user=user)
    memories = MemoryState.objects.filter(user=user)
    if deck is not None:
        logs = logs.filter(deck=deck)
        memories = memories.filter(deck=deck)

    heatmap_start = today - timedelta(weeks=HEATMAP_WEEKS - 1)
    heatmap_start -= timedelta(days=heatmap_start.weekday())  # columns are Monday-first weeks
    month_start = _add_months(today.replace(day=1), -(RETENTION_MONTHS - 1))
    window_start = min(heatmap_start, month_start)
    days = _daily(logs, tz, hour, window_start, now)

    decay = decay_of(settings.fsrs_parameters)
    k = mastery_threshold(settings.desired_retention, decay)
    totals, (calibration, log_loss, rmse, n_cal) = _history(logs)
    streak = _streak(days, today, window_start, logs, tz, hour, totals["first_review"])
    studied, stability, difficulty = _distributions(memories)
    totals["cards"] = studied
    return Stats(
        today=today,
        desired_retention=settings.desired_retention,
        timezone=tz,
        day_start_hour=hour,
        totals=totals,
        heatmap_start=heatmap_start,
        day_counts={d: row["reviews"] for d, row in days.items() if d >= heatmap_start},
        streak=streak,
        forecast=_forecast(memories, tz, hour, today, today_start),
        weekly=_weekly(days, today),
        monthly=_monthly(days, today),
        mastery=_mastery(user, memories, deck, k, today_start),
        stability=stability,
        difficulty=difficulty,
        calibration=calibration,
        log_loss=log_loss,
        rmse=rmse,
        calibration_reviews=n_cal,
        suggest_optimizer=n_cal >= MIN_REVIEWS and rmse is not None and rmse > POOR_FIT_RMSE,
    )


def benchmark_stats(user, deck: Deck | None = None) -> Stats:
    """Entry point for the performance benchmark: the page's figures, nothing rendered."""
    from cards.services.settings import get_study_settings

    return build_stats(user, get_study_settings(user), deck=deck)
