"""Property: answering one grade (Scheduler.review, the replay's path, which plans only that
grade) gives exactly what the four-button preview (outcomes) gives for it, and the one-grade
rules equal the all-grades rules they replaced (kept below as the reference: each passing review
grade floored by the one below it, Easy beyond the fuzzed Good)."""

from datetime import UTC, datetime, timedelta

import fsrs_rs_python as fr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.scheduling import CardState, Grade, Policy, Scheduler
from cards.scheduling.fuzz import f32, review_floor, round_half_away, with_review_fuzz
from cards.scheduling.rules import (
    Plan,
    RuleContext,
    State,
    _graduate,
    _hard_delay,
    _review,
    _short_term_secs,
    review_plan,
    step_plan,
)
from tests.scheduling.test_property import ZONES, random_parameters

gap_seconds = st.one_of(
    st.integers(30, 3 * 3600), st.integers(3 * 3600, 2 * 86400), st.integers(2 * 86400, 400 * 86400)
)
histories = st.lists(st.tuples(st.sampled_from(list(Grade)), gap_seconds), min_size=1, max_size=25)
steps = st.lists(st.integers(1, 3 * 86400), max_size=3).map(tuple)
policies = st.builds(
    Policy,
    parameters=st.integers(0, 10**6).map(random_parameters),
    desired_retention=st.floats(0.7, 0.99),
    learning_steps=steps,
    relearning_steps=steps,
    maximum_interval=st.sampled_from([1, 2, 30, 365, 36500]),
    timezone=st.sampled_from(ZONES),
    day_start_hour=st.integers(0, 23),
    enable_fuzz=st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, history=histories, start=st.integers(0, 365 * 86400))
def test_review_equals_the_preview_of_its_grade(policy, history, start):
    scheduler = Scheduler(policy)
    card, now = CardState.new(), datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=start)
    for i, (grade, gap) in enumerate(history):
        now += timedelta(seconds=gap if i else 0)
        seed = f"{start}:{i}"
        every = scheduler.outcomes(card, now, seed)
        one = scheduler.review(card, grade, now, seed)
        assert one == every[grade]
        card = one.after


# -- the all-grades rules as they were before the one-grade path (the reference) -------------


def reference_review_plans(scheduled_days, nxt, ctx):
    mx = ctx.maximum_interval

    def passed(interval, at_least):
        minimum = max(review_floor(interval, scheduled_days, mx), at_least)
        return with_review_fuzz(interval, min(max(minimum, 1), mx), mx, ctx.factor)

    hard = passed(nxt.hard.interval, 1)
    good = passed(nxt.good.interval, hard + 1)
    easy = passed(nxt.easy.interval, good + 1)
    if ctx.relearning_steps:
        again = Plan(State.RELEARNING, 0, seconds=ctx.relearning_steps[0])
    elif ctx.short_term and nxt.again.interval < 0.5:
        again = Plan(State.RELEARNING, 0, seconds=_short_term_secs(nxt.again.interval))
    else:
        again = _review(max(round_half_away(f32(nxt.again.interval)), 1))
    return {Grade.AGAIN: again, Grade.HARD: _review(hard), Grade.GOOD: _review(good),
            Grade.EASY: _review(easy)}  # fmt: skip


def reference_step_plans(phase, step, nxt, ctx):
    relearning = phase == State.RELEARNING
    own = ctx.relearning_steps if relearning else ctx.learning_steps
    phase = State.RELEARNING if relearning else State.LEARNING
    index = min(step or 0, max(len(own) - 1, 0))
    short_term = ctx.short_term and not own

    def leave(interval, next_step):
        if short_term and interval < 0.5:
            return Plan(phase, next_step, seconds=_short_term_secs(interval))
        return _review(_graduate(interval, ctx))

    if own:
        again = Plan(phase, 0, seconds=own[0])
        hard = Plan(phase, index, seconds=_hard_delay(own, index))
    else:
        again, hard = leave(nxt.again.interval, 0), leave(nxt.hard.interval, index)
    if index + 1 < len(own):
        good = Plan(phase, index + 1, seconds=own[index + 1])
    else:
        good = leave(nxt.good.interval, 0)
    fuzzed_good = with_review_fuzz(nxt.good.interval, 1, ctx.maximum_interval, ctx.factor)
    easy = _review(_graduate(nxt.easy.interval, ctx, minimum=fuzzed_good + 1))
    return {Grade.AGAIN: again, Grade.HARD: hard, Grade.GOOD: good, Grade.EASY: easy}


contexts = st.builds(
    RuleContext,
    learning_steps=steps,
    relearning_steps=steps,
    maximum_interval=st.sampled_from([1, 2, 30, 365, 36500]),
    short_term=st.booleans(),
    factor=st.one_of(st.none(), st.floats(0, 1, exclude_max=True)),
)
memories = st.one_of(
    st.none(), st.tuples(st.floats(0.01, 40000), st.floats(1, 10)).map(lambda m: fr.MemoryState(*m))
)


@settings(max_examples=400, deadline=None)
@given(
    ctx=contexts,
    memory=memories,
    elapsed=st.integers(0, 3000),
    params=st.integers(0, 10**6),
    scheduled=st.integers(0, 40000),
    phase=st.sampled_from([State.NEW, State.LEARNING, State.RELEARNING]),
    step=st.one_of(st.none(), st.integers(0, 4)),
)
def test_one_grade_rules_equal_the_all_grades_rules(
    ctx, memory, elapsed, params, scheduled, phase, step
):
    nxt = fr.FSRS(list(random_parameters(params))).next_states(memory, 0.9, elapsed)
    reviews = reference_review_plans(scheduled, nxt, ctx)
    learning = reference_step_plans(phase, step, nxt, ctx)
    for grade in Grade:
        assert review_plan(grade, scheduled, nxt, ctx) == reviews[grade]
        assert step_plan(grade, phase, step, nxt, ctx) == learning[grade]
