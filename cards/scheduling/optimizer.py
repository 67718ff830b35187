"""Fit a user's FSRS-6 parameters to their review history with fsrs-rs-python."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import fsrs_rs_python as fr

from .days import DEFAULT_DAY_START_HOUR, require_aware, study_day
from .ratings import Grade

MIN_REVIEWS = 400


def review_deltas(
    history: Iterable[tuple[Grade, datetime]],
    tz: str,
    day_start_hour: int = DEFAULT_DAY_START_HOUR,
) -> list[tuple[int, int]]:
    """One card's (rating, delta_t) pairs in time order; delta_t in study days, 0 first."""
    ordered = sorted(
        ((require_aware(at, "reviewed_at"), Grade(g)) for g, at in history),
        key=lambda pair: pair[0],
    )
    pairs: list[tuple[int, int]] = []
    previous = None
    for at, grade in ordered:
        # elapsed_days(previous, at) is the difference of study days: each review's study day
        # is computed once, which halves the time of to_fsrs_items (the optimiser's hot loop).
        day = study_day(at, tz, day_start_hour)
        pairs.append((int(grade), 0 if previous is None else (day - previous).days))
        previous = day
    return pairs


def to_fsrs_items(
    histories: Iterable[list[tuple[Grade, datetime]]],
    tz: str,
    day_start_hour: int = DEFAULT_DAY_START_HOUR,
) -> list[fr.FSRSItem]:
    """Training items: for each review on a later study day, the history up to and including it.

    fsrs-rs predicts the last review of an item from the ones before it; a same-day review has
    t=0 and R=1 on the forgetting curve, so (as in Anki) it is history but never a target.
    """
    items: list[fr.FSRSItem] = []
    for history in histories:
        pairs = review_deltas(history, tz, day_start_hour)
        reviews = [fr.FSRSReview(rating, delta) for rating, delta in pairs]
        for i in range(1, len(pairs)):
            if pairs[i][1] > 0:
                items.append(fr.FSRSItem(reviews[: i + 1]))
    return items


@dataclass
class FitResult:
    parameters: tuple[float, ...]
    log_loss_before: float | None
    rmse_before: float | None
    log_loss_after: float | None
    rmse_after: float | None
    improved: bool
    enough_history: bool
    message: str


def _fit(items: Sequence[fr.FSRSItem], config: fr.TrainingConfig | None) -> list[float]:
    # Kept as a seam so tests can substitute a deliberately bad fit.
    return fr.FSRS(list(fr.DEFAULT_PARAMETERS)).compute_parameters(
        list(items), enable_short_term=True, training_config=config
    )


def optimize(
    items: Sequence[fr.FSRSItem],
    current_parameters: Sequence[float],
    min_reviews: int = MIN_REVIEWS,
    training_config: fr.TrainingConfig | None = None,
) -> FitResult:
    """Fit new parameters; keep them only if they predict this history better (lower log loss)."""
    items = list(items)
    current = tuple(float(w) for w in current_parameters)
    before = fr.FSRS(list(current)).evaluate(items) if items else None
    ll_before = before.log_loss if before else None
    rmse_before = before.rmse_bins if before else None
    if len(items) < min_reviews:
        return FitResult(
            parameters=current,
            log_loss_before=ll_before,
            rmse_before=rmse_before,
            log_loss_after=ll_before,
            rmse_after=rmse_before,
            improved=False,
            enough_history=False,
            message=(
                f"Not enough review history to optimize: {len(items)} reviews on later days, "
                f"at least {min_reviews} needed. Keeping the current parameters."
            ),
        )
    fitted = tuple(float(w) for w in _fit(items, training_config))
    after = fr.FSRS(list(fitted)).evaluate(items)
    assert ll_before is not None and before is not None
    improved = after.log_loss < ll_before
    if improved:
        message = (
            f"New parameters fit your history better: log loss {ll_before:.4f} -> "
            f"{after.log_loss:.4f}, RMSE {before.rmse_bins:.4f} -> {after.rmse_bins:.4f}."
        )
    else:
        message = (
            f"Optimized parameters were not better (log loss {after.log_loss:.4f} vs "
            f"{ll_before:.4f}); keeping the current parameters."
        )
    return FitResult(
        parameters=fitted if improved else current,
        log_loss_before=ll_before,
        rmse_before=before.rmse_bins,
        log_loss_after=after.log_loss,
        rmse_after=after.rmse_bins,
        improved=improved,
        enough_history=True,
        message=message,
    )
