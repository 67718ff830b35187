"""Rating scales shown to the learner and their mapping onto FSRS grades."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Grade(IntEnum):
    """FSRS grade; the integer value is what fsrs-rs-python expects as a rating."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class RatingScale(StrEnum):
    FIVE = "five"
    FOUR = "four"


# FSRS counts Hard as a pass, so the two weakest answers on the 1-5 scale must be lapses.
_FIVE_TO_GRADE = {1: Grade.AGAIN, 2: Grade.AGAIN, 3: Grade.HARD, 4: Grade.GOOD, 5: Grade.EASY}

# Every button says what it means: the seed site's words at the ends ("Not at all",
# "Perfectly"), and between them words that keep 2 a miss and 3 a (hard) pass, as scheduled.
_CHOICES: dict[RatingScale, list[tuple[int, str, Grade]]] = {
    RatingScale.FIVE: [
        (1, "Not at all", Grade.AGAIN),
        (2, "Not really", Grade.AGAIN),
        (3, "With effort", Grade.HARD),
        (4, "Well", Grade.GOOD),
        (5, "Perfectly", Grade.EASY),
    ],
    RatingScale.FOUR: [
        (1, "Again", Grade.AGAIN),
        (2, "Hard", Grade.HARD),
        (3, "Good", Grade.GOOD),
        (4, "Easy", Grade.EASY),
    ],
}


def _scale(scale: RatingScale | str) -> RatingScale:
    try:
        return RatingScale(scale)
    except ValueError as exc:
        raise ValueError(f"unknown rating scale {scale!r}; expected 'five' or 'four'") from exc


def _as_int(rating: object) -> int:
    # bool is an int subclass; True as a rating is a bug, not a 1.
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise ValueError(f"rating must be an integer, got {rating!r}")
    return rating


def to_grade(rating: int, scale: RatingScale | str = RatingScale.FIVE) -> Grade:
    """Map a raw rating on `scale` to an FSRS grade."""
    scale = _scale(scale)
    value = _as_int(rating)
    if scale is RatingScale.FIVE:
        if value not in _FIVE_TO_GRADE:
            raise ValueError(f"rating {value} is out of range for the five-point scale (1-5)")
        return _FIVE_TO_GRADE[value]
    if not 1 <= value <= 4:
        raise ValueError(f"rating {value} is out of range for the four-point scale (1-4)")
    return Grade(value)


def rating_choices(scale: RatingScale | str = RatingScale.FIVE) -> list[tuple[int, str, Grade]]:
    """(raw rating, label, grade) triples for the answer buttons, lowest first."""
    return list(_CHOICES[_scale(scale)])


def grade_from_fsrs_rating(rating: int) -> Grade:
    """Grade from an FSRS/Anki revlog rating (1 Again, 2 Hard, 3 Good, 4 Easy)."""
    value = _as_int(rating)
    if not 1 <= value <= 4:
        raise ValueError(f"FSRS rating {value} is out of range (1-4)")
    return Grade(value)
