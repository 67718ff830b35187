"""Anki's sibling burying: answering a card keeps the other cards of its note out of the
learner's queue until the study day ends (rslib scheduler/bury_and_suspend.rs bury_siblings,
storage/card/siblings_for_bury.sql).

Which siblings wait is Anki's rule, rule for rule (tests/scheduling/test_anki_bury.py checks it
against the real backend):
- new siblings when `bury_new_siblings`, review siblings when `bury_review_siblings`,
  day-learning siblings (a learning card due at a day start: Anki's queue 3) when
  `bury_interday_siblings`; an intraday learning sibling is never buried;
- kinds Anki gathers before the answered card's own kind are left alone
  (BuryMode::exclude_earlier_gathered_queues): answering a new card buries only new siblings,
  a review card new and review siblings;
- a suspended sibling, one already buried, or one without an answer is left alone.

Anki also skips, while it builds the day's queue, a card whose sibling was gathered before it
(rslib scheduler/queue/builder/gathering.rs); the queue here is not built ahead but asked for
its next card each time (queue_sql), so the same rule would cost a sibling probe per candidate
card in every count. Burying at answer time already keeps two siblings off one study day; what
differs is the count before the first is answered (a new reversed note counts 2 new, Anki 1).

A never-studied sibling gets a memory state in state NEW to carry the mark (as card_marks
does). record_review calls bury_siblings in its transaction and keeps what it returns in the
review log's undo snapshot; undoing the review calls unbury with it.
"""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import F, FilteredRelation, Q
from django.utils.dateparse import parse_datetime

from cards.models import Card, MemoryState
from cards.scheduling import State
from cards.scheduling.days import get_zone

from .card_marks import CHUNK, _write
from .settings import study_day_bounds

NEW, INTRADAY, INTERDAY, REVIEW = "new", "intraday", "interday", "review"
# Anki's gathering order (CardQueue::gather_ord): intraday learning, day learning, reviews, new.
GATHER_ORDER = {INTRADAY: 0, INTERDAY: 1, REVIEW: 2, NEW: 3}


def queue_kind(state: int | None, due: datetime | None, settings) -> str:
    """Which of Anki's queues a memory state is in: a learning card due exactly at a day start
    is day learning (Anki's queue 3, counted in days), as queue_sql tells them apart."""
    if state is None or state == State.NEW:
        return NEW
    if state == State.REVIEW:
        return REVIEW
    local = due.astimezone(get_zone(settings.timezone))
    return INTERDAY if local.time() == time(settings.day_start_hour) else INTRADAY


def kinds_to_bury(answered: str, settings) -> set[str]:
    """The sibling kinds that answering a card of kind `answered` buries."""
    order = GATHER_ORDER[answered]
    kinds = set()
    if settings.bury_new_siblings:
        kinds.add(NEW)
    if settings.bury_review_siblings and order <= GATHER_ORDER[REVIEW]:
        kinds.add(REVIEW)
    if settings.bury_interday_siblings and order <= GATHER_ORDER[INTERDAY]:
        kinds.add(INTERDAY)
    return kinds


def bury_siblings(user, card: Card, answered: str, settings, now: datetime) -> dict:
    """Bury the siblings of `card` that answering it buries (one query for a card without
    siblings; two or three more with). Returns the undo record: {"until": ISO end of the
    study day, "cards": {card id: buried_until before (ISO) or None}}, or {} if none."""
    kinds = kinds_to_bury(answered, settings)
    if card.note_id is None or not kinds:
        return {}
    _, _, until = study_day_bounds(settings, now)
    mine = FilteredRelation("memory_states", condition=Q(memory_states__user=user))
    siblings = (
        Card.objects.filter(note_id=card.note_id)
        .exclude(pk=card.pk)
        .studyable()
        .only("pk", "deck_id", "answer", "suspended")
        .annotate(mine=mine)
        .annotate(
            memory_id=F("mine__id"),
            memory_state=F("mine__state"),
            memory_due=F("mine__due"),
            memory_suspended=F("mine__suspended"),
            memory_buried=F("mine__buried_until"),
        )
    )
    fresh, existing, before = [], [], {}
    for sibling in siblings:
        if sibling.memory_suspended or (sibling.memory_buried and sibling.memory_buried > now):
            continue
        if queue_kind(sibling.memory_state, sibling.memory_due, settings) not in kinds:
            continue
        buried = sibling.memory_buried
        before[str(sibling.pk)] = buried.isoformat() if buried else None
        if sibling.memory_id is None:
            fresh.append(
                MemoryState.of(user, sibling, state=State.NEW, due=now, buried_until=until)
            )
        else:
            existing.append(MemoryState(pk=sibling.memory_id))
    if not before:
        return {}
    if fresh:
        # A first review of a sibling in another tab may insert its state meanwhile: that
        # sibling stays unburied rather than this review failing.
        MemoryState.objects.bulk_create(fresh, batch_size=CHUNK, ignore_conflicts=True)
    if existing:
        _write(existing, {"buried_until": until})
    return {"until": until.isoformat(), "cards": before}


def unbury(user, record: dict) -> int:
    """Undo bury_siblings: each sibling still buried by it gets its mark back as it was (a
    mark the learner changed since is theirs to keep). Returns the number of siblings."""
    cards = record.get("cards") if isinstance(record, dict) else None
    until = parse_datetime(record.get("until") or "") if cards else None
    if not cards or until is None:
        return 0
    groups: dict[str | None, list[int]] = {}
    for card_id, buried in cards.items():
        groups.setdefault(buried, []).append(int(card_id))
    count = 0
    for buried, card_ids in groups.items():
        for start in range(0, len(card_ids), CHUNK):
            count += MemoryState.objects.filter(
                user=user, card_id__in=card_ids[start : start + CHUNK], buried_until=until
            ).update(buried_until=parse_datetime(buried or ""))
    return count
