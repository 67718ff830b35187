"""Lapse cards over and over in the real Anki backend and report when it calls them leeches.

Started by tests/scheduling/test_anki_leech.py as `python -m tests.scheduling.anki.leech_worker`
under libfaketime (oracle.start_anki). Input on stdin (JSON): {"tz", "created", "clock_file",
"answers": [[rating 1-4, epoch], ...], "cases": [{"threshold", "action": "tag"|"suspend"}]}.
Each case is one card in a deck whose config has that leech threshold and action; every card
gets the same answers, side by side, so the clock only moves forward. A card Anki suspends as a
leech is unsuspended at once (as a learner would), so that its later lapses count too. Output,
one JSON line per case and answer: {"case", "step", "type", "lapses", "leeched" (the answer's
new state is a leech: Anki's reviewer says so), "tagged" (the note has the tag leech),
"suspended" (Anki suspended it on this answer)}.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from anki.collection import Collection
from anki.consts import QUEUE_TYPE_SUSPENDED
from anki.scheduler_pb2 import CardAnswer

from .worker import DAY_START_HOUR, Clock

LEECH_ACTIONS = {"suspend": 0, "tag": 1}  # Anki's LEECH_SUSPEND, LEECH_TAGONLY


def add_case(col: Collection, index: int, case: dict) -> int:
    conf = col.decks.add_config(f"leech {index}")
    conf["new"]["delays"] = [1.0, 10.0]
    conf["lapse"]["delays"] = [10.0]
    conf["lapse"]["leechFails"] = case["threshold"]
    conf["lapse"]["leechAction"] = LEECH_ACTIONS[case["action"]]
    col.decks.update_config(conf)
    did = col.decks.id(f"leech {index}")
    deck = col.decks.get(did)
    deck["conf"] = conf["id"]
    col.decks.save(deck)
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = f"leech {index}", "a"
    col.add_note(note, did)
    return note.cards()[0].id


def answer(col: Collection, card_id: int, rating: int, at: int) -> bool:
    """Answer with rating 1-4 at `at`; whether the new state is a leech."""
    states = col._backend.get_scheduling_states(card_id)
    new_state = (states.again, states.hard, states.good, states.easy)[rating - 1]
    col.sched.answer_card(
        CardAnswer(
            card_id=card_id,
            current_state=states.current,
            new_state=new_state,
            rating=rating - 1,
            answered_at_millis=at * 1000,
            milliseconds_taken=1000,
        )
    )
    return col.sched.state_is_leech(new_state)


def main() -> None:
    job = json.load(sys.stdin)
    clock = Clock(job["clock_file"])
    clock.set(job["created"])
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "leech.anki2"))
        col.set_config("fsrs", True)
        col.set_config("rollover", DAY_START_HOUR)
        cards = [add_case(col, index, case) for index, case in enumerate(job["cases"])]
        for step, (rating, at) in enumerate(job["answers"]):
            clock.set(at)
            for index, card_id in enumerate(cards):
                leeched = answer(col, card_id, rating, at)
                card = col.get_card(card_id)
                suspended = card.queue == QUEUE_TYPE_SUSPENDED
                if suspended:
                    col.sched.unsuspend_cards([card_id])
                line = {"case": index, "step": step, "type": card.type, "lapses": card.lapses,
                        "leeched": leeched, "tagged": card.note().has_tag("leech"),
                        "suspended": suspended}  # fmt: skip
                print(json.dumps(line), flush=True)
        col.close()


if __name__ == "__main__":
    main()
