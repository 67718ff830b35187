"""Statistics for the /stats/ page.

Every figure is aggregated in the database: each query returns at most one row per study day,
per deck, per bin or a single row, so the page costs the same number of queries (and Python
work) whatever the number of reviews. docs/stats.md lists the queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Greatest, Least, Ln
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from cards.models import Deck, MemoryState, ReviewLog
from cards.scheduling.days import get_zone, study_day, study_day_start
from cards.scheduling.optimizer import MIN_REVIEWS

REVIEW, LEARNING, RELEARNING = 2, 1, 3  # cards.scheduling.State values
PASS_GRADE = 2  # Hard or better counts as recalled
HEATMAP_WEEKS = 53
RETENTION_WEEKS = 26
RETENTION_MONTHS = 12
FORECAST_DAYS = 30
HEATMAP_LEFT, HEATMAP_TOP, HEATMAP_STEP = 30, 16, 13  # SVG user units
# A binned RMSE above this means the predicted recall is off by more than 5 points on average.
POOR_FIT_RMSE = 0.05
LOG_EPSILON = 1e-6

STABILITY_BINS = [  # (from, to, label, short label for the chart axis), in days
    (0, 1, "under 1 day", "<1d"),
    (1, 3, "1–3 days", "1–3d"),
    (3, 7, "3–7 days", "3–7d"),
    (7, 14, "1–2 weeks", "1–2w"),
    (14, 30, "2–4 weeks", "2–4w"),
    (30, 90, "1–3 months", "1–3mo"),
    (90, 180, "3–6 months", "3–6mo"),
    (180, 365, "6–12 months", "6–12mo"),
    (365, 730, "1–2 years", "1–2y"),
    (730, None, "2 years or more", "2y+"),
]
# FSRS difficulty runs from 1 (easy) to 10 (hard); the last bin includes 10.
DIFFICULTY_BINS = [(d, d + 1, f"{d}–{d + 1}") for d in range(1, 10)]


# -- SQL building blocks ------------------------------------------------------------------------


class StudyDay(Func):
    """The study day of a timestamp: local wall time in `tz`, shifted back by `hour` hours.

    The same rule as cards.scheduling.days.study_day, DST included. PostgreSQL does it natively
    (AT TIME ZONE). On SQLite, given the range [start, end) the rows fall in, it is SQLite's own
    date() plus a fixed offset per stretch of constant UTC offset (a CASE with one branch per
    DST change in the range), so no Python runs per row; without a range it falls back to
    study_day itself through a function registered in cards/apps.py.
    """

    output_field = DateField()

    def __init__(self, expression, tz: str, hour: int, start=None, end=None):
        super().__init__(expression)
        self.tz, self.hour, self.start, self.end = tz, int(hour), start, end

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if self.start is None or self.end is None:
            return f"studyapp_study_day({sql}, %s, %s)", (*params, self.tz, self.hour)
        segments = offset_segments(self.tz, self.start, self.end)
        shift = [f"{offset - self.hour * 3600:+d} seconds" for _, offset in segments]
        if len(segments) == 1:
            return f"date({sql}, %s)", (*params, shift[0])
        parts, all_params = ["CASE"], []
        for (until, _), modifier in zip(segments[:-1], shift, strict=False):
            parts.append(f"WHEN {sql} < %s THEN date({sql}, %s)")
            all_params += [*params, connection.ops.adapt_datetimefield_value(until), *params]
            all_params.append(modifier)
        parts.append(f"ELSE date({sql}, %s) END")
        all_params += [*params, shift[-1]]
        return " ".join(parts), tuple(all_params)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((({sql}) AT TIME ZONE %s) - make_interval(hours => %s))::date",
            (*params, self.tz, self.hour),
        )


def offset_segments(tz: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets over [start, end): [(until, offset seconds), ..., (None, last)].

    Steps a week at a time and bisects each change down to the second (zones change offset at
    most a few times a year, months apart), so a year costs about 100 offset look-ups.
    """
    zone = get_zone(tz)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    segments: list[tuple[datetime | None, int]] = []
    moment, current = start, offset(start)
    while moment < end:
        following = min(moment + timedelta(days=7), end)
        if offset(following) != current:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            change = high.replace(microsecond=0)  # offsets change on whole seconds
            segments.append((change, current))
            current = offset(change)
        moment = following
    segments.append((None, current))
    return segments


class DaysBetween(Func):
    """(later - earlier) in fractional days."""

    output_field = FloatField()

    def __init__(self, earlier, later):
        super().__init__(earlier, later)

    def _parts(self, compiler):
        earlier, p1 = compiler.compile(self.source_expressions[0])
        later, p2 = compiler.compile(self.source_expressions[1])
        return earlier, later, (*p2, *p1)

    def as_sqlite(self, compiler, connection, **extra):
        earlier, later, params = self._parts(compiler)
        return f"(julianday({later}) - julianday({earlier}))", params

    def as_postgresql(self, compiler, connection, **extra):
        earlier, later, params = self._parts(compiler)
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)", params


def sqlite_study_day(value, tz, hour):
    """SQLite side of StudyDay: Django stores aware datetimes as naive UTC text."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return study_day(moment, tz, int(hour)).isoformat()


def register_sqlite_functions(sender, connection, **kwargs):
    """connection_created receiver (cards/apps.py)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "studyapp_study_day", 3, sqlite_study_day, deterministic=True
        )


# -- FSRS arithmetic ----------------------------------------------------------------------------


def decay_of(parameters) -> float:
    """FSRS-6's w20 (the forgetting curve's decay); FSRS-5 parameter sets had a fixed 0.5."""
    params = list(parameters or [])
    w20 = float(params[20]) if len(params) > 20 else 0.5
    return w20 if w20 > 0 else 0.5


def mastery_threshold(desired_retention: float, decay: float) -> float:
    """k such that R(t, S) >= r exactly when t <= S * k.

    R(t,S) = (1 + factor*t/S)^-w20 with factor = 0.9^(-1/w20) - 1, so
    R >= r  <=>  t <= S * (r^(-1/w20) - 1) / factor.
    """
    factor = 0.9 ** (-1.0 / decay) - 1.0
    return (desired_retention ** (-1.0 / decay) - 1.0) / factor


# -- results --------------------------------------------------------------------------------------


@dataclass
class Bucket:
    label: str
    start: date
    reviews: int = 0  # review-state reviews
    passed: int = 0

    @property
    def rate(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else 100 * self.rate


@dataclass
class DeckMastery:
    deck_id: int
    name: str
    answered: int
    new: int
    learning: int
    review: int
    mastered: int

    @property
    def share(self) -> float | None:
        return self.mastered / self.answered if self.answered else None

    @property
    def percent(self) -> float | None:
        return None if self.share is None else 100 * self.share


@dataclass
class CalibrationBin:
    low: float
    high: float
    count: int
    predicted: float  # mean predicted recall
    actual: float  # share recalled

    @property
    def predicted_percent(self) -> float:
        return 100 * self.predicted

    @property
    def actual_percent(self) -> float:
        return 100 * self.actual


@dataclass
class Stats:
    today: date
    desired_retention: float
    timezone: str
    day_start_hour: int
    totals: dict
    heatmap_start: date
    day_counts: dict[date, int]
    streak: int
    forecast: list[tuple[date, int]]
    weekly: list[Bucket]
    monthly: list[Bucket]
    mastery: list[DeckMastery]
    stability: list[tuple[str, int]]
    difficulty: list[tuple[str, int]]
    calibration: list[CalibrationBin]
    log_loss: float | None
    rmse: float | None
    calibration_reviews: int
    suggest_optimizer: bool

    @property
    def enough_history(self) -> bool:
        return self.calibration_reviews >= MIN_REVIEWS

    @property
    def min_reviews(self) -> int:
        return MIN_REVIEWS

    @property
    def desired_percent(self) -> float:
        return 100 * self.desired_retention

    @property
    def rmse_percent(self) -> float | None:
        return None if self.rmse is None else 100 * self.rmse

    def heatmap(self) -> dict:
        """Layout of the calendar heatmap SVG: one column per week, Monday on top."""
        peak = max(self.day_counts.values(), default=0)
        columns = (self.today - self.heatmap_start).days // 7 + 1
        cells, months = [], []
        day = self.heatmap_start
        while day <= self.today:
            column, row = (day - self.heatmap_start).days // 7, day.weekday()
            count = self.day_counts.get(day, 0)
            # Formatted here, not with |date in the template: 370 of those cost ~100 ms.
            label = f"{day:%a} {day.day} {day:%b %Y}"
            cells.append(
                {
                    "x": HEATMAP_LEFT + column * HEATMAP_STEP,
                    "y": HEATMAP_TOP + row * HEATMAP_STEP,
                    "level": math.ceil(4 * count / peak) if count else 0,
                    "count": count,
                    "label": label,
                    "title": f"{label}: {count} review{'' if count == 1 else 's'}",
                }
            )
            if day.day == 1 and column < columns - 1:
                months.append({"x": cells[-1]["x"], "label": f"{day:%b}"})
            day += timedelta(days=1)
        return {
            "cells": cells,
            "months": months,
            "width": HEATMAP_LEFT + columns * HEATMAP_STEP,
            "height": HEATMAP_TOP + 7 * HEATMAP_STEP,
            "size": HEATMAP_STEP - 2,
            "rows": [
                {"y": HEATMAP_TOP + r * HEATMAP_STEP + HEATMAP_STEP - 4, "label": label}
                for r, label in ((0, "Mon"), (2, "Wed"), (4, "Fri"))
            ],
            "peak": peak,
            "active_days": sum(1 for c in cells if c["count"]),
        }

    def chart_data(self) -> dict:
        """What static/js/stats.js draws, for json_script."""
        return {
            "desiredRetention": self.desired_retention,
            "forecast": {
                "labels": [d.strftime("%b %-d") for d, _ in self.forecast],
                "counts": [n for _, n in self.forecast],
            },
            "weekly": _series(self.weekly),
            "monthly": _series(self.monthly),
            "mastery": {
                "labels": [m.name for m in self.mastery],
                "shares": [_round(m.share) for m in self.mastery],
            },
            "stability": {
                "labels": [short for _, _, _, short in STABILITY_BINS],
                "counts": [n for _, n in self.stability],
            },
            "difficulty": {
                "labels": [label for label, _ in self.difficulty],
                "counts": [n for _, n in self.difficulty],
            },
            "calibration": {
                "predicted": [_round(b.predicted) for b in self.calibration],
                "actual": [_round(b.actual) for b in self.calibration],
                "counts": [b.count for b in self.calibration],
            },
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _series(buckets: list[Bucket]) -> dict:
    return {
        "labels": [b.label for b in buckets],
        "rates": [_round(b.rate) for b in buckets],
        "reviews": [b.reviews for b in buckets],
    }


# -- the queries ----------------------------------------------------------------------------------


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


def format_duration(ms: int) -> str:
    minutes = round(ms / 60_000)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60}h {minutes % 60}m"


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


def _mastery(user, memories, deck, k, today_start) -> list[DeckMastery]:
    """Two queries: decks with their answered-card counts, and memory states per deck.

    R >= desired retention exactly when the study days since the last review are at most
    stability * k; whole days as the scheduler counts them, so `days since last review before
    today's start <= floor(stability * k)` (a DST shift can move the edge by an hour).
    """
    elapsed = DaysBetween(F("last_review"), Value(today_start, output_field=DateTimeField()))
    limit = Floor(F("stability") * Value(k, output_field=FloatField()))
    per_deck = {
        row["deck"]: row
        for row in memories.values("deck")
        .annotate(
            learning=Count("id", filter=Q(state__in=(LEARNING, RELEARNING))),
            review=Count("id", filter=Q(state=REVIEW)),
            studied=Count("id"),
            mastered=Count("id", filter=LessThanOrEqual(elapsed, limit)),
        )
        .order_by()
    }
    decks = Deck.objects.filter(pk=deck.pk) if deck is not None else Deck.objects.visible_to(user)
    decks = decks.annotate(answered=Count("cards", filter=~Q(cards__answer=""))).order_by(
        "name", "id"
    )
    result = []
    for d in decks.values("id", "name", "owner_id", "answered"):
        row = per_deck.get(d["id"])
        if row is None and d["owner_id"] != user.pk and deck is None:
            continue  # a public deck the user never studied
        row = row or {"learning": 0, "review": 0, "studied": 0, "mastered": 0}
        answered = max(d["answered"], row["studied"])
        result.append(
            DeckMastery(
                deck_id=d["id"],
                name=d["name"],
                answered=answered,
                new=answered - row["studied"],
                learning=row["learning"],
                review=row["review"],
                mastered=row["mastered"],
            )
        )
    return result


def _distributions(memories) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Query: one row: the cards studied, a count per stability bin (days) and per difficulty."""
    counts = {"studied": Count("id")}
    for i, (low, high, _, _) in enumerate(STABILITY_BINS):
        q = Q(stability__gte=low) if high is None else Q(stability__gte=low, stability__lt=high)
        counts[f"s{i}"] = Count("id", filter=q)
    for i, (low, high, _) in enumerate(DIFFICULTY_BINS):
        last = i == len(DIFFICULTY_BINS) - 1
        upper = Q(difficulty__lte=high) if last else Q(difficulty__lt=high)
        counts[f"d{i}"] = Count("id", filter=Q(difficulty__gte=low) & upper)
    row = memories.aggregate(**counts)
    return (
        row["studied"],
        [(label, row[f"s{i}"]) for i, (_, _, label, _) in enumerate(STABILITY_BINS)],
        [(label, row[f"d{i}"]) for i, (_, _, label) in enumerate(DIFFICULTY_BINS)],
    )


def _history(logs):
    """Query: one pass over all the user's reviews for the totals and the calibration.

    Grouped by tenth of predicted recall (bin -1 holds the reviews without a usable
    prediction): per bin the count, time, review-state and passed counts, sum predicted, sum
    recalled and the sum of the log-loss terms. Calibration uses the reviews the optimiser
    scores: a prediction was made (not a first review) on a later study day than the card's
    previous review. RMSE is over the bins, weighted by their counts.
    """
    p = Least(Greatest(F("retrievability"), Value(LOG_EPSILON)), Value(1 - LOG_EPSILON))
    recalled = Q(grade__gte=PASS_GRADE)
    scored = Q(retrievability__isnull=False, elapsed_days__gt=0)
    rows = (
        logs.annotate(
            bin=Case(
                When(
                    scored,
                    then=Cast(
                        Least(Floor(F("retrievability") * Value(10.0)), Value(9.0)),
                        output_field=IntegerField(),
                    ),
                ),
                default=Value(-1),
                output_field=IntegerField(),
            )
        )
        .values("bin")
        .annotate(
            n=Count("id"),
            first=Min("reviewed_at"),
            time_ms=Sum("duration_ms"),
            review_state=Count("id", filter=Q(state_before=REVIEW)),
            passed=Count("id", filter=Q(state_before=REVIEW) & recalled),
            predicted=Sum("retrievability"),
            recalled=Count("id", filter=recalled),
            loss=Sum(
                Case(
                    When(scored & recalled, then=-Ln(p)),
                    When(scored, then=-Ln(Value(1.0) - p)),
                    output_field=FloatField(),
                )
            ),
        )
        .order_by("bin")
    )
    totals = {"reviews": 0, "time_ms": 0, "review_state": 0, "passed": 0, "first_review": None}
    bins, total, loss, squared = [], 0, 0.0, 0.0
    for row in rows:
        totals["reviews"] += row["n"]
        if totals["first_review"] is None or row["first"] < totals["first_review"]:
            totals["first_review"] = row["first"]
        for key in ("time_ms", "review_state", "passed"):
            totals[key] += row[key] or 0
        if row["bin"] < 0:
            continue
        n = row["n"]
        predicted, actual = row["predicted"] / n, row["recalled"] / n
        b = min(9, int(row["bin"]))
        bins.append(CalibrationBin(b / 10, (b + 1) / 10, n, predicted, actual))
        total += n
        loss += row["loss"]
        squared += n * (predicted - actual) ** 2
    totals["time_text"] = format_duration(totals["time_ms"])
    totals["retention"] = (
        totals["passed"] / totals["review_state"] if totals["review_state"] else None
    )
    totals["retention_percent"] = None if totals["retention"] is None else 100 * totals["retention"]
    if not total:
        return totals, (bins, None, None, 0)
    return totals, (bins, loss / total, math.sqrt(squared / total), total)


def benchmark_stats(user, deck: Deck | None = None) -> Stats:
    """Entry point for the performance benchmark: the page's figures, nothing rendered."""
    from cards.services.settings import get_study_settings

    return build_stats(user, get_study_settings(user), deck=deck)
