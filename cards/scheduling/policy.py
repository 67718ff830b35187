"""Scheduling policy around FSRS-6: Anki's rules for steps, study days, fuzz and limits.

The memory model (stability, difficulty, intervals) comes from fsrs-rs-python; this module
decides which state a card moves to and when it falls due, as Anki does (see rules.py and
docs/scheduling_service.md). The random part of an answer is an explicit input: a `FuzzDraw`
(or a fuzz seed string, turned into one by `FuzzDraw.from_seed`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import fsrs_rs_python as fr

from .days import get_zone, require_aware, study_day, study_day_start
from .fuzz import FuzzDraw, round_half_away, round_places
from .ratings import Grade
from .rules import SECONDS_PER_DAY, Plan, RuleContext, State, review_plan, step_plan

DEFAULT_PARAMETERS: tuple[float, ...] = tuple(fr.DEFAULT_PARAMETERS)


@dataclass(frozen=True)
class CardState:
    state: State
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime | None
    last_review: datetime | None
    reps: int = 0
    lapses: int = 0

    @classmethod
    def new(cls) -> CardState:
        return cls(State.NEW, None, None, None, None, None)


@dataclass(frozen=True)
class Policy:
    parameters: tuple[float, ...] = DEFAULT_PARAMETERS
    desired_retention: float = 0.9
    learning_steps: tuple[int, ...] = (60, 600)
    relearning_steps: tuple[int, ...] = (600,)
    maximum_interval: int = 36500
    timezone: str = "UTC"
    day_start_hour: int = 4
    enable_fuzz: bool = True

    def __post_init__(self) -> None:
        # Accept lists (e.g. from a JSONField) but store tuples so the policy stays hashable.
        object.__setattr__(self, "parameters", tuple(float(w) for w in self.parameters))
        object.__setattr__(self, "learning_steps", tuple(self.learning_steps))
        object.__setattr__(self, "relearning_steps", tuple(self.relearning_steps))
        if len(self.parameters) != 21 or not all(map(math.isfinite, self.parameters)):
            raise ValueError(
                f"parameters: expected 21 finite FSRS-6 weights, got {len(self.parameters)}"
            )
        if not 0.70 <= self.desired_retention <= 0.99:
            raise ValueError(
                f"desired_retention: must be between 0.70 and 0.99, got {self.desired_retention}"
            )
        for name in ("learning_steps", "relearning_steps"):
            steps = getattr(self, name)
            if any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in steps):
                raise ValueError(f"{name}: steps must be positive whole seconds, got {steps}")
        if isinstance(self.maximum_interval, bool) or not (
            isinstance(self.maximum_interval, int) and self.maximum_interval >= 1
        ):
            raise ValueError(
                f"maximum_interval: must be an integer >= 1, got {self.maximum_interval!r}"
            )
        if isinstance(self.day_start_hour, bool) or not (
            isinstance(self.day_start_hour, int) and 0 <= self.day_start_hour <= 23
        ):
            raise ValueError(f"day_start_hour: must be 0-23, got {self.day_start_hour!r}")
        get_zone(self.timezone)  # raises ValueError naming "timezone"


@dataclass(frozen=True)
class Outcome:
    before: CardState
    after: CardState
    grade: Grade
    reviewed_at: datetime
    elapsed_days: int
    retrievability: float | None
    interval: timedelta
    # Whole days until due for a review or day-learning result (0 for an intraday step).
    scheduled_days: int = 0
    # An intraday step's delay before its fuzz: what Anki's answer button shows.
    step_seconds: int = 0


def forgetting_curve(elapsed: float, stability: float, decay: float) -> float:
    """FSRS-6 retrievability R(t,S) = (1 + factor*t/S)^-w20, with R(S,S) = 0.9 by construction."""
    factor = 0.9 ** (-1.0 / decay) - 1.0
    return (1.0 + factor * elapsed / stability) ** (-decay)


def _draw(fuzz: FuzzDraw | str) -> FuzzDraw:
    return fuzz if isinstance(fuzz, FuzzDraw) else FuzzDraw.from_seed(fuzz)


def fuzz_factor(fuzz_seed: str) -> float:
    """The review fuzz factor in [0, 1) of a seed, so replaying a review reproduces its fuzz."""
    return FuzzDraw.from_seed(fuzz_seed).review_factor


def elapsed_days_anki(last_review: datetime, next_day_start: datetime) -> int:
    """Anki's days_elapsed: whole 24-hour days from the last review to the next day start
    (rslib timestamp.rs elapsed_days_since, answering/mod.rs), not study days crossed."""
    seconds = math.floor(next_day_start.timestamp()) - math.floor(last_review.timestamp())
    return max(seconds, 0) // SECONDS_PER_DAY


def learn_ahead_cutoff(now: datetime, minutes: int) -> datetime:
    """Anki's learn-ahead limit: learning cards due by then are counted and, once nothing else
    is left, shown (rslib scheduler/queue/learning.rs, default 20 minutes)."""
    return require_aware(now, "now") + timedelta(minutes=minutes)


def format_interval(td: timedelta) -> str:
    """Short Anki-style label: 45s, 1m, 5.5m, 3h, 3d, 2.1mo, 1.5y."""
    seconds = td.total_seconds()
    units = (("y", 365 * 86400), ("mo", 30 * 86400), ("d", 86400), ("h", 3600), ("m", 60))
    for suffix, size in units:
        if abs(seconds) >= size:
            amount = round(seconds / size, 1)
            text = f"{amount:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return f"{round_half_away(seconds)}s"


def interval_label(outcome: Outcome) -> str:
    """Button label: whole scheduled days for review results, the step length otherwise."""
    if outcome.scheduled_days > 0:
        return format_interval(timedelta(days=outcome.scheduled_days))
    return format_interval(timedelta(seconds=outcome.step_seconds))


class Scheduler:
    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._fsrs = fr.FSRS(list(self.policy.parameters))
        w = self.policy.parameters
        # Anki keeps a card in (re)learning for a sub-half-day FSRS interval only with these on.
        self._short_term = w[17] > 0 and w[18] > 0

    # -- public API -----------------------------------------------------------------------

    def review(self, card: CardState, grade: Grade, now: datetime, fuzz: FuzzDraw | str) -> Outcome:
        """The answer's outcome, equal to outcomes()[grade] but computing only this grade's plan
        (a history replay answers a million reviews; tests/scheduling/test_one_grade.py)."""
        return self._answer(self._situation(card, now, fuzz), Grade(grade))

    def preview(
        self, card: CardState, now: datetime, fuzz: FuzzDraw | str
    ) -> dict[Grade, timedelta]:
        return {g: o.interval for g, o in self.outcomes(card, now, fuzz).items()}

    def preview_labels(
        self, card: CardState, now: datetime, fuzz: FuzzDraw | str
    ) -> dict[Grade, str]:
        return {g: interval_label(o) for g, o in self.outcomes(card, now, fuzz).items()}

    def retrievability(self, card: CardState, now: datetime) -> float | None:
        now = require_aware(now, "now")
        if card.stability is None or card.last_review is None:
            return None
        return self._retrievability(card, self._elapsed(card, now, self._next_day_start(now)))

    def outcomes(
        self, card: CardState, now: datetime, fuzz: FuzzDraw | str
    ) -> dict[Grade, Outcome]:
        """What each grade would do; preview() reads from this.

        `fuzz` is the answer's random draw (a FuzzDraw, or a seed string that names one).
        """
        situation = self._situation(card, now, fuzz)
        return {grade: self._answer(situation, grade) for grade in Grade}

    def scheduled_days(self, card: CardState) -> int:
        """A review card's current interval (Anki's card.interval): study days from its last
        review to its due day."""
        if card.due is None or card.last_review is None:
            return 0
        p = self.policy
        due_day = _study_day(card.due, p.timezone, p.day_start_hour)
        last_day = _study_day(card.last_review, p.timezone, p.day_start_hour)
        return max((due_day - last_day).days, 0)

    # -- internals ------------------------------------------------------------------------

    def _situation(self, card: CardState, now: datetime, fuzz: FuzzDraw | str) -> _Situation:
        """Everything an answer's outcome needs besides its grade."""
        now = require_aware(now, "now")
        draw = _draw(fuzz)
        p = self.policy
        today = _study_day(now, p.timezone, p.day_start_hour)
        next_day = _day_start(today + timedelta(days=1), p.timezone, p.day_start_hour)
        elapsed = self._elapsed(card, now, next_day)
        memory = None
        if card.state != State.NEW and card.stability is not None and card.difficulty is not None:
            memory = fr.MemoryState(card.stability, card.difficulty)
        # days_elapsed=0 selects FSRS-6's same-day stability rule inside the library.
        nxt = self._fsrs.next_states(memory, p.desired_retention, elapsed)
        ctx = RuleContext(
            learning_steps=p.learning_steps,
            relearning_steps=p.relearning_steps,
            maximum_interval=p.maximum_interval,
            short_term=self._short_term,
            factor=draw.review_factor if p.enable_fuzz else None,
        )
        r = self._retrievability(card, elapsed) if memory is not None else None
        return _Situation(card, now, draw, today, next_day, elapsed, nxt, ctx, r)

    def _answer(self, s: _Situation, grade: Grade) -> Outcome:
        card = s.card
        if card.state == State.REVIEW:
            plan = review_plan(grade, self.scheduled_days(card), s.nxt, s.ctx)
        else:
            plan = step_plan(grade, card.state, card.step, s.nxt, s.ctx)
        memory = getattr(s.nxt, grade.name.lower()).memory
        due, days = self._due(plan, s)
        lapse = card.state == State.REVIEW and grade == Grade.AGAIN
        after = CardState(
            state=plan.state,
            step=plan.step,
            # Anki stores S to 4 decimals and D to 3 and goes on from the rounded values.
            stability=round_places(memory.stability, 4),
            difficulty=round_places(memory.difficulty, 3),
            due=due,
            last_review=s.now,
            reps=card.reps + 1,
            lapses=card.lapses + (1 if lapse else 0),
        )
        return Outcome(
            before=card,
            after=after,
            grade=grade,
            reviewed_at=s.now,
            elapsed_days=s.elapsed,
            retrievability=s.r,
            interval=due - s.now,
            scheduled_days=days,
            step_seconds=plan.seconds if days == 0 else 0,
        )

    def _next_day_start(self, now: datetime) -> datetime:
        # Our one intended difference from Anki: the next day starts at the local hour even
        # on a DST-change morning (Anki adds 24 h to today's start in today's UTC offset).
        p = self.policy
        today = study_day(now, p.timezone, p.day_start_hour)
        return _day_start(today + timedelta(days=1), p.timezone, p.day_start_hour)

    def _elapsed(self, card: CardState, now: datetime, next_day: datetime) -> int:
        if card.last_review is None:
            return 0
        last = require_aware(card.last_review, "card.last_review")
        if now < last:
            raise ValueError(f"review time {now} is before the card's last review {last}")
        return elapsed_days_anki(last, next_day)

    def _retrievability(self, card: CardState, elapsed: int) -> float | None:
        if card.stability is None:
            return None
        return forgetting_curve(elapsed, card.stability, self.policy.parameters[20])

    def _due(self, plan: Plan, s: _Situation) -> tuple[datetime, int]:
        """(due, whole days) of a plan: reviews and day learning fall due at a day start."""
        p = self.policy
        days = plan.days
        if plan.state != State.REVIEW:
            until = math.floor(s.next_day.timestamp()) - math.floor(s.now.timestamp())
            if plan.seconds < until:
                # An intraday step, delayed by up to min(25%, 5 min) (learning_ivl_with_fuzz).
                delay = s.draw.learning_delay(plan.seconds) if p.enable_fuzz else plan.seconds
                return s.now + timedelta(seconds=delay), 0
            # Day learning (IntervalKind::maybe_as_days): due at the start of a later day.
            days = (plan.seconds - until) // SECONDS_PER_DAY + 1
        return _day_start(s.today + timedelta(days=days), p.timezone, p.day_start_hour), days


@dataclass(frozen=True, slots=True)
class _Situation:
    """A card at the moment of an answer, before the grade is known."""

    card: CardState
    now: datetime
    draw: FuzzDraw
    today: date
    next_day: datetime
    elapsed: int
    nxt: fr.NextStates
    ctx: RuleContext
    r: float | None


# A replay asks again and again for the same day starts, and for the study day of a moment
# it saw one review earlier (the last review) or made (a due).
_day_start = lru_cache(maxsize=4096)(study_day_start)
_study_day = lru_cache(maxsize=4096)(study_day)


def replay(
    reviews: Iterable[tuple[Grade, datetime, FuzzDraw | str]], policy: Policy | None = None
) -> list[Outcome]:
    """Recompute a card's history from scratch; identical to calling review() in sequence."""
    scheduler = Scheduler(policy)
    card = CardState.new()
    outcomes: list[Outcome] = []
    for grade, reviewed_at, fuzz in reviews:
        outcome = scheduler.review(card, grade, reviewed_at, fuzz)
        outcomes.append(outcome)
        card = outcome.after
    return outcomes


__all__ = [
    "DEFAULT_PARAMETERS",
    "CardState",
    "FuzzDraw",
    "Outcome",
    "Policy",
    "Scheduler",
    "State",
    "elapsed_days_anki",
    "forgetting_curve",
    "format_interval",
    "fuzz_factor",
    "interval_label",
    "learn_ahead_cutoff",
    "replay",
]
