"""Run generated histories through the real Anki backend; print every step as JSON lines.

Started by the oracle test as `python -m tests.scheduling.anki.worker`, one process per time
zone, with TZ set and libfaketime preloaded (a frozen clock read from FAKETIME_TIMESTAMP_FILE,
in epoch seconds). Input on stdin (JSON): {"seed", "histories", "groups", "clock_file",
"created"}. The histories run interleaved in time order so the clock only moves forward (Anki
caches today's timing until the next day start). Each history answers one card; the next
answer time is drawn from the card's due (on time, late, early, at 04:00 +- 90 s).
"""

from __future__ import annotations

import heapq
import json
import os
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from anki.collection import Collection
from anki.scheduler_pb2 import CardAnswer

RATINGS = (CardAnswer.AGAIN, CardAnswer.HARD, CardAnswer.GOOD, CardAnswer.EASY)
WEIGHTS = (0.2, 0.12, 0.53, 0.15)
DAY_START_HOUR = 4
HORIZON = 1893456000  # 2030-01-01: histories with huge intervals stop there


def card_fields(card) -> dict:
    memory = card.memory_state
    return {
        "type": card.type,
        "queue": card.queue,
        "due": card.due,
        "ivl": card.ivl,
        "left": card.left,
        "reps": card.reps,
        "lapses": card.lapses,
        "stability": memory.stability if memory else None,
        "difficulty": memory.difficulty if memory else None,
        "last_review": card.last_review_time,
    }


def answer(col: Collection, card_id: int, rating: int, at: int) -> tuple[dict, dict]:
    """Answer a card at `at` (seconds) with rating 0 Again … 3 Easy: its fields before and after."""
    before = card_fields(col.get_card(card_id))
    states = col._backend.get_scheduling_states(card_id)
    new_state = (states.again, states.hard, states.good, states.easy)[rating]
    col.sched.answer_card(
        CardAnswer(
            card_id=card_id,
            current_state=states.current,
            new_state=new_state,
            rating=rating,
            answered_at_millis=at * 1000,
            milliseconds_taken=1000,
        )
    )
    return before, card_fields(col.get_card(card_id))


def setup(col: Collection, groups: dict) -> dict:
    col.set_config("fsrs", True)
    col.set_config("loadBalancerEnabled", False)
    col.set_config("rollover", DAY_START_HOUR)
    decks = {}
    for name, group in groups.items():
        conf = col.decks.add_config(f"group {name}")
        conf["new"]["delays"] = [s / 60 for s in group["learning_steps"]]
        conf["lapse"]["delays"] = [s / 60 for s in group["relearning_steps"]]
        conf["rev"]["maxIvl"] = group["maximum_interval"]
        conf["new"]["perDay"] = group["new_per_day"]
        conf["rev"]["perDay"] = group["reviews_per_day"]
        conf["desiredRetention"] = group["desired_retention"]
        conf["fsrsParams6"] = group["parameters"]
        col.decks.update_config(conf)
        did = col.decks.id(f"group {name}")
        deck = col.decks.get(did)
        deck["conf"] = conf["id"]
        col.decks.save(deck)
        decks[name] = did
    return decks


class Clock:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def set(self, epoch: int) -> None:
        # Replace the file whole: libfaketime rereads it on every clock call.
        partial = self.path.with_suffix(".new")
        partial.write_text(f"{epoch}\n")
        os.replace(partial, self.path)


def next_time(rng: random.Random, now: int, after: dict, tz: ZoneInfo, day0) -> int:
    """When the learner answers next: mostly on time, sometimes early, late or near 04:00."""
    if after["queue"] == 1:  # intraday learning: due is an epoch second
        base = after["due"] + rng.choice((0, 0, 5, 60, 600, 3600, -120, -600))
    else:
        day = day0 + timedelta(days=after["due"])
        if rng.random() < 0.2:
            day += timedelta(days=rng.randint(1, max(2, after["ivl"])))  # overdue
        elif rng.random() < 0.1:
            day -= timedelta(days=rng.randint(1, max(1, after["ivl"] // 2)))  # early
        start = datetime(day.year, day.month, day.day, DAY_START_HOUR, tzinfo=tz)
        base = int(start.timestamp()) + rng.randint(0, 20 * 3600)
    if rng.random() < 0.15:  # within 90 s of a day start
        local = datetime.fromtimestamp(base, tz)
        start = datetime(local.year, local.month, local.day, DAY_START_HOUR, tzinfo=tz)
        base = int(start.timestamp()) + rng.randint(-90, 90)
    return max(base, now + rng.randint(1, 40))


def main() -> None:
    job = json.load(sys.stdin)
    tz = ZoneInfo(job["tz"])
    clock = Clock(job["clock_file"])
    clock.set(job["created"])
    created_local = datetime.fromtimestamp(job["created"], tz)
    day0 = created_local.date()
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "oracle.anki2"))
        assert col.sched.today == 0, col.sched.today
        decks = setup(col, job["groups"])
        basic = col.models.by_name("Basic")
        queue = []
        for index, history in enumerate(job["histories"]):
            note = col.new_note(basic)
            note["Front"], note["Back"] = f"q{index}", "a"
            col.add_note(note, decks[history["group"]])
            card_id = note.cards()[0].id
            rng = random.Random(f"{job['seed']}:{index}")
            fixed = history.get("answers")  # [[rating 1-4, epoch], ...] instead of generated ones
            if fixed:
                history["start"], history["length"] = fixed[0][1], len(fixed)
            heapq.heappush(queue, (history["start"], index, card_id, rng, history["length"]))
        while queue:
            at, index, card_id, rng, remaining = heapq.heappop(queue)
            clock.set(at)
            fixed = job["histories"][index].get("answers")
            done = job["histories"][index]["length"] - remaining
            rating = fixed[done][0] - 1 if fixed else rng.choices(RATINGS, WEIGHTS)[0]
            today = col.sched.today
            before, after = answer(col, card_id, rating, at)
            step = {"history": index, "card_id": card_id, "at": at, "rating": int(rating) + 1,
                    "today": today, "before": before, "after": after}  # fmt: skip
            print(json.dumps(step), flush=True)
            if fixed and remaining > 1:
                later = fixed[done + 1][1]
            else:
                later = next_time(rng, at, after, tz, day0)
            if remaining > 1 and later < HORIZON:
                heapq.heappush(queue, (later, index, card_id, rng, remaining - 1))
        col.close()


if __name__ == "__main__":
    main()
