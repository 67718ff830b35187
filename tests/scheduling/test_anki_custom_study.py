"""Custom study against the real Anki backend: the same small collection is built in Anki
(tests/scheduling/anki/custom_study_worker.py, its clock set by libfaketime) and here, and at
moments across ten days each mode's selection must be the same cards: review forgotten cards
(`rated:N:1`), review ahead (`prop:due<=N`), preview new cards (`is:new added:N`, in the order
added), cram (all cards, a tag or one under it, a card limit), with suspended and buried cards
left out; raising today's new-card or review limit must give Anki's queue counts.

Cards are added at random moments, answered at random later moments (Anki's fuzz draws, so
both sides hold the same due times), some suspended or buried near the end.
"""

import os
import random
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cards.models import Card, Deck, MemoryState
from cards.scheduling import State
from cards.services import custom_study as cs
from cards.services.queue import StudyQueue
from cards.services.reviews import issue_review_token, record_review
from cards.services.settings import get_study_settings, study_day_bounds
from tests.conftest import make_user

from .anki.oracle import GROUPS, LIBFAKETIME, created_at, run_module
from .anki.rng import draw_as_anki

pytest.importorskip("anki", reason="the oracle needs the `anki` package (the dev extra)")
if not os.path.exists(LIBFAKETIME):
    pytest.skip("the oracle needs libfaketime (scripts/ensure-faketime)", allow_module_level=True)

SEED = 15
ZONES = ("UTC", "America/Los_Angeles")  # May 2024: no DST change
CARDS = 28
LEARN_AHEAD = 1200
GROUP = dict(GROUPS["A"], new_per_day=4, reviews_per_day=8)
TAGS = ([], ["verb"], ["Verb", "grammar::noun"], ["grammar"], ["grammarian"], ["noun"])
QUERIES = [
    *({"mode": "forgot", "days": days} for days in (1, 2, 7)),
    *({"mode": "ahead", "days": days} for days in (1, 3, 10)),
    *({"mode": "preview", "days": days} for days in (1, 2, 5)),
    {"mode": "cram", "limit": 9999, "tag": ""},
    {"mode": "cram", "limit": 9999, "tag": "verb"},
    {"mode": "cram", "limit": 9999, "tag": "grammar"},
    {"mode": "cram", "limit": 5, "tag": ""},
]


def events_for(tz: str) -> list[list]:
    """Adds, answers, marks and queries over ten days from 6 May 2024, 09:00 local."""
    rng = random.Random(f"{SEED}:{tz}")
    start = int(datetime(2024, 5, 6, 9, tzinfo=ZoneInfo(tz)).timestamp())
    day = 86400
    marks_at = start + 8 * day + 3600
    events = []
    for index in range(CARDS):
        added = start + rng.randint(0, 7 * day)
        events.append([added, "add", {"card": index, "tags": rng.choice(TAGS)}])
        at = added
        for _ in range(rng.choice((0, 0, 1, 2, 3, 5))):
            at += rng.choice((60, 600, 3600, 6 * 3600, day, 2 * day)) + rng.randint(1, 900)
            if at >= marks_at:
                break
            events.append([at, "answer", {"card": index, "rating": rng.choice((1, 1, 2, 3, 3, 4))}])
    events.append([marks_at, "suspend", {"card": 3}])
    events.append([marks_at + 1, "bury", {"card": 4}])
    moments = [start + rng.randint(day, 10 * day) for _ in range(8)]
    moments += [marks_at + 60, marks_at + day + 60]  # buried, then unburied
    for moment in moments:
        events += [[moment + i, "study", query] for i, query in enumerate(QUERIES)]
    for offset, delta in ((2 * day + 7200, {"new": 3}), (5 * day + 600, {"reviews": 4})):
        events.append([start + offset, "limits", delta])
    events.sort(key=lambda event: (event[0], event[1] != "add"))
    return events


@pytest.fixture(scope="module")
def anki_runs():
    jobs = {
        tz: {"tz": tz, "created": created_at(tz), "group": GROUP, "learn_ahead": LEARN_AHEAD,
             "events": events_for(tz)}
        for tz in ZONES
    }  # fmt: skip
    return jobs, run_module("tests.scheduling.anki.custom_study_worker", jobs)


def our_user(tz: str):
    user = make_user(f"custom-{tz.split('/')[-1]}"[:30])
    settings = get_study_settings(user)
    for name in ("learning_steps", "relearning_steps", "desired_retention", "maximum_interval"):
        setattr(settings, name, GROUP[name])
    settings.new_cards_per_day, settings.reviews_per_day = GROUP["new_per_day"], 8
    settings.learn_ahead_minutes = LEARN_AHEAD // 60
    settings.timezone, settings.rating_scale, settings.day_start_hour = tz, "four", 4
    settings.save()
    return user, Deck.objects.create(owner=user, name="deck")


def mark(user, card, moment, kind):
    memory = MemoryState.objects.filter(user=user, card=card).first()
    if memory is None:
        memory = MemoryState.of(user, card, state=State.NEW, due=moment)
    if kind == "suspend":
        memory.suspended = True
    else:
        memory.buried_until = study_day_bounds(get_study_settings(user), moment)[2]
    memory.save()


def test_custom_study_picks_the_cards_anki_picks(anki_runs, db, monkeypatch):
    jobs, outputs = anki_runs
    draws = draw_as_anki(monkeypatch)  # to fill: our card id -> Anki's card id
    tally, mismatches = Counter(), []
    for tz in ZONES:
        user, deck = our_user(tz)
        anki_ids = {line["card"]: line["card_id"] for line in outputs[tz] if line["kind"] == "add"}
        answers = iter(line for line in outputs[tz] if line["kind"] in ("study", "limits"))
        cards, index_of = {}, {}
        for at, kind, payload in jobs[tz]["events"]:
            moment = datetime.fromtimestamp(at, UTC)
            if kind == "add":
                tags, index = " ".join(payload["tags"]), payload["card"]
                card = Card.objects.create(
                    deck=deck, question=f"q{index}", answer="a", position=index, tags=tags
                )
                Card.objects.filter(pk=card.pk).update(created_at=moment)
                cards[payload["card"]], index_of[card.pk] = card, payload["card"]
                draws[card.pk] = anki_ids[payload["card"]]
            elif kind == "answer":
                card = cards[payload["card"]]
                memory = MemoryState.objects.filter(user=user, card=card).first()
                token = issue_review_token(user, card, memory)
                record_review(user, token, payload["rating"], 1000, now=moment)
            elif kind in ("suspend", "bury"):
                mark(user, cards[payload["card"]], moment, kind)
            elif kind == "limits":
                anki = next(answers)
                cs.raise_limits(user, new=payload.get("new", 0),
                                reviews=payload.get("reviews", 0), now=moment)  # fmt: skip
                counts = StudyQueue(user, deck, now=moment).counts()
                ours = [counts.new, counts.learning, counts.review]
                tally["limit boosts"] += 1
                if ours != anki["counts"]:
                    mismatches.append(f"{tz} {moment} {payload}: {ours} vs Anki {anki['counts']}")
            else:
                anki = next(answers)
                assert anki["query"] == payload
                query = dict(payload)
                picked = cs.pick_cards(cs.Scope(user, deck, moment), query.pop("mode"), **query)
                ours = [index_of[card_id] for card_id in picked]
                theirs = anki.get("cards", [])
                tally[payload["mode"]] += 1
                tally["empty"] += not theirs
                if payload["mode"] == "preview":
                    same = ours == theirs  # Anki's order: the order added
                elif payload["mode"] == "cram" and payload["limit"] < CARDS:
                    same = len(ours) == len(theirs)  # a random few
                else:
                    same = sorted(ours) == sorted(theirs)  # random, or due with random ties
                if not same:
                    local = moment.astimezone(ZoneInfo(tz))
                    mismatches.append(f"{tz} {local} {payload}: {ours} vs Anki {theirs}")
    print(f"\nAnki custom study parity: {dict(tally)}; {len(mismatches)} mismatches")
    assert tally["forgot"] >= 40 and tally["limit boosts"] == 4
    assert tally["empty"] < sum(tally[mode] for mode in ("forgot", "ahead", "preview", "cram"))
    assert not mismatches, "\n".join(mismatches[:40])
