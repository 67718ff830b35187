"""The history half of an Anki import: review logs, memory states and the learner's marks.

Every revlog row with an answer (ease 1-4) becomes a ReviewLog of the importing user (time from
the revlog id, grade = ease on the four-button scale Anki answered on, the duration), with the
review token "anki:<card id>:<revlog id>", so importing again adds only new reviews. Manual
reschedules (ease 0, types 4/5) are counted, not stored. Each card's logs are replayed with the
user's own parameters (importers/revlog.replay_card_logs, the one replay), which fills the logs'
before/after states.

The memory state takes Anki's stored FSRS stability and difficulty when the card has them (else
the replay's), and always Anki's due: a review or day-learning due is a day number counted from
the collection's creation day (rollover hour included, rslib/src/scheduler/timing.rs), which
becomes the start of that study day for the user; a learning due is epoch seconds. Where the
replay would have scheduled a card elsewhere, the summary names it; only what is comparable is
compared: a card Anki scheduled with FSRS (it carries FSRS memory; SM-2's dues are another
algorithm's) whose last revlog row is an answer (a manual reschedule's due is the user's
choice), and a due outside the fuzz window (Anki draws its fuzz from its own random numbers:
up to five minutes on a learning step, a few days on a long interval). Suspended, buried
(until the user's study day ends) and flagged cards carry the marks on the user's memory state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction

from cards import validators as v
from cards.anki.importer_logs import NewLog, NewMemory, insert_logs, insert_memories
from cards.anki.importer_records import ApkgImportError
from cards.importers.revlog import DERIVED, from_ms, replay_card_logs
from cards.models import MemoryState, ReviewLog
from cards.scheduling import State, study_day, study_day_start
from cards.scheduling.fuzz import fuzz_bounds
from cards.services.settings import get_study_settings, policy_for, study_day_bounds

LEARNING_DUE_MIN = 1_000_000_000  # a due this large is epoch seconds, not a day number
STEP_FUZZ_MAX = 300  # seconds: Anki delays a learning step by up to min(25%, 5 minutes)
MEMORY_FIELDS = ["state", "step", "stability", "difficulty", "due", "last_review", "reps",
                 "lapses", "suspended", "buried_until", "flag", "version"]  # fmt: skip


class AnkiDays:
    """Anki's day numbers as study days of the user (their time zone and day start hour)."""

    def __init__(self, crt: int, rollover_hour: int, tz: str, day_start_hour: int):
        self.created = study_day(datetime.fromtimestamp(crt, UTC), tz, rollover_hour)
        self.tz, self.hour = tz, day_start_hour

    def date(self, day_number: int):
        return self.created + timedelta(days=day_number)

    def start(self, day_number: int) -> datetime:
        return study_day_start(self.date(day_number), self.tz, self.hour)


def anki_due(card, days: AnkiDays) -> datetime | None:
    """Our due for an Anki card, as Anki had it (None for a new card)."""
    if card.type == 0:
        return None
    if card.type in (1, 3) and card.due >= LEARNING_DUE_MIN:
        return datetime.fromtimestamp(card.due, UTC)
    return days.start(card.due)


def import_history(col, user, cards: dict, summary, created, now, progress, total) -> None:
    """Reviews, memory states and marks of the imported `cards` (Anki card id -> _CardInfo)."""
    study = get_study_settings(user)
    policy = policy_for(study)
    days = AnkiDays(col.crt, col.rollover_hour, study.timezone, study.day_start_hour)
    _, _, day_end = study_day_bounds(study, now)
    writer = _Writer(user, policy, days, day_end, summary, created, now)
    reviews = iter(col.reviews())
    pending = next(reviews, None)
    ids = sorted(cards)
    size = settings.IMPORT_BATCH_CARDS  # ~10 reviews a card: each transaction stays short
    done = col.card_count
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        rows: dict[int, list] = {cid: [] for cid in chunk}
        last = chunk[-1]
        while pending is not None and pending.card_id <= last:
            if pending.card_id in rows:
                rows[pending.card_id].append(pending)
            done += 1
            pending = next(reviews, None)
        writer.batch([cards[cid] for cid in chunk], rows)
        if progress:
            progress(done, total)


class _Writer:
    def __init__(self, user, policy, days, day_end, summary, created, now):
        self.user, self.policy, self.days, self.day_end = user, policy, days, day_end
        self.summary, self.created, self.now = summary, created, now
        self.new_cards = set(created.cards)

    def batch(self, infos: list, rows: dict[int, list]) -> None:
        pks = [info.pk for info in infos]
        old_logs: dict[int, list[ReviewLog]] = {}
        # Ordered by card, so SQLite searches the (user, card) index: the default order made
        # it scan all the user's logs for every batch, quadratic in a big import.
        logs = ReviewLog.objects.filter(user=self.user, card_id__in=pks)
        for log in logs.order_by("card_id", "reviewed_at", "id"):
            old_logs.setdefault(log.card_id, []).append(log)
        memories = {m.card_id: m for m in MemoryState.objects.filter(user=self.user,
                                                                     card_id__in=pks)}  # fmt: skip
        new_logs, changed_logs, new_memories, changed_memories = [], [], [], []
        for info in infos:
            try:
                logs, changed, memory = self._card(info, rows[info.anki.id],
                                                   old_logs.get(info.pk, []),
                                                   memories.get(info.pk))  # fmt: skip
            except Exception as exc:
                raise ApkgImportError(f"card {info.label}: {exc}") from exc
            new_logs += logs
            changed_logs += changed
            if memory is not None:
                (new_memories if memory.pk is None else changed_memories).append(memory)
        with transaction.atomic():
            insert_logs(new_logs)
            # The logs of cards this import made go with the cards; only those added to cards
            # that were already here are remembered, by token, for an undo.
            self.created.logs += [
                log.review_token for log in new_logs if log.card_id not in self.new_cards
            ]
            if changed_logs:
                ReviewLog.objects.bulk_update(changed_logs, DERIVED, batch_size=500)
            # Those of cards this import made go with the cards; the others are remembered.
            insert_memories([m for m in new_memories if isinstance(m, NewMemory)])
            older = [m for m in new_memories if not isinstance(m, NewMemory)]
            MemoryState.objects.bulk_create(older, batch_size=1000)
            self.created.memories += [m.pk for m in older]
            if changed_memories:
                MemoryState.objects.bulk_update(changed_memories, MEMORY_FIELDS, batch_size=500)
        self.summary.reviews_created += len(new_logs)
        self.summary.memory_states += len(new_memories) + len(changed_memories)

    def _card(self, info, rows, old, memory):
        """One card's new logs, its older logs whose replayed fields changed, and its memory
        state to write (None: nothing to write)."""
        fresh = self._logs(info, rows, {log.review_token for log in old})
        by_hand = bool(rows) and not 1 <= rows[-1].ease <= 4  # due set by a manual reschedule
        final, changed = None, []
        if fresh:
            before = {log.pk: [getattr(log, f) for f in DERIVED] for log in old}
            final = replay_card_logs(SimpleNamespace(pk=info.pk), old + fresh, self.policy)
            changed = [log for log in old if [getattr(log, f) for f in DERIVED] != before[log.pk]]
        if memory is not None and not fresh:
            return fresh, changed, None  # imported before, nothing new: the learner's since stands
        return fresh, changed, self._memory(info, memory, final, old + fresh, by_hand)

    def _logs(self, info, rows: list, known: set[str]) -> list[NewLog]:
        logs = []
        for row in rows:
            if not 1 <= row.ease <= 4:
                self.summary.reschedules += 1
                continue
            token = f"anki:{info.anki.id}:{row.id}"
            if token in known:
                self.summary.reviews_already += 1
                continue
            logs.append(
                NewLog(
                    user_id=self.user.pk,
                    card_id=info.pk,
                    deck_id=info.deck_id,
                    rating=row.ease,
                    rating_scale="four",
                    grade=row.ease,
                    reviewed_at=from_ms(row.id),
                    duration_ms=min(max(row.duration_ms, 0), v.INT_MAX),
                    review_token=token,
                )  # fmt: skip
            )
        return logs

    def _memory(self, info, memory, final, logs, by_hand: bool) -> MemoryState | None:
        anki = info.anki
        suspended, buried, flag = anki.queue == -1, anki.queue in (-2, -3), anki.flag
        due = anki_due(anki, self.days)
        if due is None and not (suspended or buried or flag):
            return None  # a new card without marks: new here too
        if memory is None:
            new = NewMemory if info.pk in self.new_cards else MemoryState
            memory = new(user_id=self.user.pk, card_id=info.pk, deck_id=info.deck_id,
                         studyable=info.studyable)  # fmt: skip
        else:
            memory.version += 1  # review tokens issued for the old state go stale
        memory.suspended, memory.flag = suspended, flag
        memory.buried_until = self.day_end if buried else None
        self.summary.suspended += suspended
        self.summary.buried += buried
        self.summary.flagged += bool(flag)
        memory.reps, memory.lapses = max(anki.reps, 0), max(anki.lapses, 0)
        if due is None:
            memory.state, memory.due = State.NEW, self.now
            memory.step = memory.stability = memory.difficulty = memory.last_review = None
            return memory
        memory.state, memory.due = anki.type, due
        memory.last_review = logs[-1].reviewed_at if logs else _last_review(anki, due, self.now)
        from_fsrs = anki.stability is not None and anki.difficulty is not None
        if from_fsrs:
            memory.stability, memory.difficulty = anki.stability, anki.difficulty
            self.summary.memory_from_anki += 1
        elif final is not None and final.stability is not None:
            memory.stability, memory.difficulty = final.stability, final.difficulty
        else:
            # No FSRS memory and no history (a package without its revlog): the interval is
            # the best guess of stability, and a middling difficulty.
            memory.stability, memory.difficulty = float(max(anki.interval, 1)), 5.0
            self.summary.warn("cards without history or FSRS memory got estimated memory states")
        memory.stability = min(max(memory.stability, v.STABILITY_RANGE[0]), v.STABILITY_RANGE[1])
        memory.difficulty = min(max(memory.difficulty, 1.0), 10.0)
        learning = anki.type in (State.LEARNING, State.RELEARNING)
        memory.step = (final.step if final is not None and final.step is not None else 0) if (
            learning) else None  # fmt: skip
        if final is None or final.due is None:
            return memory
        if not from_fsrs:
            self.summary.due_not_fsrs += 1
        elif by_hand:
            self.summary.due_by_hand += 1
        else:
            self._compare(info, final, due, learning)
        return memory

    def _compare(self, info, final, due: datetime, learning: bool) -> None:
        """Count and name the card when Anki's due lies outside our fuzz window."""
        replayed = final.due
        if learning:
            differs = abs((replayed - due).total_seconds()) > STEP_FUZZ_MAX
        else:
            tz, hour = self.days.tz, self.days.hour
            last = study_day(final.last_review, tz, hour)
            ours = (study_day(replayed, tz, hour) - last).days
            theirs = (study_day(due, tz, hour) - last).days
            lower, upper = fuzz_bounds(max(ours, theirs), 1, self.policy.maximum_interval)
            differs = abs(ours - theirs) > upper - lower
        if differs:
            self.summary.due_differs += 1
            if len(self.summary.due_examples) < 10:
                self.summary.due_examples.append(
                    f"{info.label}: Anki {due:%Y-%m-%d %H:%M}, ours {replayed:%Y-%m-%d %H:%M} UTC"
                )


def _last_review(anki, due: datetime, now: datetime) -> datetime:
    lrt = anki.data.get("lrt")
    if isinstance(lrt, int | float) and lrt > 0:
        return datetime.fromtimestamp(lrt, UTC)
    return min(due - timedelta(days=max(anki.interval, 0)), now)
