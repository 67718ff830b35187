"""A big, realistic Anki deck package for bench/apkg_import.py, written by Anki itself.

Answering 1,000,000 reviews through Anki's scheduler would take hours, so the rows are made
here and inserted with sqlite3 into a collection that the `anki` package created (its real
schema, note types, decks and config); `anki` then reopens the collection and exports it as an
.apkg (zstd `collection.anki21b`, Anki 2.1.50+'s format), exactly as Anki's File › Export
would. The history is shaped like a real one: learning steps, then reviews at growing
intervals with lapses and relearning, the last review before now; some cards new, suspended,
buried or flagged; FSRS memory (stability, difficulty, last review) on every reviewed card
unless `memory=False` (then the importer replays the history).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import time
from pathlib import Path

DAY = 86_400
DECKS = [f"Bench::Language {i:02d}::Part {j}" for i in range(10) for j in (1, 2)]
WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
         "do", "eiusmod", "tempor", "incididunt", "labore", "dolore", "magna"]  # fmt: skip


def _text(rnd: random.Random, i: int, side: str) -> str:
    words = " ".join(rnd.choices(WORDS, k=rnd.randint(3, 14)))
    return f"<b>{side} {i}</b> {words}" + ("<br>" + words if rnd.random() < 0.2 else "")


def _history(rnd: random.Random, count: int):
    """(seconds after the first review, ease, interval, last interval, type) for `count`
    answers; the card ends in review with the returned interval (days)."""
    rows, at, ivl = [], 0, 0
    steps = min(count - 1, rnd.randint(1, 2))  # learning steps before graduating
    for k in range(steps):
        rows.append((at, 3 if k else 1, -600, 0 if k == 0 else -600, 0))
        at += 600
    ivl = 1
    rows.append((at, 3, ivl, -600 if steps else 0, 0))
    while len(rows) < count:
        at += ivl * DAY + rnd.randint(-3600, 3600 * 6)
        if rnd.random() < 0.1 and len(rows) < count - 2:  # a lapse, then relearning
            rows.append((at, 1, -600, ivl, 1))
            at += 600 + rnd.randint(0, 300)
            ivl = max(1, ivl // 3)
            rows.append((at, 3, ivl, -600, 2))
            continue
        last, ease = ivl, 4 if rnd.random() < 0.1 else (2 if rnd.random() < 0.1 else 3)
        ivl = min(1000, max(ivl + 1, round(ivl * {2: 1.2, 3: 1.8, 4: 2.4}[ease])))
        rows.append((at, ease, ivl, last, 1))
    return rows, ivl


def _rows(cards: int, reviews: int, mid: int, deck_ids: list[int], crt: int, memory: bool,
          seed: int):  # fmt: skip
    """The notes, cards and revlog rows (schema 11 columns, which schema 18 keeps)."""
    rnd = random.Random(seed)
    now = int(time.time())
    reviewed = int(cards * 0.8)  # a fifth of the cards still new
    counts = [rnd.randint(2, max(2, 2 * reviews // reviewed - 2)) for _ in range(reviewed)]
    while (excess := sum(counts) - reviews) != 0:  # exactly `reviews` answers in all
        i = rnd.randrange(reviewed)
        counts[i] = max(2, counts[i] - excess) if excess > 0 else counts[i] - excess
    notes, card_rows, revlog, used = [], [], [], set()
    for i in range(cards):
        front, back = _text(rnd, i, "Question"), _text(rnd, i, "Answer")
        stripped = front.replace("<b>", "").replace("</b>", "")
        csum = int(hashlib.sha1(stripped.encode()).hexdigest()[:8], 16)
        queue_flags = (-1 if rnd.random() < 0.02 else -3 if rnd.random() < 0.005 else None,
                       rnd.randint(1, 7) if rnd.random() < 0.03 else 0)  # fmt: skip
        if i >= reviewed:
            nid = (now - 30 * DAY) * 1000 + i
            notes.append((nid, f"bench{i:09d}", mid, now, -1, " new ", f"{front}\x1f{back}",
                          stripped, csum, 0, ""))  # fmt: skip
            card_rows.append((nid, nid, deck_ids[i % len(deck_ids)], 0, now, -1, 0,
                              queue_flags[0] or 0, i, 0, 0, 0, 0, 0, 0, 0, queue_flags[1],
                              "{}"))  # fmt: skip
            continue
        history, ivl = _history(rnd, counts[i])
        last = now - rnd.randint(0, ivl) * DAY - rnd.randint(0, DAY)  # due soon, some overdue
        room = last - crt - DAY
        if history[-1][0] > room:  # a long history: squeezed into the collection's years
            history = [(at * room // history[-1][0], *rest) for at, *rest in history]
        span = history[-1][0]
        first = last - span
        nid = first * 1000 - 60_000 + i % 1000
        while nid in used:
            nid += 1
        used.add(nid)
        lapses, rid = 0, 0
        for at, ease, r_ivl, r_last, kind in history:
            rid = max(rid + 1, (first + at) * 1000 + rnd.randint(0, 999))  # in answer order
            while rid in used:
                rid += 1
            used.add(rid)
            lapses += ease == 1 and kind == 1
            revlog.append((rid, nid, -1, ease, r_ivl, r_last, 2500, rnd.randint(1500, 20000),
                           kind))  # fmt: skip
        last_at = first + span
        due_day = (last_at + ivl * DAY - crt) // DAY
        data = "{}"
        if memory:
            data = json.dumps({"s": round(ivl * rnd.uniform(0.7, 1.3), 4),
                               "d": round(rnd.uniform(1, 10), 4), "dr": 0.9, "lrt": last_at},
                              separators=(",", ":"))  # fmt: skip
        tags = " " + " ".join(sorted({f"topic{i % 50}", "leech" if lapses > 6 else "ok"})) + " "
        notes.append((nid, f"bench{i:09d}", mid, last_at, -1, tags, f"{front}\x1f{back}",
                      stripped, csum, 0, ""))  # fmt: skip
        card_rows.append((nid, nid, deck_ids[i % len(deck_ids)], 0, last_at, -1, 2,
                          queue_flags[0] or 2, due_day, ivl, 2500 - 150 * min(lapses, 8),
                          len(history), lapses, 0, 0, 0, queue_flags[1], data))  # fmt: skip
    return notes, card_rows, revlog


def build(out: Path, *, cards: int, reviews: int, memory: bool = True, seed: int = 1) -> Path:
    """Write the package to `out` (its working collection beside it, removed after)."""
    from anki.collection import Collection, ExportAnkiPackageOptions

    work = out.with_suffix(".anki2")
    for path in (work, Path(f"{work}-wal"), out):
        path.unlink(missing_ok=True)
    col = Collection(str(work))
    col.set_config("fsrs", memory)
    mid = col.models.by_name("Basic")["id"]
    deck_ids = [col.decks.id(name) for name in DECKS]
    col.close()
    db = sqlite3.connect(work)
    # The collection began twelve years ago, at its day's rollover hour (crt is such a time).
    crt = db.execute("select crt from col").fetchone()[0] - 12 * 365 * DAY
    db.execute("update col set crt = ?", (crt,))
    notes, card_rows, revlog = _rows(cards, reviews, mid, deck_ids, crt, memory, seed)
    db.executemany(f"insert into notes values ({','.join('?' * 11)})", notes)
    db.executemany(f"insert into cards values ({','.join('?' * 18)})", card_rows)
    db.executemany(f"insert into revlog values ({','.join('?' * 9)})", revlog)
    db.commit()
    db.close()
    col = Collection(str(work))
    options = ExportAnkiPackageOptions(
        with_scheduling=True, with_deck_configs=True, with_media=False, legacy=False
    )
    try:
        col.export_anki_package(out_path=str(out), options=options, limit=None)
    finally:
        col.close()
        work.unlink(missing_ok=True)
        shutil.rmtree(work.with_suffix(".media"), ignore_errors=True)  # Anki's media folder
    return out
