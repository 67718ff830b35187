"""Leeches against the real Anki backend: a card lapsed again and again becomes a leech at the
same lapse counts as in Anki (thresholds 8 and 3), tagged, and suspended under the suspend
action. Both sides get the same answers at the same moments: learn the card (Good, Good), then
Again (a lapse) and Good (out of relearning), 24 times; a suspended leech is unsuspended at once
so that its later lapses count too (leech_worker.py)."""

import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from cards.models import Deck, MemoryState
from cards.services import card_marks
from cards.services.settings import get_study_settings
from tests.conftest import make_user
from tests.services.conftest import answer, make_cards

from .anki.oracle import LIBFAKETIME, collect, start_anki

pytest.importorskip("anki", reason="the oracle needs the `anki` package (the dev extra)")
if not os.path.exists(LIBFAKETIME):
    pytest.skip("the oracle needs libfaketime (scripts/ensure-faketime)", allow_module_level=True)

CASES = [
    {"threshold": 8, "action": "tag"},
    {"threshold": 8, "action": "suspend"},
    {"threshold": 3, "action": "tag"},
    {"threshold": 3, "action": "suspend"},
]
CREATED = datetime(2025, 1, 1, 12, tzinfo=UTC)
LAPSES = 24
RATINGS = [3, 3] + [1, 3] * LAPSES
TIMES = [CREATED + timedelta(days=5, hours=i % 7) + timedelta(days=i) for i in range(len(RATINGS))]


@pytest.fixture(scope="module")
def anki_steps():
    job = {
        "tz": "UTC",
        "created": int(CREATED.timestamp()),
        "answers": [[r, int(t.timestamp())] for r, t in zip(RATINGS, TIMES, strict=True)],
        "cases": CASES,
    }
    with tempfile.TemporaryDirectory() as tmp:
        lines = collect({"UTC": start_anki(job, "tests.scheduling.anki.leech_worker", tmp)})["UTC"]
    steps = {}
    for line in lines:
        steps.setdefault(line["case"], []).append(line)
    return steps


def our_steps(case: dict, index: int) -> list[dict]:
    user = make_user(f"leech{index}")
    settings = get_study_settings(user)
    settings.timezone, settings.day_start_hour, settings.rating_scale = "UTC", 4, "four"
    settings.learning_steps, settings.relearning_steps = [60, 600], [600]
    settings.leech_threshold, settings.leech_action = case["threshold"], case["action"]
    settings.save()
    [card] = make_cards(Deck.objects.create(owner=user, name="Leeches"), 1)
    steps = []
    for step, (rating, at) in enumerate(zip(RATINGS, TIMES, strict=True)):
        result = answer(user, card, rating, at)
        memory = MemoryState.objects.get(user=user, card=card)
        if memory.suspended:
            card_marks.unsuspend(user, [card])
        steps.append({"case": index, "step": step, "type": memory.state, "lapses": memory.lapses,
                      "leeched": result.leeched, "tagged": memory.leech,
                      "suspended": memory.suspended})  # fmt: skip
    return steps


@pytest.mark.parametrize("index", range(len(CASES)))
def test_leeches_come_at_the_same_lapses_as_in_anki(anki_steps, db, index):
    case = CASES[index]
    theirs = anki_steps[index]
    assert len(theirs) == len(RATINGS)
    assert our_steps(case, index) == theirs

    threshold = case["threshold"]
    leech_lapses = [step["lapses"] for step in theirs if step["leeched"]]
    # Anki: at the threshold, then every half threshold (rounded up).
    assert leech_lapses == list(range(threshold, LAPSES + 1, (threshold + 1) // 2))
    suspended = [step["lapses"] for step in theirs if step["suspended"]]
    assert suspended == (leech_lapses if case["action"] == "suspend" else [])
    assert not any(step["tagged"] for step in theirs if step["lapses"] < threshold)
    assert all(step["tagged"] for step in theirs if step["lapses"] >= threshold)
