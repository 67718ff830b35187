"""Study decks in the real Anki backend and report its queue counts at chosen moments.

Started by the queue-parity test as `python -m tests.scheduling.anki.queue_worker`, one process
per time zone, under libfaketime like worker.py. Input on stdin (JSON): {"seed", "tz",
"clock_file", "created", "decks": [{"name", "group", "learn_ahead", "cards", "start", "days"}]}
with `group` the deck config (as oracle.GROUPS, with its daily limits) and `learn_ahead` the
learn-ahead limit in seconds (Anki's collection config `collapseTime`).

Each card of a deck is first answered at a random moment of the deck's `days` (some never, so
they stay new) and then again whenever worker.next_time says, until the deck's last day. Probes
(count the deck's queue) come at 03:59:59, 04:00:00 and 04:00:01 local of every day, at random
moments, and around intraday learning cards: the second one enters the learn-ahead window and
the seconds either side, 3 minutes before it falls due, the second before and the second it does.
Events run in time order (a probe before an answer at the same second). Output, JSON lines:
{"kind": "answer", "deck", "card", "card_id", "at", "rating", "before", "after"} and
{"kind": "probe", "deck", "at", "queue": [new, learning, review], "tree": [new, learning,
review]}: `queue` from col.sched.counts() on a freshly built queue (as the study screen
starts), `tree` from the deck list's deck_due_tree.
"""

from __future__ import annotations

import heapq
import json
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from anki.collection import Collection

from .worker import (
    DAY_START_HOUR,
    RATINGS,
    WEIGHTS,
    Clock,
    answer,
    next_time,
    setup,
)  # fmt: skip

PROBE, ANSWER = 0, 1  # at one second, the probe sees the queue before the answer
DEFAULT_DECK = 1


def probe(col: Collection, did: int, learn_ahead: int) -> dict:
    col.set_config("collapseTime", learn_ahead)
    col.decks.select(did)  # another deck was selected: the queue is rebuilt, cutoff = now
    queue = list(col.sched.counts())
    node = col.sched.deck_due_tree(did)
    col.decks.select(DEFAULT_DECK)  # drop the built queue: answers need not be its top card
    return {"queue": queue, "tree": [node.new_count, node.learn_count, node.review_count]}


def day_starts(tz: ZoneInfo, start: int, end: int) -> list[int]:
    day = datetime.fromtimestamp(start, tz).date()
    moments = []
    while True:
        four = datetime(day.year, day.month, day.day, DAY_START_HOUR, tzinfo=tz)
        if int(four.timestamp()) > end:
            return moments
        moments += [int(four.timestamp()) + delta for delta in (-1, 0, 1)]
        day += timedelta(days=1)


def main() -> None:
    job = json.load(sys.stdin)
    tz = ZoneInfo(job["tz"])
    clock = Clock(job["clock_file"])
    clock.set(job["created"])
    day0 = datetime.fromtimestamp(job["created"], tz).date()
    rng = random.Random(f"{job['seed']}:{job['tz']}")
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "queue.anki2"))
        decks = setup(col, {d["name"]: d["group"] for d in job["decks"]})
        basic = col.models.by_name("Basic")
        events = []  # (at, kind, order, payload)
        order = 0
        ends = {}
        for deck in job["decks"]:
            end = deck["start"] + deck["days"] * 86400
            ends[deck["name"]] = end
            for index in range(deck["cards"]):
                note = col.new_note(basic)
                note["Front"], note["Back"] = f"{deck['name']} q{index}", "a"
                col.add_note(note, decks[deck["name"]])
                if rng.random() < 0.8:  # the others stay new
                    first = deck["start"] + rng.randint(0, end - deck["start"])
                    card = (deck["name"], index, note.cards()[0].id)
                    events.append((first, ANSWER, order, card))
                    order += 1
            for at in day_starts(tz, deck["start"], end):
                events.append((at, PROBE, order, deck["name"]))
                order += 1
            for _ in range(deck["days"] * 4):
                events.append((rng.randint(deck["start"], end), PROBE, order, deck["name"]))
                order += 1
        heapq.heapify(events)
        settings = {d["name"]: d for d in job["decks"]}
        while events:
            at, kind, _, payload = heapq.heappop(events)
            clock.set(at)
            if kind == PROBE:
                counts = probe(col, decks[payload], settings[payload]["learn_ahead"])
                print(json.dumps({"kind": "probe", "deck": payload, "at": at, **counts}))
                continue
            name, index, card_id = payload
            rating = rng.choices(RATINGS, WEIGHTS)[0]
            before, after = answer(col, card_id, rating, at)
            step = {"kind": "answer", "deck": name, "card": index, "card_id": card_id, "at": at,
                    "rating": int(rating) + 1, "before": before, "after": after}  # fmt: skip
            print(json.dumps(step))
            later = next_time(rng, at, after, tz, day0)
            if later < ends[name]:
                heapq.heappush(events, (later, ANSWER, order, payload))
                order += 1
            if after["queue"] == 1 and rng.random() < 0.5:
                due, ahead = after["due"], settings[name]["learn_ahead"]
                window = (due - ahead - 1, due - ahead, due - ahead + 1)
                for moment in (*window, due - 180, due - 1, due):
                    if at < moment < ends[name]:
                        heapq.heappush(events, (moment, PROBE, order, name))
                        order += 1
        col.close()


if __name__ == "__main__":
    main()
