"""Build a collection in the real Anki backend and report which cards each custom study mode
picks (rslib scheduler/filtered/custom_study.rs), at chosen moments.

Started by tests/scheduling/test_anki_custom_study.py as
`python -m tests.scheduling.anki.custom_study_worker`, one process per time zone, under
libfaketime like worker.py. Input on stdin (JSON): {"tz", "clock_file", "created", "group",
"learn_ahead", "events": [[at, kind, payload], ...]} in time order, where kind is
- "add": {"card": index, "tags": [...]}: a Basic note added to the deck at `at`;
- "answer": {"card", "rating"} (1 Again … 4 Easy);
- "suspend" / "bury": {"card"}: Anki's suspend and manual bury;
- "study": {"mode": "forgot" | "ahead" | "preview" | "cram", "days", "tag", "limit"}: a
  custom study session built with col.sched.custom_study and the CustomStudyRequest proto,
  its cards reported, then the filtered deck deleted (the cards go home);
- "limits": {"new", "reviews"}: NewLimitDelta / ReviewLimitDelta, then the deck's queue counts.
Output, JSON lines: {"at", "kind": "add", "card", "card_id"} (Anki's id, which seeds its
fuzz), {"at", "kind": "study", "query", "cards": [indexes in the filtered deck's order] or
"error"} and {"at", "kind": "limits", "query", "counts": [new, learning, review]}.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from anki.collection import Collection
from anki.scheduler_pb2 import CustomStudyRequest

from .queue_worker import probe
from .worker import Clock, answer, setup

SESSION_DECK = "Custom Study Session"


def request_for(did: int, query: dict) -> CustomStudyRequest:
    request = CustomStudyRequest(deck_id=did)
    mode = query["mode"]
    if mode == "forgot":
        request.forgot_days = query["days"]
    elif mode == "ahead":
        request.review_ahead_days = query["days"]
    elif mode == "preview":
        request.preview_days = query["days"]
    elif mode == "cram":
        request.cram.kind = CustomStudyRequest.Cram.CRAM_KIND_ALL
        request.cram.card_limit = query["limit"]
        if query.get("tag"):
            request.cram.tags_to_include.append(query["tag"])
    elif mode == "limits":
        if query.get("new"):
            request.new_limit_delta = query["new"]
        else:
            request.review_limit_delta = query["reviews"]
    return request


def study(col: Collection, did: int, query: dict, index_of: dict) -> dict:
    try:
        col.sched.custom_study(request_for(did, query))
    except Exception as exc:  # Anki's "no cards matched" is a backend error
        return {"error": str(exc)}
    session = col.decks.id_for_name(SESSION_DECK)
    cards = [col.get_card(cid) for cid in col.find_cards(f'"deck:{SESSION_DECK}"')]
    cards.sort(key=lambda card: (card.due, card.id))  # the filtered deck's positions
    col.decks.remove([session])  # the cards go back to their deck
    return {"cards": [index_of[card.id] for card in cards]}


def main() -> None:
    job = json.load(sys.stdin)
    clock = Clock(job["clock_file"])
    clock.set(job["created"])
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "custom.anki2"))
        did = setup(col, {"deck": job["group"]})["deck"]
        basic = col.models.by_name("Basic")
        card_ids, index_of = {}, {}
        for at, kind, payload in job["events"]:
            clock.set(at)
            if kind == "add":
                note = col.new_note(basic)
                note["Front"], note["Back"] = f"q{payload['card']}", "a"
                note.tags = payload["tags"]
                col.add_note(note, did)
                card_ids[payload["card"]] = note.cards()[0].id
                index_of[note.cards()[0].id] = payload["card"]
                print(json.dumps({"at": at, "kind": kind, "card": payload["card"],
                                  "card_id": note.cards()[0].id}))  # fmt: skip
            elif kind == "answer":
                answer(col, card_ids[payload["card"]], payload["rating"] - 1, at)
            elif kind == "suspend":
                col.sched.suspend_cards([card_ids[payload["card"]]])
            elif kind == "bury":
                col.sched.deck_due_tree()  # today's unburying done first, as in the app
                col.sched.bury_cards([card_ids[payload["card"]]], manual=True)
            elif kind == "study":
                # Anki unburies after a day rollover when the deck list is drawn, as its
                # main screen does before custom study can be chosen.
                col.sched.deck_due_tree()
                out = {
                    "at": at,
                    "kind": kind,
                    "query": payload,
                    **study(col, did, payload, index_of),
                }
                print(json.dumps(out), flush=True)
            elif kind == "limits":
                col.sched.custom_study(request_for(did, {"mode": "limits", **payload}))
                counts = probe(col, did, job["learn_ahead"])["queue"]
                print(json.dumps({"at": at, "kind": kind, "query": payload, "counts": counts}))
        col.close()


if __name__ == "__main__":
    main()
