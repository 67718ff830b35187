import random
from datetime import UTC, datetime, timedelta

import fsrs_rs_python as fr
import pytest

from cards.scheduling import (
    CardState,
    Grade,
    Policy,
    Scheduler,
    elapsed_days,
    forgetting_curve,
    optimize,
    review_deltas,
    to_fsrs_items,
)
from cards.scheduling import optimizer as optimizer_module

DEFAULT = tuple(fr.DEFAULT_PARAMETERS)
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def true_parameters() -> tuple[float, ...]:
    """A learner who forgets more slowly at first and decays more steeply than the default."""
    w = list(DEFAULT)
    w[0:4] = [w[0] * 4, w[1] * 4, w[2] * 4, w[3] * 3]
    w[8] = w[8] * 0.6
    w[20] = 0.45
    return tuple(w)


def simulate(params, cards=250, horizon_days=300, seed=7):
    """Review histories of a simulated user scheduled by our policy with default parameters,
    recalling with the FSRS-6 forgetting curve under their true parameters."""
    rng = random.Random(seed)
    scheduler = Scheduler(Policy(timezone="UTC", day_start_hour=4))
    truth = fr.FSRS(list(params))
    end = START + timedelta(days=horizon_days)
    histories = []
    for card_no in range(cards):
        card = CardState.new()
        true_state = None
        now = START + timedelta(days=rng.randrange(60), hours=rng.uniform(0, 10))
        last = None
        history = []
        while now < end:
            elapsed = 0 if last is None else elapsed_days(last, now, "UTC", 4)
            if true_state is None:
                grade = Grade(rng.choices([1, 2, 3, 4], weights=[20, 15, 50, 15])[0])
            else:
                recall = forgetting_curve(elapsed, true_state.stability, params[20])
                if rng.random() < recall:
                    grade = Grade(rng.choices([2, 3, 4], weights=[15, 75, 10])[0])
                else:
                    grade = Grade.AGAIN
            nxt = truth.next_states(true_state, 0.9, elapsed)
            true_state = getattr(nxt, grade.name.lower()).memory
            out = scheduler.review(card, grade, now, f"{card_no}-{len(history)}")
            history.append((grade, now))
            card, last = out.after, now
            # Review cards are answered some hours into the day they fall due.
            late = timedelta(hours=rng.uniform(0, 12)) if out.scheduled_days else timedelta()
            now = max(card.due, now) + late
        histories.append(history)
    return histories


@pytest.fixture(scope="module")
def items():
    return to_fsrs_items(simulate(true_parameters()), "UTC", 4)


def test_to_fsrs_items_uses_study_days_and_long_term_targets():
    t0 = datetime(2026, 2, 1, 21, 0, tzinfo=UTC)
    history = [
        (Grade.GOOD, t0),
        (Grade.GOOD, t0 + timedelta(minutes=10)),
        (Grade.GOOD, t0 + timedelta(hours=6)),  # 03:00 next morning: still the same study day
        (Grade.AGAIN, t0 + timedelta(days=2)),
        (Grade.GOOD, t0 + timedelta(days=2, minutes=10)),
        (Grade.EASY, t0 + timedelta(days=5)),
    ]
    assert review_deltas(history, "UTC", 4) == [(3, 0), (3, 0), (3, 0), (1, 2), (3, 0), (4, 3)]
    items = to_fsrs_items([list(reversed(history))], "UTC", 4)  # order of input is irrelevant
    assert [len(item.reviews) for item in items] == [4, 6]
    assert [item.long_term_review_cnt() for item in items] == [1, 2]
    assert to_fsrs_items([history[:3]], "UTC", 4) == []


def test_optimizer_improves_on_defaults_for_a_different_learner(items):
    assert len(items) > 1000
    result = optimize(items, DEFAULT)
    assert result.enough_history and result.improved
    assert result.log_loss_after < result.log_loss_before
    assert result.parameters != DEFAULT and len(result.parameters) == 21
    assert "better" in result.message
    truth = fr.FSRS(list(true_parameters())).evaluate(items)
    default = fr.FSRS(list(DEFAULT)).evaluate(items)
    assert result.log_loss_before == pytest.approx(default.log_loss)
    # The fit recovers most of the gap between the default and the true model.
    gap = default.log_loss - truth.log_loss
    assert gap > 0.005
    assert result.log_loss_after < truth.log_loss + 0.25 * gap


def test_keeping_the_true_parameters_is_consistent(items):
    current = true_parameters()
    result = optimize(items, current)
    assert result.enough_history
    assert result.improved == (result.log_loss_after < result.log_loss_before)
    if result.improved:
        assert result.parameters != current
    else:
        assert result.parameters == current


def test_worse_fit_is_refused(items, monkeypatch):
    bad = list(DEFAULT)
    bad[0:4] = [0.01, 0.02, 0.03, 0.04]  # absurdly short initial stabilities
    monkeypatch.setattr(optimizer_module, "_fit", lambda _items, _config: bad)
    current = true_parameters()
    result = optimize(items, current)
    assert result.enough_history and not result.improved
    assert result.parameters == current
    assert result.log_loss_after > result.log_loss_before
    assert "keeping" in result.message.lower()


def test_too_little_history_keeps_current_parameters(items):
    result = optimize(items[:100], DEFAULT, min_reviews=400)
    assert not result.enough_history and not result.improved
    assert result.parameters == DEFAULT
    assert "Not enough" in result.message and "400" in result.message
    empty = optimize([], DEFAULT)
    assert not empty.enough_history and empty.log_loss_before is None
