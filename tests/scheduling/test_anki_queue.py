"""The study queue's counts against the real Anki backend's, at many moments.

Decks of 25-40 cards are studied for a week in Anki (tests/scheduling/anki/queue_worker.py,
its clock set by libfaketime, one process per time zone) with random answers at random and
due-driven moments, so that at any moment some cards are new, some in intraday or day
learning, in review or relearning, some due within or beyond the learn-ahead limit, and the
daily limits are partly or wholly used. The same answers go through our review service (with
Anki's fuzz draws, so both sides hold the same due times); at each probe moment (around 04:00,
around a learning card entering the learn-ahead window and falling due, and at random) the
(new, learning, review) counts of our StudyQueue (the study page) and of deck_queue_counts
(the dashboard) must equal Anki's `col.sched.counts()` on a freshly built queue.
"""

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cards.models import Card, Deck, MemoryState
from cards.scheduling import Scheduler
from cards.services.queue import StudyQueue, deck_queue_counts
from cards.services.reviews import card_state, issue_review_token, record_review
from cards.services.settings import get_study_settings
from tests.conftest import make_user

from .anki.oracle import GROUPS, LIBFAKETIME, comparable, created_at, policy_of, run_module
from .anki.oracle import card_state as anki_state
from .anki.rng import draw_as_anki

pytest.importorskip("anki", reason="the oracle needs the `anki` package (the dev extra)")
if not os.path.exists(LIBFAKETIME):
    pytest.skip("the oracle needs libfaketime (scripts/ensure-faketime)", allow_module_level=True)

SEED = 14
ZONES = ("UTC", "Asia/Kolkata", "America/Los_Angeles")  # the week has no DST change
DAYS = 7
# (name, settings group, new/day, reviews/day, learn-ahead seconds, cards): tight limits so
# that they are hit, day learning (group C's 1-day step), and learn-ahead of 5, 20 and 60 min.
DECKS = (
    ("tight", "A", 5, 12, 1200, 40),
    ("day-learning", "C", 8, 10, 1200, 30),
    ("short-ahead", "B", 20, 200, 300, 25),
    ("long-ahead", "A", 6, 30, 3600, 30),
)


def jobs() -> dict[str, dict]:
    result = {}
    for tz in ZONES:
        start = int(datetime(2024, 5, 6, 9, tzinfo=ZoneInfo(tz)).timestamp())
        decks = [
            {"name": name, "letter": letter, "learn_ahead": ahead, "cards": cards,
             "start": start, "days": DAYS,
             "group": dict(GROUPS[letter], new_per_day=new, reviews_per_day=reviews)}
            for name, letter, new, reviews, ahead, cards in DECKS
        ]  # fmt: skip
        result[tz] = {"seed": SEED, "tz": tz, "created": created_at(tz), "decks": decks}
    return result


@pytest.fixture(scope="module")
def anki_events():
    work = jobs()
    return work, run_module("tests.scheduling.anki.queue_worker", work)


def our_decks(tz: str, job: dict) -> dict[str, tuple]:
    """One user per Anki deck (Anki's limits are per deck, ours per user), with its settings."""
    decks = {}
    for spec in job["decks"]:
        user = make_user(f"{spec['name']}-{tz.split('/')[-1]}"[:30])
        settings = get_study_settings(user)
        group = spec["group"]
        for name in ("learning_steps", "relearning_steps", "desired_retention",
                     "maximum_interval"):  # fmt: skip
            setattr(settings, name, group[name])
        settings.new_cards_per_day = group["new_per_day"]
        settings.reviews_per_day = group["reviews_per_day"]
        settings.learn_ahead_minutes = spec["learn_ahead"] // 60
        settings.timezone, settings.rating_scale = tz, "four"
        settings.save()
        deck = Deck.objects.create(owner=user, name=spec["name"])
        cards = Card.objects.bulk_create(
            Card(deck=deck, question=f"q{i}", answer="a", position=i) for i in range(spec["cards"])
        )
        decks[spec["name"]] = (user, deck, cards, spec["letter"])
    return decks


def answer_as_anki_did(user, card, letter: str, tz: str, event: dict, moment) -> None:
    memory = MemoryState.objects.filter(user=user, card=card).first()
    token = issue_review_token(user, card, memory)
    stored = card_state(record_review(user, token, event["rating"], 1000, now=moment).memory)
    ours = comparable(stored, Scheduler(policy_of(letter, tz)).scheduled_days(stored), tz)
    theirs = comparable(anki_state(event["after"], letter, tz), event["after"]["ivl"], tz)
    assert ours == theirs, (tz, event)  # the same states, so that the counts can be compared


def ahead_of(user) -> int:
    return get_study_settings(user).learn_ahead_minutes


def due_at(user, deck, moment) -> int:
    return MemoryState.objects.filter(user=user, deck=deck, due=moment).count()


def our_counts(user, deck, moment) -> dict[str, tuple[int, int, int]]:
    """(new, learning, review) as the study page and as the dashboard count them."""
    page = StudyQueue(user, deck, now=moment).counts()
    dashboard = deck_queue_counts(user, [deck], now=moment)[deck.pk]
    return {
        source: (counts.new, counts.learning, counts.review)
        for source, counts in (("study page", page), ("dashboard", dashboard))
    }


def test_queue_counts_equal_ankis_at_every_probe(anki_events, db, monkeypatch):
    work, events = anki_events
    draws = draw_as_anki(monkeypatch)  # to fill: our card id -> Anki's card id
    tally = Counter()
    mismatches = []
    for tz in ZONES:
        decks = our_decks(tz, work[tz])
        for event in events[tz]:
            user, deck, cards, letter = decks[event["deck"]]
            moment = datetime.fromtimestamp(event["at"], UTC)
            if event["kind"] == "answer":
                draws[cards[event["card"]].pk] = event["card_id"]
                answer_as_anki_did(user, cards[event["card"]], letter, tz, event, moment)
                tally["answers"] += 1
                continue
            anki = tuple(event["queue"])
            tally["probes"] += 1
            tally["probes with learning"] += anki[1] > 0
            if event["tree"] != event["queue"]:
                # Anki's deck list counts intraday cards due before the cutoff, not at it.
                tally["deck list differs from study screen"] += 1
                at_cutoff = due_at(user, deck, moment + timedelta(minutes=ahead_of(user)))
                assert (anki[0], anki[1] - at_cutoff, anki[2]) == tuple(event["tree"]), event
            for source, ours in our_counts(user, deck, moment).items():
                if ours != anki:
                    local = moment.astimezone(ZoneInfo(tz))
                    mismatches.append(f"{tz} {event['deck']} {local} {source}: {ours} vs {anki}")
    print(f"\nAnki queue parity: {dict(tally)}; {len(mismatches)} mismatches")
    assert tally["probes"] >= 500
    assert not mismatches, "\n".join(mismatches[:40])
