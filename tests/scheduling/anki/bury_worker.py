"""Answer one card of a two-card note in the real Anki backend and report whether Anki buried
the other (its sibling), for each bury setting and each queue of the two cards.

Started by tests/scheduling/test_anki_bury.py as `python -m tests.scheduling.anki.bury_worker`
under libfaketime (oracle.start_anki). Input on stdin (JSON): {"tz", "created", "now",
"clock_file", "cases": [{"bury": [new, reviews, interday], "answered": kind, "sibling": kind}]}
with kinds "new", "intraday" (queue 1), "interday" (queue 3), "review" (queue 2). Each case is
one "Basic (and reversed card)" note in a deck whose config has those bury settings; the card
states are written straight into the cards, the first card is answered Good at "now". Output,
one JSON line per case: {"case", "buried" (the sibling's queue is Anki's sibling-buried)}.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from anki.collection import Collection
from anki.consts import QUEUE_TYPE_SIBLING_BURIED
from anki.scheduler_pb2 import CardAnswer

from .worker import DAY_START_HOUR, Clock

# (type, queue) of Anki's cards in each kind of queue.
KINDS = {"new": (0, 0), "intraday": (1, 1), "interday": (1, 3), "review": (2, 2)}


def add_case(col: Collection, index: int, case: dict, now: int) -> tuple[int, int]:
    conf = col.decks.add_config(f"bury {index}")
    conf["new"]["delays"] = [1.0, 10.0]
    conf["new"]["bury"], conf["rev"]["bury"], conf["buryInterdayLearning"] = case["bury"]
    col.decks.update_config(conf)
    did = col.decks.id(f"bury {index}")
    deck = col.decks.get(did)
    deck["conf"] = conf["id"]
    col.decks.save(deck)
    note = col.new_note(col.models.by_name("Basic (and reversed card)"))
    note["Front"], note["Back"] = f"front {index}", f"back {index}"
    col.add_note(note, did)
    cards = note.cards()
    for card, kind in zip(cards, (case["answered"], case["sibling"]), strict=True):
        card.type, card.queue = KINDS[kind]
        if kind == "review":
            card.due, card.ivl, card.factor, card.reps = col.sched.today, 3, 2500, 3
        elif kind == "interday":
            card.due, card.left, card.reps = col.sched.today, 1, 1
        elif kind == "intraday":
            card.due, card.left, card.reps = now - 60, 1, 1
        col.update_card(card)
    return cards[0].id, cards[1].id


def main() -> None:
    job = json.load(sys.stdin)
    clock = Clock(job["clock_file"])
    clock.set(job["created"])
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "bury.anki2"))
        col.set_config("rollover", DAY_START_HOUR)
        clock.set(job["now"])
        for index, case in enumerate(job["cases"]):
            answered, sibling = add_case(col, index, case, job["now"])
            states = col._backend.get_scheduling_states(answered)
            col.sched.answer_card(
                CardAnswer(
                    card_id=answered,
                    current_state=states.current,
                    new_state=states.good,
                    rating=CardAnswer.GOOD,
                    answered_at_millis=job["now"] * 1000,
                    milliseconds_taken=1000,
                )
            )
            buried = col.get_card(sibling).queue == QUEUE_TYPE_SIBLING_BURIED
            print(json.dumps({"case": index, "buried": buried}), flush=True)
        col.close()


if __name__ == "__main__":
    main()
