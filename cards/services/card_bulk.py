"""The card browser's bulk actions on many cards at once, each in one transaction, each
returning how many cards it changed.

The learner's own marks (suspend, bury, flag) are services/card_marks' (undoable there);
this module adds what changes a card's content — tags, deck: only on cards whose deck the
user may edit (Deck.editable_by: their own; staff also public and site decks); deletion (kept
for undo by services/card_trash): only the user's own cards — and
what changes the learner's own schedule — forget, set due date: only their own memory states,
never another learner's.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cards.models import Card, Deck, MemoryState, StudyAction, visible_decks_q
from cards.scheduling import State, study_day_start
from cards.services import card_trash, content_undo
from cards.services.card_marks import _record
from cards.services.curation import move_cards
from cards.services.note_bulk import sync_note_tags
from cards.services.settings import get_study_settings, study_day_bounds

TAGS_MAX_CHARS = Card._meta.get_field("tags").max_length
_DUE_SPEC = re.compile(r"\s*([0-9]{1,5})(?:\s*-\s*([0-9]{1,5}))?\s*(!?)\s*")
MAX_DUE_DAYS = 36500


class BulkError(ValueError):
    """An action that cannot run as asked; the message says why, and nothing changed."""


@dataclass
class Result:
    changed: int
    skipped: int = 0  # cards the action does not apply to (not editable, not studied, …)


def editable_ids(user, card_ids: list[int]) -> list[int]:
    decks = Deck.objects.editable_by(user)
    return list(
        Card.objects.filter(pk__in=card_ids, deck__in=decks)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _visible_ids(user, card_ids: list[int]) -> list[int]:
    """The cards the user may see and study (their own schedule applies to these)."""
    visible = Card.objects.filter(visible_decks_q(user, via="deck__"), pk__in=card_ids)
    return list(visible.values_list("pk", flat=True))


def parse_tags(text: str) -> list[str]:
    tags = text.split()
    if not tags:
        raise BulkError("Give at least one tag (tags are separated by spaces).")
    return tags


def add_tags(user, card_ids: list[int], text: str, now=None) -> Result:
    return _retag(user, card_ids, parse_tags(text), add=True, now=now)


def remove_tags(user, card_ids: list[int], text: str, now=None) -> Result:
    return _retag(user, card_ids, parse_tags(text), add=False, now=now)


def _retag(user, card_ids, tags, add: bool, now=None) -> Result:
    """Undoable: content_undo records each changed card's (and sibling's, note's) tags."""
    ids = editable_ids(user, card_ids)
    wanted = {tag.casefold() for tag in tags}
    with transaction.atomic():
        changed = []
        for card in Card.objects.select_for_update().filter(pk__in=ids).only("pk", "tags"):
            current = card.tags.split()
            have = {tag.casefold() for tag in current}
            if add:
                new = current + [tag for tag in tags if tag.casefold() not in have]
            else:  # Anki's remove: the tag in any case
                new = [tag for tag in current if tag.casefold() not in wanted]
            if new == current:
                continue
            card.tags = " ".join(new)
            if len(card.tags) > TAGS_MAX_CHARS:
                raise BulkError(
                    f"card {card.pk} would have {len(card.tags)} characters of tags, "
                    f"more than {TAGS_MAX_CHARS}; nothing was changed"
                )
            card.updated_at = timezone.now()
            changed.append(card)
        snapshot = content_undo.tags_before([card.pk for card in changed]) if changed else None
        Card.objects.bulk_update(changed, ["tags", "updated_at"], batch_size=500)
        # Anki's tags are the note's: the note takes the card's tags, its siblings follow.
        sync_note_tags([card.pk for card in changed])
        if snapshot:
            kind = StudyAction.TAG_ADD if add else StudyAction.TAG_REMOVE
            content_undo.record_tags(user, kind, snapshot, now)
    return Result(len(changed), len(card_ids) - len(ids))


def move(user, card_ids: list[int], deck_id, now=None) -> Result:
    """To one of the user's own decks (curation.move_cards: all or nothing), undoable
    (content_undo records each moved card's deck and place before, siblings included)."""
    target = Deck.objects.filter(owner=user, pk=deck_id).first()
    if target is None:
        raise BulkError("Choose one of your own decks to move the cards to.")
    ids = editable_ids(user, card_ids)
    try:
        with transaction.atomic():
            snapshot = content_undo.decks_before(ids)
            moved = move_cards(ids, target)
            content_undo.record_move(user, snapshot, target, now)
    except ValueError as error:
        raise BulkError(str(error)) from None
    return Result(moved, len(card_ids) - len(ids))


def delete(user, card_ids: list[int], now=None) -> Result:
    """Delete the user's own cards (never a shared deck's, even for staff: that is curation,
    in the admin), in one transaction, undoably (services/card_trash keeps what went)."""
    deleted, _ = card_trash.delete(user, card_ids, now)
    return Result(deleted, len(card_ids) - deleted)


# -- the learner's own schedule ------------------------------------------------------------


def forget(user, card_ids: list[int], reset_counts: bool = False, now=None) -> Result:
    """Anki's Forget: the cards become new again for this learner; the history stays. Their
    marks (suspended, flag) stay too; Anki keeps reps and lapses unless told to reset them."""
    now = now or timezone.now()
    visible = _visible_ids(user, card_ids)
    with transaction.atomic():
        memories = list(
            MemoryState.objects.select_for_update()
            .filter(user=user, card_id__in=visible)
            .exclude(state=State.NEW)
        )
        before = [_schedule_of(memory) for memory in memories]
        for memory in memories:
            memory.state, memory.step = State.NEW, None
            memory.stability = memory.difficulty = memory.last_review = None
            memory.due = now
            memory.version += 1  # a review shown before no longer applies
            if reset_counts:
                memory.reps = memory.lapses = 0
        fields = ["state", "step", "stability", "difficulty", "last_review", "due", "version"]
        MemoryState.objects.bulk_update(
            memories, fields + (["reps", "lapses"] if reset_counts else []), batch_size=500
        )
        _record_schedule(user, StudyAction.FORGET, memories, before, now)
    return Result(len(memories), len(card_ids) - len(memories))


def parse_due_spec(text: str) -> tuple[int, int, bool]:
    """Anki's set-due-date input: "0" today, "1" tomorrow, "1-7" a random day in that range,
    a trailing "!" also sets the interval to it."""
    match = _DUE_SPEC.fullmatch(text or "")
    if not match:
        raise BulkError(f"Set due date takes days, as 0, 1-7 or 30!; not “{text}”.")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if high < low or high > MAX_DUE_DAYS:
        raise BulkError(f"The days must run from low to high, at most {MAX_DUE_DAYS}.")
    return low, high, bool(match.group(3))


def set_due(user, card_ids: list[int], text: str, now: datetime | None = None, rng=None) -> Result:
    """Due on a study day from today (Anki's Set Due Date), for cards the learner has studied:
    a card without a memory of it (new) has nothing to schedule from, so it is skipped. A
    learning card becomes a review card, as in Anki. With "!", the last review moves so that
    the interval (last review to due) is the days given, as Anki's "!" sets the interval."""
    low, high, set_interval = parse_due_spec(text)
    now = now or timezone.now()
    rng = rng or random.Random()
    settings = get_study_settings(user)
    today, _, _ = study_day_bounds(settings, now)
    visible = _visible_ids(user, card_ids)
    with transaction.atomic():
        memories = list(
            MemoryState.objects.select_for_update()
            .filter(user=user, card_id__in=visible, stability__isnull=False)
            .exclude(state=State.NEW)
        )
        before = [_schedule_of(memory) for memory in memories]
        for memory in memories:
            days = rng.randint(low, high)
            memory.due = _day_start(settings, today, days)
            memory.state, memory.step = State.REVIEW, None
            if set_interval and days > 0:
                memory.last_review = _day_start(settings, today, 0)
            memory.version += 1
        fields = ["due", "state", "step", "last_review", "version"]
        MemoryState.objects.bulk_update(memories, fields, batch_size=500)
        _record_schedule(user, StudyAction.SET_DUE, memories, before, now)
    return Result(len(memories), len(card_ids) - len(memories))


def _day_start(settings, today, days: int):
    return study_day_start(today + timedelta(days=days), settings.timezone, settings.day_start_hour)


# -- undo of forget and set due date --------------------------------------------------------

SCHEDULE = ("state", "step", "stability", "difficulty", "last_review", "due", "reps", "lapses")


def _schedule_of(memory: MemoryState) -> dict:
    """What forget and set due date change, as JSON (times as ISO text)."""
    saved = {name: getattr(memory, name) for name in SCHEDULE}
    for name in ("last_review", "due"):
        saved[name] = saved[name].isoformat() if saved[name] else None
    return saved


def _record_schedule(user, kind: str, memories: list, before: list[dict], now) -> None:
    """One undo record for the whole call (as Anki undoes one operation): each memory state's
    schedule before, and the version the action left, by which undo sees a later change."""
    if not memories:
        return
    saved = {
        str(memory.pk): {**old, "version": memory.version}
        for memory, old in zip(memories, before, strict=True)
    }
    _record(user, memories[0].card_id, kind, {"schedule": saved}, now)


def undo_schedule(action) -> str:
    """Put each memory state's schedule back, in the caller's transaction; or, when any of
    them changed since (a review, another forget: its version moved on), change nothing and
    say so — never undo half a bulk action, never overwrite a later review."""
    saved = action.before.get("schedule", {})
    ids = [int(pk) for pk in saved]
    memories = []
    for start in range(0, len(ids), 500):
        memories.extend(
            MemoryState.objects.select_for_update().filter(
                user_id=action.user_id, pk__in=ids[start : start + 500]
            )
        )
    if len(memories) != len(ids) or any(
        memory.version != saved[str(memory.pk)]["version"] for memory in memories
    ):
        return (
            f"{action.get_kind_display()} was not undone: some of its cards were studied or "
            "changed since."
        )
    for memory in memories:
        old = saved[str(memory.pk)]
        for name in SCHEDULE:
            value = old[name]
            setattr(
                memory,
                name,
                parse_datetime(value) if name in ("last_review", "due") and value else value,
            )
        memory.version += 1  # a review token shown after the action no longer applies
    MemoryState.objects.bulk_update(memories, [*SCHEDULE, "version"], batch_size=500)
    return ""
