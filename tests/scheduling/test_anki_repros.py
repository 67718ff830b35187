"""Issue 14's ten disagreements with Anki, each as its minimal history through the pure policy.

Each expects Anki's value from the issue text. The fuzz draw is Anki's own for the card the
history ran on in the real Anki backend (card id + reps through the ported StdRng, rng.py), or
where the issue names no card, a draw chosen to show the rule. Settings groups A, B, C are the
issue's (tests/scheduling/anki/oracle.py).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import fsrs_rs_python as fr
import pytest

from cards.scheduling import CardState, FuzzDraw, Grade, Scheduler, State, learn_ahead_cutoff

from .anki.oracle import policy_of
from .anki.rng import anki_draw

AGAIN, HARD, GOOD, EASY = Grade


def at(tz: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(tz))


def history(tz: str, group: str, answers, card_id: int | None = None, draws=None):
    """The outcomes of answering a new card; Anki's draws for `card_id` unless given."""
    scheduler = Scheduler(policy_of(group, tz))
    card, outcomes = CardState.new(), []
    for reps, (grade, moment) in enumerate(answers):
        draw = draws[reps] if draws else anki_draw(card_id, reps)
        outcomes.append(scheduler.review(card, grade, moment, draw))
        card = outcomes[-1].after
    return outcomes


def factor_draw(factor: float) -> FuzzDraw:
    """A draw whose review fuzz factor is `factor` (top 23 bits of the first word)."""
    return FuzzDraw(int(factor * (1 << 23)) << 9, 0)


def test_1_previous_interval_floor():
    easy, good = history(
        "UTC", "A", [(EASY, at("UTC", 2024, 10, 12, 16, 0, 23)),
                     (GOOD, at("UTC", 2024, 10, 13, 3, 58, 58))], 1701432000000,
    )  # fmt: skip
    assert easy.scheduled_days == 7  # with this card's draw (the card had 10)
    assert good.elapsed_days == 0 and good.scheduled_days == 11  # Studyapp gave 7 before


def test_2_day_learning_a_step_past_the_next_day_start_becomes_due_at_a_day_start():
    [good] = history("UTC", "A", [(GOOD, at("UTC", 2024, 11, 2, 3, 59, 7))], 1701432000001)
    assert (good.after.state, good.after.step) == (State.LEARNING, 1)
    assert good.after.due == at("UTC", 2024, 11, 2, 4) and good.scheduled_days == 1
    c1, c2 = history(
        "UTC", "C", [(GOOD, at("UTC", 2024, 5, 1, 10)), (GOOD, at("UTC", 2024, 5, 1, 10, 11))],
        1701432000002,
    )  # fmt: skip
    assert (c2.after.state, c2.after.step) == (State.LEARNING, 2)  # the 1-day step
    assert c2.after.due == at("UTC", 2024, 5, 2, 4)  # not 2024-05-02 10:11
    # Auckland, April's DST change: study day 2024-04-07 lasts 25 h, so now + 24 h (04-08
    # 03:41) was still the day it was answered; day learning makes it the next day's start.
    nz = "Pacific/Auckland"
    answers = [(GOOD, at(nz, 2024, 4, 7, 4, 30)), (GOOD, at(nz, 2024, 4, 7, 4, 41))]
    _, step = history(nz, "C", answers, 1701385200000)
    assert step.after.due == at(nz, 2024, 4, 8, 4) and step.scheduled_days == 1


def test_3_round_before_fuzz_at_graduation():
    [good] = history("UTC", "B", [(GOOD, at("UTC", 2024, 3, 18, 1, 51, 34))],
                     draws=[factor_draw(0.55)])  # fmt: skip
    nxt = fr.FSRS(fr.DEFAULT_PARAMETERS).next_states(None, 0.85, 0)
    assert nxt.good.interval == pytest.approx(4.40, abs=0.01)
    # fuzz(round(4.40) = 4): window 3..5 -> 4; fuzzing 4.40 itself (window 3..6) gave 5.
    assert good.after.state == State.REVIEW and good.scheduled_days == 4


def test_4_again_without_relearning_steps_is_round_max_1_without_fuzz():
    *_, again = history(
        "UTC", "B", [(EASY, at("UTC", 2024, 9, 21, 23, 5, 46)),
                     (EASY, at("UTC", 2024, 9, 21, 23, 28, 44)),
                     (AGAIN, at("UTC", 2024, 9, 22, 4, 17, 36))], 1701432000004,
    )  # fmt: skip
    assert (again.after.state, again.after.lapses) == (State.REVIEW, 1)
    assert again.scheduled_days == 3  # round(again interval); Studyapp fuzzed it to 4


def test_5_easy_in_learning_is_at_least_the_fuzzed_good_interval_plus_one():
    hard, easy = history(
        "UTC", "C", [(HARD, at("UTC", 2024, 9, 14, 12, 39, 53)),
                     (EASY, at("UTC", 2024, 9, 14, 13, 0, 26))], 1701432000005,
    )  # fmt: skip
    assert hard.after.state == State.LEARNING
    assert easy.after.state == State.REVIEW and easy.scheduled_days == 2  # Studyapp gave 1


def test_6_short_term_relearning_without_steps():
    *_, lapse = history(
        "UTC", "B", [(AGAIN, at("UTC", 2024, 9, 25, 19, 45, 38)),
                     (GOOD, at("UTC", 2024, 9, 25, 20, 10, 11)),
                     (AGAIN, at("UTC", 2024, 9, 30, 18, 28, 28))], 1701432000006,
    )  # fmt: skip
    assert lapse.after.stability == 0.1464
    assert (lapse.after.state, lapse.after.step) == (State.RELEARNING, 0)
    unfuzzed = at("UTC", 2024, 10, 1, 1, 11, 27)  # S-long relearning, then its step fuzz
    assert lapse.after.due == unfuzzed + timedelta(seconds=117)


def test_7_elapsed_days_are_whole_days_to_the_next_day_start():
    kolkata = "Asia/Kolkata"
    _, good = history(
        kolkata, "A", [(GOOD, at(kolkata, 2024, 5, 1, 4)), (GOOD, at(kolkata, 2024, 5, 1, 4, 11))],
        1701412200000,
    )  # fmt: skip
    assert good.elapsed_days == 1  # 04:00 to the next day start is 24 h: one whole day
    assert (good.after.stability, good.scheduled_days) == (7.3154, 9)
    la = "America/Los_Angeles"
    *_, lapse = history(
        la, "C", [(EASY, at(la, 2024, 4, 6, 3, 57, 52)), (EASY, at(la, 2024, 7, 26, 4, 16, 32)),
                  (AGAIN, at(la, 2024, 11, 3, 17, 18, 58))], 1701460800000,
    )  # fmt: skip
    assert (lapse.elapsed_days, lapse.after.stability) == (101, 5.1336)


def test_8_learning_steps_are_fuzzed_by_up_to_a_quarter_and_five_minutes():
    now = at("UTC", 2024, 10, 12, 16, 0, 23)
    [good] = history("UTC", "A", [(GOOD, now)], 1701432000000)
    assert good.after.due == now + timedelta(seconds=637)  # 10 min + 37 s, as Anki
    draws = [FuzzDraw(w, 0xFFFFFFFF) for w in (0, 1 << 31, 0xFFFFFFFF)]
    assert [d.learning_delay(600) for d in draws] == [600, 675, 749]  # < 600 + 25%
    assert max(d.learning_delay(7200) for d in draws) == 7499  # < 2 h + 5 min
    assert good.step_seconds == 600  # the button still says 10m, as Anki's


def test_9_stored_precision_s_to_4_decimals_d_to_3_going_on_from_the_rounded_values():
    hard, good = history(
        "UTC", "C", [(HARD, at("UTC", 2024, 9, 14, 12, 39, 53)),
                     (GOOD, at("UTC", 2024, 9, 14, 12, 50))], 1701432000005,
    )  # fmt: skip
    fsrs = fr.FSRS(fr.DEFAULT_PARAMETERS)
    raw = fsrs.next_states(None, 0.95, 0).hard.memory
    assert raw.stability != round(raw.stability, 4)
    assert (hard.after.stability, hard.after.difficulty) == (1.2931, 5.112)
    from_rounded = fsrs.next_states(fr.MemoryState(1.2931, 5.112), 0.95, 0).good.memory
    assert good.after.stability == round(from_rounded.stability, 4)
    assert good.after.difficulty == round(from_rounded.difficulty, 3)


def test_10_learn_ahead_limit():
    now = datetime(2024, 10, 12, 16, tzinfo=UTC)
    assert learn_ahead_cutoff(now, 20) == now + timedelta(minutes=20)
    # The queue shows and counts a learning card due 3 minutes later (tests/services/test_queue).
    assert now + timedelta(minutes=3) <= learn_ahead_cutoff(now, 20)
