"""Anki's answer rules with FSRS on, state by state: which state a grade leads to and how far.

A pure translation of rslib/src/scheduler/states/{review,learning,relearning,steps}.rs (the
FSRS branches). The result is a `Plan`: a review interval in whole days, or a (re)learning
delay in seconds that the policy may still turn into day learning or fuzz.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import fsrs_rs_python as fr

from .fuzz import f32, review_floor, round_half_away, with_review_fuzz
from .ratings import Grade

SECONDS_PER_DAY = 86400


class State(IntEnum):
    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


@dataclass(frozen=True)
class Plan:
    state: State
    step: int | None
    seconds: int = 0  # (re)learning delay before day learning and fuzz
    days: int = 0  # review interval


@dataclass(frozen=True)
class RuleContext:
    """What the rules need besides the FSRS next states (Anki's StateContext)."""

    learning_steps: tuple[int, ...]
    relearning_steps: tuple[int, ...]
    maximum_interval: int
    short_term: bool  # FSRS short-term weights on (w17, w18 > 0)
    factor: float | None  # the review fuzz factor, None without fuzz


def _review(days: int) -> Plan:
    return Plan(State.REVIEW, None, days=days)


def _graduate(interval: float, ctx: RuleContext, minimum: int = 1) -> int:
    # Anki rounds the FSRS interval before fuzzing it when a card leaves (re)learning.
    rounded = max(round_half_away(f32(interval)), 1)
    return with_review_fuzz(rounded, minimum, ctx.maximum_interval, ctx.factor)


def _short_term_secs(interval: float) -> int:
    return int(f32(f32(interval) * SECONDS_PER_DAY))


def _round_in_days(secs: int) -> int:
    # steps.rs maybe_round_in_days: a hard delay over a day is a whole number of days.
    if secs > SECONDS_PER_DAY:
        return round_half_away(f32(secs / SECONDS_PER_DAY)) * SECONDS_PER_DAY
    return secs


def _hard_delay(steps: tuple[int, ...], index: int) -> int:
    if index > 0:
        return steps[index]
    if len(steps) >= 2:
        return _round_in_days((steps[0] + steps[1]) // 2)
    return _round_in_days(min(steps[0] * 3 // 2, steps[0] + SECONDS_PER_DAY))


def review_plan(grade: Grade, scheduled_days: int, nxt: fr.NextStates, ctx: RuleContext) -> Plan:
    """A review card's answer (review.rs): passed answers floored by the previous interval, and
    each passing grade at least a day beyond the one below it, so Good computes Hard first and
    Easy both; Again needs neither."""
    mx = ctx.maximum_interval
    if grade == Grade.AGAIN:
        again_interval = nxt.again.interval
        if ctx.relearning_steps:
            return Plan(State.RELEARNING, 0, seconds=ctx.relearning_steps[0])
        if ctx.short_term and again_interval < 0.5:
            return Plan(State.RELEARNING, 0, seconds=_short_term_secs(again_interval))
        # No fuzz and no maximum here: Anki keeps round(again).max(1) as is.
        return _review(max(round_half_away(f32(again_interval)), 1))

    def passed(interval: float, at_least: int) -> int:
        minimum = max(review_floor(interval, scheduled_days, mx), at_least)
        return with_review_fuzz(interval, min(max(minimum, 1), mx), mx, ctx.factor)

    days = passed(nxt.hard.interval, 1)
    if grade >= Grade.GOOD:
        days = passed(nxt.good.interval, days + 1)
    if grade == Grade.EASY:
        days = passed(nxt.easy.interval, days + 1)
    return _review(days)


def step_plan(
    grade: Grade, phase: State, step: int | None, nxt: fr.NextStates, ctx: RuleContext
) -> Plan:
    """A new, learning or relearning card's answer (learning.rs, relearning.rs, steps.rs)."""
    relearning = phase == State.RELEARNING
    steps = ctx.relearning_steps if relearning else ctx.learning_steps
    phase = State.RELEARNING if relearning else State.LEARNING
    # A card whose steps were shortened since it entered them resumes at the last step.
    index = min(step or 0, max(len(steps) - 1, 0))
    short_term = ctx.short_term and not steps

    def leave(interval: float, next_step: int) -> Plan:
        if short_term and interval < 0.5:
            return Plan(phase, next_step, seconds=_short_term_secs(interval))
        return _review(_graduate(interval, ctx))

    if grade == Grade.AGAIN:
        return Plan(phase, 0, seconds=steps[0]) if steps else leave(nxt.again.interval, 0)
    if grade == Grade.HARD:
        if steps:
            return Plan(phase, index, seconds=_hard_delay(steps, index))
        return leave(nxt.hard.interval, index)
    if grade == Grade.GOOD:
        if index + 1 < len(steps):
            return Plan(phase, index + 1, seconds=steps[index + 1])
        return leave(nxt.good.interval, 0)
    # Easy beats the fuzzed Good interval even when Good would stay in (re)learning.
    fuzzed_good = with_review_fuzz(nxt.good.interval, 1, ctx.maximum_interval, ctx.factor)
    return _review(_graduate(nxt.easy.interval, ctx, minimum=fuzzed_good + 1))
