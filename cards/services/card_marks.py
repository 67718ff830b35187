"""A learner's own marks on cards — suspend, bury, flag — and the undo of card actions.

Each function takes the learner and cards (ids, Card objects or a queryset: the study page
passes one card, the card browser a selection), works in one transaction, and returns how many
cards it changed. Cards the learner may not see are ignored. A card never studied gets a memory
state in state NEW to carry its marks (the queue counts it as new while it is not suspended or
buried). Each call that changes something records one StudyAction holding every changed card's
marks as they were, so that one undo puts back the whole call, as Anki's undo does.

Marks do not bump MemoryState.version: a review token shown before a flag stays good.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cards.models import Card, MemoryState, StudyAction, visible_decks_q
from cards.models.scheduling import FLAG_CHOICES
from cards.scheduling import State

from .settings import get_study_settings, study_day_bounds

FLAG_NAMES = dict(FLAG_CHOICES)
CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit
UNDO_LIMIT = 30  # card actions kept per learner, as Anki keeps 30 undo steps (rslib undo)


class UndoError(Exception):
    """A card action cannot be undone (the card changed since); the message is fit to show."""


def _card_ids(user, cards) -> list[int]:
    """The ids of the given cards that `user` may see, in a stable order."""
    if isinstance(cards, QuerySet):
        cards = cards.values_list("pk", flat=True)
    wanted = sorted({getattr(card, "pk", card) for card in cards})
    visible = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = Card.objects.filter(visible_decks_q(user, via="deck__"), pk__in=chunk)
        visible.extend(rows.values_list("pk", flat=True))
    return sorted(visible)


def _memories(user, card_ids: list[int]) -> list[MemoryState]:
    """The learner's memory states of these cards, locked, with NEW ones created (in bulk)
    for the cards never studied."""
    found = _locked(user, card_ids)
    missing = sorted(set(card_ids) - {memory.card_id for memory in found})
    if missing:
        now = timezone.now()
        fresh = []
        for start in range(0, len(missing), CHUNK):
            cards = Card.objects.filter(pk__in=missing[start : start + CHUNK]).only(
                "pk", "deck_id", "answer", "suspended"
            )
            fresh.extend(MemoryState.of(user, card, state=State.NEW, due=now) for card in cards)
        # A first review in another tab may insert one meanwhile: keep its row, read them all.
        MemoryState.objects.bulk_create(fresh, batch_size=CHUNK, ignore_conflicts=True)
        found.extend(_locked(user, missing))
    return found


def _locked(user, card_ids: list[int]) -> list[MemoryState]:
    return [
        memory
        for start in range(0, len(card_ids), CHUNK)
        for memory in MemoryState.objects.select_for_update().filter(
            user=user, card_id__in=card_ids[start : start + CHUNK]
        )
    ]


def _marks_of(memory: MemoryState) -> dict:
    until = memory.buried_until
    return {
        "suspended": memory.suspended,
        "buried_until": until.isoformat() if until else None,
        "flag": memory.flag,
    }


def _apply(user, card_ids: list[int], kind: str, name, value, now: datetime | None = None) -> int:
    """Set the mark `name` to `value` on the memory state of each card (ids the learner may
    see) where it differs, and record one StudyAction with the changed cards' marks before."""
    if not card_ids:
        return 0
    with transaction.atomic():
        changed = [m for m in _memories(user, card_ids) if getattr(m, name) != value]
        if not changed:
            return 0
        _write(changed, {name: value})
        marks = {str(m.card_id): _marks_of(m) for m in changed}
        _record(user, changed[0].card_id, kind, {"marks": marks}, now)
    return len(changed)


def _record(user, card_id: int, kind: str, before: dict, now) -> StudyAction:
    """Push an action on the learner's undo stack, dropping what is beyond UNDO_LIMIT."""
    action = StudyAction.objects.create(
        user=user, card_id=card_id, kind=kind, before=before, created_at=now or timezone.now()
    )
    kept = StudyAction.objects.filter(user=user).order_by("-created_at", "-pk")[:UNDO_LIMIT]
    StudyAction.objects.filter(user=user).exclude(pk__in=kept.values("pk")).delete()
    return action


def _write(memories: list[MemoryState], values: dict) -> None:
    """One UPDATE per CHUNK memory states (bulk_update's CASE per row splits much smaller)."""
    ids = [memory.pk for memory in memories]
    for start in range(0, len(ids), CHUNK):
        MemoryState.objects.filter(pk__in=ids[start : start + CHUNK]).update(**values)


def suspend(user, cards: Iterable, now: datetime | None = None) -> int:
    """Suspend the cards for this learner only (never queued until unsuspended)."""
    return _apply(user, _card_ids(user, cards), StudyAction.SUSPEND, "suspended", True, now)


def unsuspend(user, cards: Iterable, now: datetime | None = None) -> int:
    return _apply(user, _card_ids(user, cards), StudyAction.UNSUSPEND, "suspended", False, now)


def bury(user, cards: Iterable, now: datetime | None = None) -> int:
    """Keep the cards out of the queue until the learner's study day ends (Anki unburies at
    the day's rollover)."""
    now = now or timezone.now()
    _, _, day_end = study_day_bounds(get_study_settings(user), now)
    return _apply(user, _card_ids(user, cards), StudyAction.BURY, "buried_until", day_end, now)


def flag(user, cards: Iterable, colour: int, now: datetime | None = None) -> int:
    """Flag the cards with one of Anki's colours (1-7; 0 removes the flag). As in Anki, the
    same colour again removes it: when every card already has `colour`, they lose it."""
    if type(colour) is not int or colour not in FLAG_NAMES:
        raise ValueError(f"The flag must be a whole number from 0 to 7, not {colour!r}.")
    card_ids = _card_ids(user, cards)
    if colour and card_ids and _count_flagged(user, card_ids, colour) == len(card_ids):
        colour = 0
    return _apply(user, card_ids, StudyAction.FLAG, "flag", colour, now)


def _count_flagged(user, card_ids: list[int], colour: int) -> int:
    flagged = MemoryState.objects.filter(user=user, flag=colour)
    return sum(
        flagged.filter(card_id__in=card_ids[start : start + CHUNK]).count()
        for start in range(0, len(card_ids), CHUNK)
    )


# -- editing ----------------------------------------------------------------------------------

EDITED = ("question", "answer", "tags")


def record_edit(user, card: Card, before: dict, now: datetime | None = None) -> StudyAction:
    """Record an edit made while studying (the text before and after), so Z puts it back."""
    after = {name: getattr(card, name) for name in EDITED}
    text = {name: before[name] for name in EDITED}
    return _record(user, card.pk, StudyAction.EDIT, {"text": text, "after": after}, now)


# -- undo -------------------------------------------------------------------------------------


def last_action(user, deck=None) -> StudyAction | None:
    """The learner's newest card action (on a card of `deck`, if given)."""
    actions = StudyAction.objects.filter(user=user)
    if deck is not None:
        actions = actions.filter(card__deck=deck)
    return actions.order_by("-created_at", "-pk").first()


def undo_action(action: StudyAction) -> StudyAction:
    """Put back what `action` changed and delete it. Raises UndoError when it cannot be
    undone: already undone, or an edit whose card was edited again since (never overwrite
    another edit) or that the learner may no longer edit; such an edit leaves the undo stack."""
    with transaction.atomic():
        if not StudyAction.objects.filter(pk=action.pk).delete()[0]:
            raise UndoError("This action was already undone (in another tab?).")
        if action.kind in (StudyAction.FORGET, StudyAction.SET_DUE):
            from .card_bulk import undo_schedule  # card_bulk's own record (forget, set due)

            problem = undo_schedule(action)
        elif action.kind in (StudyAction.TAG_ADD, StudyAction.TAG_REMOVE, StudyAction.MOVE):
            from . import content_undo  # the browser's tags and moves

            is_move = action.kind == StudyAction.MOVE
            problem = (content_undo.undo_move if is_move else content_undo.undo_tags)(action)
        else:
            undo = _undo_edit if action.kind == StudyAction.EDIT else _undo_marks
            problem = undo(action)
    if problem:
        raise UndoError(problem)
    return action


def _undo_marks(action: StudyAction) -> str:
    """Each card's marks as they were: one UPDATE per distinct set of marks (a call changed
    one mark, so the cards fall into a few groups)."""
    marks = action.before.get("marks", {})
    groups: dict[tuple, list[int]] = {}
    for card_id, saved in marks.items():
        key = (saved["suspended"], saved["buried_until"], saved["flag"])
        groups.setdefault(key, []).append(int(card_id))
    for (suspended, buried_until, colour), card_ids in groups.items():
        values = {"suspended": suspended, "flag": colour}
        values["buried_until"] = parse_datetime(buried_until or "")
        for start in range(0, len(card_ids), CHUNK):
            chunk = card_ids[start : start + CHUNK]
            MemoryState.objects.filter(user_id=action.user_id, card_id__in=chunk).update(**values)
    return ""


def _undo_edit(action: StudyAction) -> str:
    """Put the card's text back; or say why not (the action is dropped all the same)."""
    card = Card.objects.select_for_update().select_related("deck").get(pk=action.card_id)
    if not card.deck.can_edit(action.user):
        return "You can no longer edit this card, so the edit was not undone."
    after = action.before.get("after", {})
    if any(getattr(card, name) != after.get(name) for name in EDITED):
        return "The card was changed again since your edit, so the edit was not undone."
    for name in EDITED:
        setattr(card, name, action.before["text"][name])
    card.save(update_fields=list(EDITED))
    return ""
