"""One user's schedule of a deck in Anki's terms: the card columns (type, queue, due, ivl, …,
FSRS memory in card.data) from their MemoryState, and revlog rows from their ReviewLog.

Anki counts review due dates in days since the collection's creation (crt), in study days
that start at its rollover hour. The exported crt is the start of a study day in the user's
time zone at their day-start hour, on or before their first review of the deck, so every
day number is the difference of two of the user's study days.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import islice

from django.db.models import Min

from cards.models import MemoryState, ReviewLog
from cards.scheduling.days import get_zone, study_day, study_day_start
from cards.scheduling.rules import State

# Anki's card types and queues (rslib/src/card/mod.rs).
NEW, LEARN, REVIEW, RELEARN = 0, 1, 2, 3
Q_SUSPENDED, Q_USER_BURIED, Q_NEW, Q_LEARN, Q_REVIEW, Q_DAY_LEARN = -1, -3, 0, 1, 2, 3
# revlog.type by the state a card was in when answered: learning, review, relearning.
REVLOG_TYPE = {State.NEW: 0, State.LEARNING: 0, State.REVIEW: 1, State.RELEARNING: 2}
DEFAULT_EASE = 2500
INT_MAX = 2**31 - 1
_MEMORY_FIELDS = (
    "card_id", "state", "step", "stability", "difficulty", "due", "last_review", "reps",
    "lapses", "suspended", "buried_until", "flag",
)  # fmt: skip


class ScheduleMapper:
    def __init__(self, deck_ids, user, settings, with_history: bool, now: datetime):
        self.deck_ids, self.user, self.with_history, self.now = deck_ids, user, with_history, now
        self.tz, self.hour = settings.timezone, settings.day_start_hour
        self.retention = settings.desired_retention
        self.steps = {
            State.LEARNING: len(settings.learning_steps),
            State.RELEARNING: len(settings.relearning_steps),
        }
        start = now
        if with_history:
            first = self._logs().aggregate(first=Min("reviewed_at"))["first"]
            start = min(first, now) if first else now
        self.crt_day = study_day(start, self.tz, self.hour)
        crt = study_day_start(self.crt_day, self.tz, self.hour)
        self.crt = int(crt.timestamp())
        self.crt_local = crt.astimezone(get_zone(self.tz))
        self._days: dict[int, int] = {}

    def _logs(self):
        return ReviewLog.objects.filter(user=self.user, card__deck__in=self.deck_ids)

    def _day(self, moment: datetime) -> int:
        """The day number of a moment: its study day counted from crt's. Memoised per quarter
        hour: every zone's offsets and changes fall on quarter hours, so a study day starts on
        one, and a million reviews fall in far fewer quarters than moments."""
        quarter = int(moment.timestamp()) // 900
        day = self._days.get(quarter)
        if day is None:
            day = (study_day(moment, self.tz, self.hour) - self.crt_day).days
            self._days[quarter] = day
        return day

    def memories(self, card_ids: list[int]) -> dict[int, tuple]:
        """The user's memory states of these cards (none without history), by card id."""
        if not self.with_history:
            return {}
        rows = MemoryState.objects.filter(user=self.user, card_id__in=card_ids)
        return {row[0]: row for row in rows.values_list(*_MEMORY_FIELDS)}

    def card(self, memory: tuple | None, new_position: int, suspended: bool) -> tuple:
        """(type, queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data)."""
        if not self.with_history:
            return (NEW, Q_NEW, new_position, 0, 0, 0, 0, 0, 0, 0, 0, "{}")
        if memory is None:
            queue = Q_SUSPENDED if suspended else Q_NEW
            return (NEW, queue, new_position, 0, 0, 0, 0, 0, 0, 0, 0, "{}")
        _, state, step, stability, difficulty, due, last, reps, lapses, susp, buried, flag = memory
        data = "{}"
        if state == State.NEW:
            ctype, queue, due_value, ivl, factor, left = NEW, Q_NEW, new_position, 0, 0, 0
        else:
            last = last or due
            if stability is not None and difficulty is not None:  # FSRS memory, as Anki keeps it
                data = json.dumps({
                    "s": round(stability, 4), "d": round(difficulty, 3),
                    "dr": round(self.retention, 2), "lrt": int(last.timestamp()),
                })  # fmt: skip
            factor = DEFAULT_EASE
            if state == State.REVIEW:
                ctype, queue, due_value, left = REVIEW, Q_REVIEW, self._day(due), 0
                ivl = max(1, self._day(due) - self._day(last))
            else:
                ctype = LEARN if state == State.LEARNING else RELEARN
                left = max(1, self.steps[State(state)] - (step or 0))
                ivl = 0 if state == State.LEARNING else 1
                if self._day(due) > self._day(last):  # a step past the day's end: by day
                    queue, due_value = Q_DAY_LEARN, self._day(due)
                else:
                    queue, due_value = Q_LEARN, int(due.timestamp())
        if suspended or susp:
            queue = Q_SUSPENDED
        elif buried is not None and buried > self.now:
            queue = Q_USER_BURIED
        return (ctype, queue, due_value, ivl, factor, reps, lapses, left, 0, 0, flag, data)

    def write_revlog(self, db, card_ids: dict[int, int], chunk: int = 5000) -> int:
        """Stream the user's reviews of the deck into revlog, oldest first; returns how many.
        Ids are the answer times in milliseconds, nudged up by 1 ms where two coincide."""
        rows = (
            self._logs()
            .order_by("reviewed_at", "id")
            .values_list(
                "card_id",
                "grade",
                "reviewed_at",
                "duration_ms",
                "state_before",
                "state_after",
                "due_after",
            )  # fmt: skip
            .iterator(chunk_size=chunk)
        )
        last_ivl: dict[int, int] = {}
        last_id, count = 0, 0
        while batch := list(islice(rows, chunk)):
            out = []
            for card_id, grade, at, duration, before, after, due_after in batch:
                last_id = max(last_id + 1, int(at.timestamp() * 1000))
                if after == State.REVIEW:
                    ivl = max(1, self._day(due_after) - self._day(at))
                else:  # learning steps: negative seconds
                    ivl = -max(1, int((due_after - at).total_seconds()))
                factor = 0 if after == State.LEARNING else DEFAULT_EASE
                out.append((
                    last_id, card_ids[card_id], 0, grade, ivl, last_ivl.get(card_id, 0),
                    factor, min(duration, INT_MAX), REVLOG_TYPE[State(before)],
                ))  # fmt: skip
                last_ivl[card_id] = ivl
            db.executemany("INSERT INTO revlog VALUES (?,?,?,?,?,?,?,?,?)", out)
            count += len(out)
        return count
