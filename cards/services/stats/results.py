"""The statistics page's constants and result types."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

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


def format_duration(ms: int) -> str:
    minutes = round(ms / 60_000)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60}h {minutes % 60}m"
