"""Sibling burying against the real Anki backend: a reversed note's two cards, the first in
each of Anki's queues (new, intraday learning, day learning, review), the second likewise,
under each of the eight combinations of the three bury settings. The first card is answered
Good; Anki buries the second for the day exactly when we do (bury_worker.py)."""

import itertools
import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from cards.models import Card, Deck, MemoryState, Note, NoteKind
from cards.scheduling import State
from cards.services.settings import get_study_settings
from tests.conftest import make_user
from tests.services.conftest import answer

from .anki.oracle import LIBFAKETIME, collect, start_anki

pytest.importorskip("anki", reason="the oracle needs the `anki` package (the dev extra)")
if not os.path.exists(LIBFAKETIME):
    pytest.skip("the oracle needs libfaketime (scripts/ensure-faketime)", allow_module_level=True)

KINDS = ("new", "intraday", "interday", "review")
CASES = [
    {"bury": list(bury), "answered": answered, "sibling": sibling}
    for bury in itertools.product((True, False), repeat=3)
    for answered in KINDS
    for sibling in KINDS
]
CREATED = datetime(2025, 1, 1, 12, tzinfo=UTC)
NOW = CREATED + timedelta(days=5)
DAY_START = NOW.replace(hour=4)  # day learning is due at the day start (04:00 UTC)


@pytest.fixture(scope="module")
def anki_buried():
    job = {"tz": "UTC", "created": int(CREATED.timestamp()), "now": int(NOW.timestamp()),
           "cases": CASES}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        lines = collect({"UTC": start_anki(job, "tests.scheduling.anki.bury_worker", tmp)})["UTC"]
    return {line["case"]: line["buried"] for line in lines}


def set_kind(user, card, kind: str) -> None:
    if kind == "new":
        return
    state = State.REVIEW if kind == "review" else State.LEARNING
    due = {"review": DAY_START, "interday": DAY_START, "intraday": NOW - timedelta(minutes=1)}
    MemoryState.objects.create(
        user=user, card=card, deck=card.deck, state=state, step=None if kind == "review" else 1,
        stability=3.0, difficulty=5.0, due=due[kind], last_review=NOW - timedelta(days=3),
        reps=3,
    )  # fmt: skip


def we_bury(case: dict) -> bool:
    user = make_user("learner")
    settings = get_study_settings(user)
    settings.timezone, settings.day_start_hour = "UTC", 4
    settings.learning_steps = [60, 600]
    (settings.bury_new_siblings, settings.bury_review_siblings,
     settings.bury_interday_siblings) = case["bury"]  # fmt: skip
    settings.save()
    deck = Deck.objects.create(owner=user, name="Reversed")
    note = Note.objects.create(deck=deck, kind=NoteKind.REVERSED, fields={"Front": "f"})
    answered, sibling = (
        Card.objects.create(deck=deck, note=note, ord=i, question=f"q{i}", answer=f"a{i}")
        for i in range(2)
    )
    set_kind(user, answered, case["answered"])
    set_kind(user, sibling, case["sibling"])
    answer(user, answered, 4, NOW)  # Good
    memory = MemoryState.objects.filter(user=user, card=sibling).first()
    return bool(memory and memory.buried_until and memory.buried_until > NOW)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "index",
    range(len(CASES)),
    ids=[
        f"{''.join('yn'[not b] for b in c['bury'])}:{c['answered']}>{c['sibling']}" for c in CASES
    ],
)
def test_we_bury_the_sibling_exactly_when_anki_does(anki_buried, index):
    assert we_bury(CASES[index]) == anki_buried[index]


def test_anki_buries_a_new_reversed_sibling_by_default(anki_buried):
    default = CASES.index({"bury": [True, True, True], "answered": "new", "sibling": "new"})
    assert anki_buried[default] is True
