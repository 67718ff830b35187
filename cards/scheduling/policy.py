"""Scheduling policy around FSRS-6: steps, study days, fuzz and limits.

The memory model (stability, difficulty, intervals) comes from fsrs-rs-python; this module
only decides which state a card moves to and when it falls due.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum

import fsrs_rs_python as fr

from .days import elapsed_days, get_zone, require_aware, study_day, study_day_start
from .ratings import Grade

DEFAULT_PARAMETERS: tuple[float, ...] = tuple(fr.DEFAULT_PARAMETERS)
SECONDS_PER_DAY = 86400

# Anki's fuzz ranges: (start day, end day, fraction) summed piecewise on top of a 1-day base.
_FUZZ_RANGES = ((2.5, 7.0, 0.15), (7.0, 20.0, 0.10), (20.0, math.inf, 0.05))


class State(IntEnum):
    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


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
    # Whole days scheduled for a REVIEW result (0 for a learning/relearning step), for labels.
    scheduled_days: int = 0


def forgetting_curve(elapsed: float, stability: float, decay: float) -> float:
    """FSRS-6 retrievability R(t,S) = (1 + factor*t/S)^-w20, with R(S,S) = 0.9 by construction."""
    factor = 0.9 ** (-1.0 / decay) - 1.0
    return (1.0 + factor * elapsed / stability) ** (-decay)


def fuzz_factor(fuzz_seed: str) -> float:
    """Uniform [0, 1) number fixed by the seed, so replaying a review reproduces its fuzz."""
    digest = hashlib.sha256(fuzz_seed.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).random()


def _round(x: float) -> int:
    # Half-up like Anki (Python's round() is banker's rounding).
    return math.floor(x + 0.5)


def _fuzz_bounds(interval: float, minimum: int, maximum: int) -> tuple[int, int]:
    """Anki's constrained_fuzz_bounds: the fuzz window, kept inside [minimum, maximum]."""
    minimum = min(minimum, maximum)
    interval = min(max(interval, minimum), maximum)
    delta = 0.0
    if interval >= 2.5:
        pieces = (f * max(min(interval, end) - start, 0.0) for start, end, f in _FUZZ_RANGES)
        delta = 1.0 + sum(pieces)
    lower = min(max(_round(interval - delta), minimum), maximum)
    upper = min(max(_round(interval + delta), minimum), maximum)
    if upper == lower and 2 < upper < maximum:
        upper = lower + 1
    return lower, upper


def _constrain(interval: float, minimum: int, maximum: int, factor: float | None) -> int:
    """Round, clamp to [minimum, maximum] and (if factor is given) fuzz, in whole days."""
    if factor is None:
        return min(max(_round(interval), min(minimum, maximum)), maximum)
    lower, upper = _fuzz_bounds(interval, minimum, maximum)
    return min(math.floor(lower + factor * (1 + upper - lower)), upper)


def format_interval(td: timedelta) -> str:
    """Short Anki-style label: 45s, 1m, 5.5m, 3h, 3d, 2.1mo, 1.5y."""
    seconds = td.total_seconds()
    units = (("y", 365 * 86400), ("mo", 30 * 86400), ("d", 86400), ("h", 3600), ("m", 60))
    for suffix, size in units:
        if abs(seconds) >= size:
            amount = round(seconds / size, 1)
            text = f"{amount:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return f"{_round(seconds)}s"


def interval_label(outcome: Outcome) -> str:
    """Button label: whole scheduled days for review results, the step length otherwise."""
    if outcome.scheduled_days > 0:
        return format_interval(timedelta(days=outcome.scheduled_days))
    return format_interval(outcome.interval)


@dataclass(frozen=True)
class _Plan:
    state: State
    step: int | None
    seconds: int = 0  # learning/relearning delay
    days: int = 0  # review interval


class Scheduler:
    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._fsrs = fr.FSRS(list(self.policy.parameters))

    # -- public API -----------------------------------------------------------------------

    def review(self, card: CardState, grade: Grade, now: datetime, fuzz_seed: str) -> Outcome:
        return self.outcomes(card, now, fuzz_seed)[Grade(grade)]

    def preview(self, card: CardState, now: datetime, fuzz_seed: str) -> dict[Grade, timedelta]:
        return {g: o.interval for g, o in self.outcomes(card, now, fuzz_seed).items()}

    def preview_labels(self, card: CardState, now: datetime, fuzz_seed: str) -> dict[Grade, str]:
        return {g: interval_label(o) for g, o in self.outcomes(card, now, fuzz_seed).items()}

    def retrievability(self, card: CardState, now: datetime) -> float | None:
        now = require_aware(now, "now")
        if card.stability is None or card.last_review is None:
            return None
        return self._retrievability(card, self._elapsed(card, now))

    def outcomes(self, card: CardState, now: datetime, fuzz_seed: str) -> dict[Grade, Outcome]:
        """What each grade would do; review() and preview() both read from this."""
        now = require_aware(now, "now")
        elapsed = self._elapsed(card, now)
        memory = None
        if card.state != State.NEW and card.stability is not None and card.difficulty is not None:
            memory = fr.MemoryState(card.stability, card.difficulty)
        # days_elapsed=0 selects FSRS-6's same-day stability rule inside the library.
        nxt = self._fsrs.next_states(memory, self.policy.desired_retention, elapsed)
        factor = fuzz_factor(fuzz_seed) if self.policy.enable_fuzz else None
        plans = self._plans(card, nxt, factor)
        r = self._retrievability(card, elapsed) if memory is not None else None
        result = {}
        for grade in Grade:
            mem = getattr(nxt, grade.name.lower()).memory
            result[grade] = self._outcome(card, grade, now, elapsed, r, mem, plans[grade])
        return result

    # -- internals ------------------------------------------------------------------------

    def _elapsed(self, card: CardState, now: datetime) -> int:
        if card.last_review is None:
            return 0
        last = require_aware(card.last_review, "card.last_review")
        if now < last:
            raise ValueError(f"review time {now} is before the card's last review {last}")
        return elapsed_days(last, now, self.policy.timezone, self.policy.day_start_hour)

    def _retrievability(self, card: CardState, elapsed: int) -> float | None:
        if card.stability is None:
            return None
        return forgetting_curve(elapsed, card.stability, self.policy.parameters[20])

    def _plans(
        self, card: CardState, nxt: fr.NextStates, factor: float | None
    ) -> dict[Grade, _Plan]:
        p = self.policy
        mx = p.maximum_interval
        if card.state == State.REVIEW:
            hard = _constrain(nxt.hard.interval, 1, mx, factor)
            good = _constrain(nxt.good.interval, hard + 1, mx, factor)
            easy = _constrain(nxt.easy.interval, good + 1, mx, factor)
            if p.relearning_steps:
                again = _Plan(State.RELEARNING, 0, seconds=p.relearning_steps[0])
            else:
                again_days = _constrain(nxt.again.interval, 1, mx, factor)
                again = _Plan(State.REVIEW, None, days=again_days)
            return {
                Grade.AGAIN: again,
                Grade.HARD: _Plan(State.REVIEW, None, days=hard),
                Grade.GOOD: _Plan(State.REVIEW, None, days=good),
                Grade.EASY: _Plan(State.REVIEW, None, days=easy),
            }
        relearning = card.state == State.RELEARNING
        steps = p.relearning_steps if relearning else p.learning_steps
        phase = State.RELEARNING if relearning else State.LEARNING
        # A card whose steps were shortened since it entered them resumes at the last step.
        step = min(card.step or 0, len(steps) - 1) if steps else 0
        good_graduates = step + 1 >= len(steps)
        good_days = _constrain(nxt.good.interval, 1, mx, factor)
        easy_min = good_days + 1 if good_graduates else 1
        easy_days = _constrain(nxt.easy.interval, easy_min, mx, factor)
        easy = _Plan(State.REVIEW, None, days=easy_days)
        if not steps:
            graduate = _Plan(State.REVIEW, None, days=good_days)
            again_days = _constrain(nxt.again.interval, 1, mx, factor)
            hard_days = _constrain(nxt.hard.interval, 1, mx, factor)
            return {
                Grade.AGAIN: _Plan(State.REVIEW, None, days=again_days),
                Grade.HARD: _Plan(State.REVIEW, None, days=hard_days),
                Grade.GOOD: graduate,
                Grade.EASY: easy,
            }
        if step == 0:
            # Anki: Hard on the first step waits halfway to the second (1.5x if only one step).
            if len(steps) >= 2:
                hard_delay = (steps[0] + steps[1]) // 2
            else:
                hard_delay = min(steps[0] * 3 // 2, steps[0] + SECONDS_PER_DAY)
        else:
            hard_delay = steps[step]
        good = (
            _Plan(State.REVIEW, None, days=good_days)
            if good_graduates
            else _Plan(phase, step + 1, seconds=steps[step + 1])
        )
        return {
            Grade.AGAIN: _Plan(phase, 0, seconds=steps[0]),
            Grade.HARD: _Plan(phase, step, seconds=hard_delay),
            Grade.GOOD: good,
            Grade.EASY: easy,
        }

    def _outcome(
        self,
        card: CardState,
        grade: Grade,
        now: datetime,
        elapsed: int,
        r: float | None,
        memory: fr.MemoryState,
        plan: _Plan,
    ) -> Outcome:
        p = self.policy
        if plan.state == State.REVIEW:
            day = study_day(now, p.timezone, p.day_start_hour) + timedelta(days=plan.days)
            due = study_day_start(day, p.timezone, p.day_start_hour)
        else:
            due = now + timedelta(seconds=plan.seconds)
        lapse = card.state == State.REVIEW and grade == Grade.AGAIN
        after = replace(
            card,
            state=plan.state,
            step=plan.step,
            stability=memory.stability,
            difficulty=memory.difficulty,
            due=due,
            last_review=now,
            reps=card.reps + 1,
            lapses=card.lapses + (1 if lapse else 0),
        )
        return Outcome(
            before=card,
            after=after,
            grade=grade,
            reviewed_at=now,
            elapsed_days=elapsed,
            retrievability=r,
            interval=due - now,
            scheduled_days=plan.days,
        )


def replay(
    reviews: Iterable[tuple[Grade, datetime, str]], policy: Policy | None = None
) -> list[Outcome]:
    """Recompute a card's history from scratch; identical to calling review() in sequence."""
    scheduler = Scheduler(policy)
    card = CardState.new()
    outcomes: list[Outcome] = []
    for grade, reviewed_at, fuzz_seed in reviews:
        outcome = scheduler.review(card, grade, reviewed_at, fuzz_seed)
        outcomes.append(outcome)
        card = outcome.after
    return outcomes


__all__ = [
    "DEFAULT_PARAMETERS",
    "CardState",
    "Outcome",
    "Policy",
    "Scheduler",
    "State",
    "forgetting_curve",
    "format_interval",
    "fuzz_factor",
    "interval_label",
    "replay",
]
