"""Rebuilding every memory state from the review history (`manage.py rebuild_states`): after
an import, a merge or a change of scheduling rules. One user at a time, in one transaction;
the per-card replay itself is reviews._replay_card, which undo uses too."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from cards.models import Card, MemoryState, ReviewLog, StudySettings
from cards.scheduling import CardState

from .reviews import STATE_FIELDS, _apply_state, _replay_card, _same_state
from .settings import get_study_settings, policy_for


def _stored_settings(person):
    """The user's settings as stored, refusing (ValueError) any field the model refuses:
    get_study_settings would quietly use defaults, and a replay must not."""
    stored = StudySettings.objects.filter(user=person).first()
    if stored is None:
        return get_study_settings(person)
    try:
        stored.clean_fields(exclude=["user", "updated_at"])
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise ValueError(f"settings.{name}: {messages[0]}") from None
    return stored


def rebuild_states(
    user=None,
    progress: Callable[[str], None] | None = None,
    dry_run: bool = False,
    failures: list[tuple[str, str]] | None = None,
) -> int:
    """Recompute every MemoryState (of `user`, or of everyone) from the review logs.

    Returns the number of stored states that differed from the replay (rewritten with a new
    version unless dry_run). `progress` receives one line per user and per mismatch. With
    `failures`, a user whose settings or history cannot be replayed is appended as
    (username, reason) and skipped, nothing of theirs changed; without it the ValueError rises.
    """
    report = progress or (lambda line: None)
    users = get_user_model().objects.order_by("pk")
    users = (
        users.filter(pk=user.pk)
        if user is not None
        else users.filter(pk__in=ReviewLog.objects.values("user"))
    )
    mismatches = 0
    for person in users:
        try:
            mismatches += _rebuild_user(person, report, dry_run)
        except (ValueError, ArithmeticError) as exc:
            if failures is None:
                raise
            failures.append((person.get_username(), str(exc)))
            report(f"{person}: skipped, nothing changed: {exc}")
    return mismatches


def _rebuild_user(person, report: Callable[[str], None], dry_run: bool) -> int:
    settings = _stored_settings(person)
    policy_for(settings)  # raises ValueError naming a combination the scheduler refuses
    with transaction.atomic():
        memories = {
            memory.card_id: memory
            for memory in MemoryState.objects.select_for_update().filter(user=person)
        }
        by_card: dict[int, list[ReviewLog]] = {}
        logs = ReviewLog.objects.filter(user=person).order_by("card_id", "reviewed_at", "pk")
        for log in logs.iterator(chunk_size=2000):
            by_card.setdefault(log.card_id, []).append(log)
        changed = 0
        for card_id, card_logs in by_card.items():
            state = _replay_card(card_id, card_logs, settings)
            memory = memories.get(card_id)
            if memory is not None and _same_state(memory, state):
                continue
            changed += 1
            report(f"  {person}: card {card_id}: {_difference(memory, state)}")
            if dry_run:
                continue
            if memory is None:
                memory = MemoryState.of(person, Card.objects.get(pk=card_id), version=0)
            memory.deck_id = card_logs[-1].deck_id
            _apply_state(memory, state)
            memory.version += 1
            memory.save()
    report(
        f"{person}: {len(by_card)} cards replayed from {sum(map(len, by_card.values()))} "
        f"reviews, {changed} mismatch{'es' if changed != 1 else ''}"
    )
    return changed


def _difference(memory: MemoryState | None, state: CardState) -> str:
    if memory is None:
        return "no stored state"
    parts = []
    for name in STATE_FIELDS:
        replayed = int(state.state) if name == "state" else getattr(state, name)
        if getattr(memory, name) != replayed:
            parts.append(f"{name} stored {getattr(memory, name)!r}, replayed {replayed!r}")
    return "; ".join(parts)
