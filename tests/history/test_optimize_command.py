import pytest

import cards.scheduling.optimizer as core_optimizer
from cards.importers.revlog import from_ms
from cards.models import Card, Deck, ReviewLog, StudySettings
from cards.services.optimize import fit_for_user

from .conftest import run
from .simulate import DEFAULTS, TRUE_PARAMETERS, cards_text, revlog_text, simulate_revlog

N_CARDS, REVIEWS_PER_CARD = 300, 8  # 2,400 reviews, 2,100 of them on a later day


@pytest.fixture
def simulated(owner, write):
    """alice's history: 2,400 reviews of a learner whose memory follows TRUE_PARAMETERS."""
    rows = simulate_revlog(N_CARDS, REVIEWS_PER_CARD)
    run("import_cards", write("c.csv", cards_text(N_CARDS)), "--user", "alice", "--deck", "Sim")
    run("import_revlog", write("r.csv", revlog_text(rows)), "--user", "alice", "--deck", "Sim")
    return owner


@pytest.fixture
def simulated_fast(owner):
    """The same history stored directly (the optimiser reads only grade and time): quicker."""
    deck = Deck.objects.create(owner=owner, name="Sim")
    cards = Card.objects.bulk_create(
        Card(deck=deck, question=f"Q{i}", answer="A", external_id=f"s{i}") for i in range(N_CARDS)
    )
    by_id = {card.external_id: card for card in cards}
    ReviewLog.objects.bulk_create(
        ReviewLog(
            user=owner,
            card=by_id[card_id],
            deck=deck,
            rating=rating,
            grade=rating,
            reviewed_at=from_ms(ms),
            state_before=0,
            state_after=0,
            due_after=from_ms(ms),
        )
        for card_id, ms, rating in simulate_revlog(N_CARDS, REVIEWS_PER_CARD)
    )
    return owner


def _parameters(user):
    return StudySettings.objects.get(user=user).fsrs_parameters


def _figures(out: str) -> dict[str, tuple[float, float]]:
    figures = {}
    for line in out.splitlines():
        if line.startswith(("Log loss:", "RMSE(bins):")):
            name, rest = line.split(":", 1)
            words = rest.split()
            figures[name] = (float(words[1]), float(words[3]))
    return figures


def test_it_recovers_a_better_fit_for_a_simulated_learner(simulated):
    out = run("optimize_fsrs", "--user", "alice")

    figures = _figures(out)
    assert figures["Log loss"][1] < figures["Log loss"][0]
    assert figures["RMSE(bins)"][1] < figures["RMSE(bins)"][0]
    assert "Training items: 2100" in out and "Saved the new parameters" in out
    fitted = _parameters(simulated)
    assert fitted != DEFAULTS and len(fitted) == 21
    # Closer to the truth than the defaults: the first-rating stability and the curve's decay.
    for index in (0, 20):
        assert abs(fitted[index] - TRUE_PARAMETERS[index]) < abs(
            DEFAULTS[index] - TRUE_PARAMETERS[index]
        )


def test_it_refuses_to_overwrite_with_a_worse_fit(simulated_fast, monkeypatch):
    worse = list(DEFAULTS)
    worse[0:4] = [60.0, 60.0, 60.0, 60.0]  # "everything is remembered for two months"
    monkeypatch.setattr(core_optimizer, "_fit", lambda items, config: worse)

    out = run("optimize_fsrs", "--user", "alice")

    figures = _figures(out)
    assert figures["Log loss"][1] > figures["Log loss"][0]
    assert "were not better" in out and "keeping the current parameters" in out
    assert _parameters(simulated_fast) == DEFAULTS


def test_with_too_little_history_it_says_so_and_keeps_the_parameters(owner, write):
    rows = simulate_revlog(20, 4)
    run("import_cards", write("c.csv", cards_text(20)), "--user", "alice", "--deck", "Sim")
    run("import_revlog", write("r.csv", revlog_text(rows)), "--user", "alice", "--deck", "Sim")

    out = run("optimize_fsrs", "--user", "alice")

    assert "Not enough review history" in out and "Training items: 60" in out
    assert _parameters(owner) == DEFAULTS


def test_with_no_history_at_all_it_says_so(owner):
    out = run("optimize_fsrs", "--user", "alice")
    assert "Not enough review history" in out and "Log loss:    before -   after -" in out


def test_the_child_process_fit_equals_the_in_process_fit(simulated_fast):
    here, items_here = fit_for_user(simulated_fast)
    there, items_there = fit_for_user(simulated_fast, in_subprocess=True)
    assert items_here == items_there == 2100
    assert there.parameters == pytest.approx(here.parameters, rel=1e-6)
    assert there.log_loss_after == pytest.approx(here.log_loss_after, rel=1e-6)
    assert _parameters(simulated_fast) == DEFAULTS  # fitting alone saves nothing
