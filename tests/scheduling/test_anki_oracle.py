"""The policy against the real Anki backend (the `anki` package), step by step.

Histories generated over four time zones, 2024's DST changes, answers within 90 s of 04:00
and the three settings groups of issue 14 run through Anki with its clock set by libfaketime;
each step is recomputed by our policy from Anki's state before it, with Anki's fuzz draw, and
every field is compared. Only DST-change-morning steps may differ (our one intended
difference: our day starts at the local hour); they are listed.
"""

import os
from datetime import UTC, datetime

import pytest

from cards.models import Card, Deck, MemoryState
from cards.scheduling import Scheduler
from cards.services.rebuild import rebuild_states
from cards.services.reviews import card_state, issue_review_token, record_review
from cards.services.settings import get_study_settings
from tests.conftest import make_user

from .anki.oracle import (
    GROUPS,
    LIBFAKETIME,
    ZONES,
    Tally,
    comparable,
    compare,
    generate,
    policy_of,
    run_anki,
)
from .anki.oracle import card_state as anki_state
from .anki.rng import draw_as_anki

pytest.importorskip("anki", reason="the oracle needs the `anki` package (the dev extra)")
if not os.path.exists(LIBFAKETIME):
    pytest.skip("the oracle needs libfaketime (scripts/ensure-faketime)", allow_module_level=True)

HISTORIES_PER_ZONE = int(os.environ.get("ANKI_ORACLE_HISTORIES", "90"))
SEED = 14


@pytest.fixture(scope="module")
def oracle():
    jobs = {tz: generate(tz, HISTORIES_PER_ZONE, SEED) for tz in ZONES}
    return jobs, run_anki(jobs, SEED)


def test_every_step_agrees_with_anki(oracle):
    jobs, steps = oracle
    tally = Tally()
    for tz in ZONES:
        compare(tz, jobs[tz], steps[tz], tally)
    assert sum(len(h) for h in jobs.values()) >= 300
    print(f"\nAnki oracle: {tally.agreed}/{tally.total} steps agree; "
          f"{len(tally.artefacts)} DST-morning artefacts:")  # fmt: skip
    for line in tally.artefacts:
        print("  ", line)
    assert not tally.mismatches, "\n".join(tally.mismatches[:40])


# Whole histories through the database-backed service (record_review), on SQLite or
# PostgreSQL: each step from our own stored state, so zones without DST keep every step exact.
DB_ZONES = ("UTC", "Asia/Kolkata")
DB_HISTORIES = 15  # per zone


def _reps(seed: str) -> int:
    return int(seed.split(":")[1])


def test_the_review_service_stores_what_anki_stores(oracle, db, monkeypatch):
    jobs, steps = oracle
    draws = draw_as_anki(monkeypatch)  # to fill: our card id -> Anki's card id
    checked = 0
    for tz in DB_ZONES:
        cards = {}
        for index, history in enumerate(jobs[tz][:DB_HISTORIES]):
            user = make_user(f"u{tz[:3]}{index}")
            group = GROUPS[history["group"]]
            settings = get_study_settings(user)
            for name in ("learning_steps", "relearning_steps", "desired_retention",
                         "maximum_interval"):  # fmt: skip
                setattr(settings, name, group[name])
            settings.timezone, settings.rating_scale = tz, "four"
            settings.save()
            deck = Deck.objects.create(owner=user, name=f"Deck {index}")
            cards[index] = (user, Card.objects.create(deck=deck, question="q", answer="a"))
        for step in steps[tz]:
            if step["history"] not in cards:
                continue
            user, card = cards[step["history"]]
            draws[card.pk] = step["card_id"]
            memory = MemoryState.objects.filter(user=user, card=card).first()
            token = issue_review_token(user, card, memory)
            moment = datetime.fromtimestamp(step["at"], UTC)
            result = record_review(user, token, step["rating"], 1000, now=moment)
            group = jobs[tz][step["history"]]["group"]
            stored = card_state(MemoryState.objects.get(pk=result.memory.pk))
            scheduler = Scheduler(policy_of(group, tz))
            ours = comparable(stored, scheduler.scheduled_days(stored), tz)
            theirs = comparable(anki_state(step["after"], group, tz), step["after"]["ivl"], tz)
            assert ours == theirs, (tz, group, moment, step["rating"])
            checked += 1
    assert checked >= 200
    assert rebuild_states(dry_run=True) == 0  # a replay of the logs gives the stored states
