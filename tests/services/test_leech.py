"""Leeches (Anki's rule, rslib scheduler/states/review.rs): a lapse of a review card at the
threshold, then every half threshold, tags the card leech and, with the 'suspend' action,
suspends it; undoing that review puts both marks back. The oracle against Anki itself is
tests/scheduling/test_anki_leech.py."""

from datetime import timedelta

import pytest

from cards.models import MemoryState
from cards.scheduling import State
from cards.scheduling.leech import leech_threshold_met
from cards.services.reviews import undo_last_review
from cards.services.settings import get_study_settings

from .conftest import answer, local, make_cards

NOW = local(2026, 6, 10, 15, 0)


@pytest.mark.parametrize(
    "threshold, leeches",
    [
        (8, [8, 12, 16, 20]),
        (3, [3, 5, 7, 9, 11, 13, 15, 17, 19]),
        (1, list(range(1, 21))),
        (5, [5, 8, 11, 14, 17, 20]),
        (0, []),
    ],
)
def test_the_threshold_is_met_as_in_anki(threshold, leeches):
    assert [n for n in range(21) if leech_threshold_met(n, threshold)] == leeches


def review_card(learner, deck, lapses: int, **marks) -> MemoryState:
    """A card in review, last seen 10 days ago, with `lapses` lapses already."""
    [card] = make_cards(deck, 1)
    return MemoryState.objects.create(
        user=learner, card=card, deck=deck, state=State.REVIEW, stability=10.0, difficulty=6.0,
        due=NOW - timedelta(days=1), last_review=NOW - timedelta(days=10), reps=lapses + 3,
        lapses=lapses, **marks,
    )  # fmt: skip


def settings_of(learner, threshold=8, action="tag"):
    settings = get_study_settings(learner)
    settings.leech_threshold, settings.leech_action = threshold, action
    settings.save()


def test_the_eighth_lapse_tags_the_card_but_keeps_it_in_the_queue(learner, deck):
    settings_of(learner)
    memory = review_card(learner, deck, lapses=7)
    result = answer(learner, memory.card, 1, NOW)

    assert result.leeched
    memory.refresh_from_db()
    assert (memory.lapses, memory.leech, memory.suspended) == (8, True, False)


def test_with_the_suspend_action_it_is_suspended_too_and_undo_restores_both(learner, deck):
    settings_of(learner, action="suspend")
    memory = review_card(learner, deck, lapses=7, flag=3)
    assert answer(learner, memory.card, 2, NOW).leeched  # 2 is a lapse on the 1-5 scale

    memory.refresh_from_db()
    assert (memory.leech, memory.suspended, memory.flag) == (True, True, 3)
    undo_last_review(learner)
    memory.refresh_from_db()
    assert (memory.lapses, memory.leech, memory.suspended, memory.flag) == (7, False, False, 3)


@pytest.mark.parametrize("lapses_before", [5, 6, 8, 10])
def test_other_lapse_counts_do_nothing(learner, deck, lapses_before):
    settings_of(learner, action="suspend")
    memory = review_card(learner, deck, lapses=lapses_before)
    assert not answer(learner, memory.card, 1, NOW).leeched
    memory.refresh_from_db()
    assert (memory.leech, memory.suspended) == (False, False)


def test_the_twelfth_lapse_suspends_again_a_leech_the_learner_unsuspended(learner, deck):
    settings_of(learner, action="suspend")
    memory = review_card(learner, deck, lapses=11, leech=True)
    assert answer(learner, memory.card, 1, NOW).leeched
    memory.refresh_from_db()
    assert (memory.lapses, memory.leech, memory.suspended) == (12, True, True)
    undo_last_review(learner)
    memory.refresh_from_db()
    assert (memory.leech, memory.suspended) == (True, False)  # a leech before: still one


def test_a_threshold_of_0_turns_leeches_off(learner, deck):
    settings_of(learner, threshold=0, action="suspend")
    memory = review_card(learner, deck, lapses=7)
    assert not answer(learner, memory.card, 1, NOW).leeched


def test_a_pass_or_a_relearning_again_is_no_lapse(learner, deck):
    settings_of(learner, action="suspend")
    memory = review_card(learner, deck, lapses=8)
    assert not answer(learner, memory.card, 4, NOW).leeched
    memory = review_card(learner, deck, lapses=7)
    assert answer(learner, memory.card, 1, NOW).leeched
    # Now relearning: Again there is no new lapse (Anki counts lapses of review cards only).
    assert not answer(learner, memory.card, 1, NOW + timedelta(minutes=11)).leeched
    memory.refresh_from_db()
    assert memory.lapses == 8
