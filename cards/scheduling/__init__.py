"""Pure scheduling core (no Django): study days, ratings, FSRS-6 policy and optimizer."""

from .days import elapsed_days, study_day, study_day_start
from .fuzz import FuzzDraw
from .optimizer import FitResult, optimize, review_deltas, to_fsrs_items
from .policy import (
    DEFAULT_PARAMETERS,
    CardState,
    Outcome,
    Policy,
    Scheduler,
    State,
    forgetting_curve,
    format_interval,
    interval_label,
    learn_ahead_cutoff,
    replay,
)
from .ratings import Grade, RatingScale, grade_from_fsrs_rating, rating_choices, to_grade

__all__ = [
    "DEFAULT_PARAMETERS",
    "CardState",
    "FitResult",
    "FuzzDraw",
    "Grade",
    "Outcome",
    "Policy",
    "RatingScale",
    "Scheduler",
    "State",
    "elapsed_days",
    "forgetting_curve",
    "format_interval",
    "grade_from_fsrs_rating",
    "interval_label",
    "learn_ahead_cutoff",
    "optimize",
    "rating_choices",
    "replay",
    "review_deltas",
    "study_day",
    "study_day_start",
    "to_fsrs_items",
    "to_grade",
]
