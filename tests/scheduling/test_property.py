"""Property: the policy's running memory state equals fsrs-rs-python's step by step, with Anki's
elapsed days (whole days from the last review to the next day start) and Anki's stored
precision (S to 4 decimals, D to 3, each step going on from the rounded values)."""

import math
import random
from array import array
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import fsrs_rs_python as fr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.scheduling import CardState, Grade, Policy, Scheduler

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]

# FSRS-6 parameter bounds (from fsrs-rs), used to draw plausible non-default parameters.
BOUNDS = [
    (0.001, 100), (0.001, 100), (0.001, 100), (0.001, 100), (1, 10), (0.001, 4), (0.001, 4),
    (0.001, 0.75), (0, 4.5), (0, 0.8), (0.001, 3.5), (0.001, 5), (0.001, 0.25), (0.001, 0.9),
    (0, 4), (0, 1), (1, 6), (0, 2), (0, 2), (0, 0.8), (0.1, 0.8),
]  # fmt: skip

gap_seconds = st.one_of(
    st.integers(30, 3 * 3600),  # same session
    st.integers(3 * 3600, 2 * 86400),  # around a day boundary
    st.integers(2 * 86400, 400 * 86400),  # long-term
)
histories = st.lists(st.tuples(st.sampled_from(list(Grade)), gap_seconds), min_size=1, max_size=20)


def random_parameters(seed: int) -> tuple[float, ...]:
    rng = random.Random(seed)
    params = []
    for w, (lo, hi) in zip(fr.DEFAULT_PARAMETERS, BOUNDS, strict=True):
        params.append(min(max(w * rng.uniform(0.5, 1.5) + rng.uniform(-0.05, 0.05), lo), hi))
    params[0:4] = sorted(params[0:4])  # initial stabilities stay ordered again <= ... <= easy
    return tuple(params)


def local_day(moment: datetime, tz: str, hour: int):
    # Independent oracle for study days: local wall clock shifted back by the start hour.
    return (moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None) - timedelta(hours=hour)).date()


def anki_round(value: float, places: int) -> float:
    # Anki's round_to_places runs in f32: (v * 10^n).round() / 10^n.
    scaled = array("f", [array("f", [value])[0] * 10**places])[0]
    return math.floor(scaled + 0.5) / 10**places


def anki_elapsed(previous: datetime, now: datetime, tz: str, hour: int) -> int:
    next_day = local_day(now, tz, hour) + timedelta(days=1)
    next_start = datetime.combine(next_day, time(hour), tzinfo=ZoneInfo(tz))
    return int(next_start.timestamp() - int(previous.timestamp())) // 86400


def check_history(history, tz, hour, start_offset, params):
    policy = Policy(parameters=params, timezone=tz, day_start_hour=hour, desired_retention=0.85)
    scheduler = Scheduler(policy)
    now = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=start_offset)
    card = CardState.new()
    fsrs = fr.FSRS(list(params))
    previous, expected = None, None
    for i, (grade, gap) in enumerate(history):
        if i:
            now += timedelta(seconds=gap)
        delta_days = 0 if previous is None else anki_elapsed(previous, now, tz, hour)
        out = scheduler.review(card, grade, now, f"seed-{i}")
        assert out.elapsed_days == delta_days
        nxt = fsrs.next_states(expected, 0.85, delta_days)
        memory = getattr(nxt, grade.name.lower()).memory
        expected = fr.MemoryState(anki_round(memory.stability, 4), anki_round(memory.difficulty, 3))
        card, previous = out.after, now
        assert card.reps == i + 1
        assert card.stability == pytest.approx(expected.stability, rel=1e-4)
        assert card.difficulty == pytest.approx(expected.difficulty, rel=1e-4)


common = settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(
    history=histories,
    tz=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    start_offset=st.integers(0, 3 * 365 * 86400),
)
def test_memory_state_matches_library_replay_default_parameters(history, tz, hour, start_offset):
    check_history(history, tz, hour, start_offset, tuple(fr.DEFAULT_PARAMETERS))


@settings(common, max_examples=800)
@given(
    history=histories,
    tz=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    start_offset=st.integers(0, 3 * 365 * 86400),
    param_seed=st.integers(0, 2**32),
)
def test_memory_state_matches_library_replay_random_parameters(
    history, tz, hour, start_offset, param_seed
):
    check_history(history, tz, hour, start_offset, random_parameters(param_seed))
