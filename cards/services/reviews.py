"""Recording, undoing and replaying reviews (rebuilding every state: services/rebuild.py).

A card shown to a user carries a one-time review token, signed with Django's signing framework:
{card id, user id, the MemoryState version it was shown at, a random nonce}. The nonce is stored
in ReviewLog.review_token, unique per user, so the database guarantees that a token is used at
most once; the version check refuses an answer against a state that changed meanwhile (another
tab answered first, or the review was undone).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cards.models import Card, MemoryState, ReviewLog, visible_decks_q
from cards.scheduling import CardState, Grade, Scheduler, State, rating_choices, replay, to_grade
from cards.scheduling.leech import leech_threshold_met

from . import queue_sql, siblings
from .settings import get_study_settings, policy_for

TOKEN_SALT = "studyapp.review"
# Someone who leaves the card open for an afternoon did not think for an afternoon.
MAX_DURATION_MS = 60 * 60 * 1000
# The fields of a MemoryState that a review changes (everything but who, what and version).
STATE_FIELDS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
)


class ReviewError(Exception):
    """Base class of the errors record_review raises; the message is fit to show."""


class InvalidReview(ReviewError):
    """The request itself is wrong: a forged or garbled token, another user's token, a rating
    outside the scale."""


class StaleReview(ReviewError):
    """The card's state changed since the token was issued (answered in another tab, undone)."""


@dataclass
class ReviewResult:
    log: ReviewLog
    memory: MemoryState
    created: bool
    leeched: bool = False  # this lapse made the card a leech (again): tell the learner


@dataclass(frozen=True)
class _Claim:
    card_id: int
    user_id: int
    version: int
    nonce: str


# -- tokens ---------------------------------------------------------------------------------


def issue_review_token(user, card, memory: MemoryState | None) -> str:
    """A signed one-time token naming the card, the state version shown and a random nonce."""
    version = memory.version if memory is not None else 0
    payload = {"c": card.pk, "u": user.pk, "v": version, "n": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=TOKEN_SALT)


def _read_token(user, token) -> _Claim:
    if not isinstance(token, str) or not token:
        raise InvalidReview("The review token is missing.")
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature as exc:
        raise InvalidReview("The review token is not valid (forged or garbled).") from exc
    try:
        claim = _Claim(payload["c"], payload["u"], payload["v"], payload["n"])
    except (KeyError, TypeError) as exc:
        raise InvalidReview("The review token is not valid (incomplete).") from exc
    ints = (claim.card_id, claim.user_id, claim.version)
    if not all(type(value) is int for value in ints) or not isinstance(claim.nonce, str):
        raise InvalidReview("The review token is not valid (bad values).")
    if not 0 < len(claim.nonce) <= ReviewLog._meta.get_field("review_token").max_length:
        raise InvalidReview("The review token is not valid (bad nonce).")
    if claim.user_id != user.pk:
        raise InvalidReview("The review token belongs to another user.")
    return claim


# -- state snapshots ------------------------------------------------------------------------


def card_state(memory: MemoryState | None) -> CardState:
    """The pure-core view of a stored memory state (a new card when there is none)."""
    if memory is None or memory.state == State.NEW:
        return CardState.new()
    return CardState(
        state=State(memory.state),
        step=memory.step,
        stability=memory.stability,
        difficulty=memory.difficulty,
        due=memory.due,
        last_review=memory.last_review,
        reps=memory.reps,
        lapses=memory.lapses,
    )


def _snapshot(memory: MemoryState | None) -> dict:
    """Every field of the state before a review, as JSON, so that undo is exact."""
    if memory is None:
        return {"exists": False}
    return {
        "exists": True,
        "state": memory.state,
        "step": memory.step,
        "stability": memory.stability,
        "difficulty": memory.difficulty,
        "due": memory.due.isoformat(),
        "last_review": memory.last_review.isoformat() if memory.last_review else None,
        "reps": memory.reps,
        "lapses": memory.lapses,
        "version": memory.version,
    }


def _restore(memory: MemoryState, snapshot: dict, when: datetime) -> None:
    if not snapshot.get("exists"):
        # The card was new: keep the row in state NEW so its version (and the refusal of the
        # tokens issued before the undo) survives.
        _apply_state(memory, CardState.new(), due=when)
        return
    memory.state = snapshot["state"]
    memory.step = snapshot["step"]
    memory.stability = snapshot["stability"]
    memory.difficulty = snapshot["difficulty"]
    memory.due = parse_datetime(snapshot["due"])
    memory.last_review = parse_datetime(snapshot["last_review"] or "")
    memory.reps = snapshot["reps"]
    memory.lapses = snapshot["lapses"]
    # The learner's marks as they were, when the review changed them (a leech).
    for name, value in snapshot.get("marks", {}).items():
        setattr(memory, name, value)


def _mark_leech(memory: MemoryState, before: CardState, after: CardState, settings) -> dict:
    """Anki's leech rule on a lapse of a review card: tag it (and suspend it, with the
    'suspend' action). Returns the marks as they were, for the log's undo snapshot, or {}."""
    lapsed = before.state == State.REVIEW and after.lapses > before.lapses
    if not lapsed or not leech_threshold_met(after.lapses, settings.leech_threshold):
        return {}
    marks = {"leech": memory.leech, "suspended": memory.suspended}
    memory.leech = True
    memory.suspended = memory.suspended or settings.leech_action == "suspend"
    return marks


def _apply_state(memory: MemoryState, state: CardState, due: datetime | None = None) -> None:
    memory.state = int(state.state)
    memory.step = state.step
    memory.stability = state.stability
    memory.difficulty = state.difficulty
    memory.due = state.due or due
    memory.last_review = state.last_review
    memory.reps = state.reps
    memory.lapses = state.lapses


def _same_state(memory: MemoryState, state: CardState) -> bool:
    return all(
        getattr(memory, name) == (int(state.state) if name == "state" else getattr(state, name))
        for name in STATE_FIELDS
    )


# -- recording ------------------------------------------------------------------------------


def _clean_rating(rating, scale: str) -> tuple[int, Grade]:
    if isinstance(rating, str) and rating.strip().isdigit():
        rating = int(rating.strip())
    try:
        return rating, to_grade(rating, scale)
    except ValueError as exc:
        raise InvalidReview(f"Rating: {exc}.") from exc


def _clean_duration(duration_ms) -> int:
    try:
        value = int(duration_ms or 0)
    except (TypeError, ValueError) as exc:
        raise InvalidReview(f"Duration: {duration_ms!r} is not a number of milliseconds.") from exc
    return min(max(value, 0), MAX_DURATION_MS)


def _already_recorded(user, claim: _Claim) -> ReviewResult | None:
    # The card narrows it to a few rows of reviewlog_user_card_time; by token alone SQLite walked
    # every log of the user (its partial unique index is unusable with a bound '' parameter).
    log = ReviewLog.objects.filter(
        user=user, card_id=claim.card_id, review_token=claim.nonce
    ).first()
    if log is None:
        return None
    memory = MemoryState.objects.filter(user=user, card_id=log.card_id).first()
    return ReviewResult(log=log, memory=memory, created=False)


def record_review(
    user,
    token: str,
    rating: int,
    duration_ms: int = 0,
    now: datetime | None = None,
    gate: Callable[[Card, MemoryState | None], None] | None = None,
) -> ReviewResult:
    """Apply one answer: append the ReviewLog and save the new state, in one transaction.

    The same token again returns the recorded result with created=False and writes nothing.
    Raises StaleReview if the card's state changed since the token was issued, InvalidReview
    for a bad token or rating. `gate(card, memory)` may refuse a first use of the token by
    raising (rating_gate: only cards due today or in the custom study session); a replay
    is answered before it is asked.

    Optimistic locking: the card and its state are read, and the review computed, outside the
    transaction; the transaction only writes, and its UPDATE ... WHERE version = <the version
    read> (or, for a first review, the INSERT under the unique user-and-card constraint) fails
    if another request changed the state meanwhile. So writers hold SQLite's lock, or
    PostgreSQL's row lock, for two statements.
    """
    claim = _read_token(user, token)
    settings = get_study_settings(user)
    rating, grade = _clean_rating(rating, settings.rating_scale)
    duration_ms = _clean_duration(duration_ms)
    now = now or timezone.now()
    card, memory = _card_and_memory(user, claim.card_id)
    version = memory.version if memory is not None else 0
    if version != claim.version:
        # Recording a review and undoing one both bump the version, so only a changed version
        # can mean this token was used: a replay returns what it recorded, else it is stale.
        return _replayed(user, claim)
    if gate is not None:
        gate(card, memory)
    before = card_state(memory)
    fuzz_seed = new_fuzz_seed(card.pk, before.reps)
    try:
        outcome = Scheduler(policy_for(settings)).review(before, grade, now, fuzz_seed)
    except ValueError as exc:
        raise InvalidReview(f"This review cannot be applied: {exc}.") from exc
    snapshot = _snapshot(memory)
    answered = siblings.queue_kind(memory and memory.state, memory and memory.due, settings)
    if memory is None:
        memory = MemoryState.of(user, card)
    memory.deck_id = card.deck_id
    _apply_state(memory, outcome.after)
    memory.version = version + 1
    marks = _mark_leech(memory, before, outcome.after, settings)
    if marks:
        snapshot["marks"] = marks
    log = ReviewLog(
        user=user,
        card=card,
        deck_id=card.deck_id,
        rating=rating,
        rating_scale=settings.rating_scale,
        grade=int(grade),
        reviewed_at=now,
        duration_ms=duration_ms,
        review_token=claim.nonce,
        fuzz_seed=fuzz_seed,
        state_before=int(before.state),
        before=snapshot,
        elapsed_days=outcome.elapsed_days,
        retrievability=outcome.retrievability,
        state_after=int(outcome.after.state),
        stability_after=outcome.after.stability,
        difficulty_after=outcome.after.difficulty,
        due_after=outcome.after.due,
    )
    try:
        with transaction.atomic():
            if not _save_if_unchanged(memory, version, tuple(marks)):
                raise _Changed
            if getattr(card, "has_siblings", True):
                buried = siblings.bury_siblings(user, card, answered, settings, now)
                if buried:
                    snapshot["buried_siblings"] = buried  # undo unburies them
            log.save(force_insert=True)
    except (IntegrityError, _Changed):
        # Another request used this token, or reviewed this card, at the same moment.
        return _replayed(user, claim)
    return ReviewResult(log=log, memory=memory, created=True, leeched=bool(marks))


def _card_and_memory(user, card_id: int) -> tuple[Card, MemoryState | None]:
    """The card, if the user may see it, and their memory state of it: one query for a card
    they studied before (the common case), two for a new one."""
    memory = queue_sql.memory_to_answer(user.pk, card_id)
    if memory is not None:
        return memory.card, memory
    # No state, or a card no longer visible: only a visible card without a state goes on.
    others = Card.objects.filter(note_id=OuterRef("note_id")).exclude(pk=card_id)
    card = (
        Card.objects.filter(visible_decks_q(user, via="deck__"), pk=card_id)
        .annotate(has_siblings=Exists(others))  # sibling burying
        .first()
    )
    if card is None:
        raise InvalidReview("This card no longer exists or is no longer available to you.")
    return card, None


class _Changed(Exception):
    """The memory state's version moved between reading it and writing it."""


def _save_if_unchanged(memory: MemoryState, version: int, marks: tuple = ()) -> bool:
    """INSERT a first state, or UPDATE the state (and the `marks` a leech set) if it is still
    at `version`. Other marks are not written: a flag set meanwhile stays."""
    if memory.pk is None:
        memory.save(force_insert=True)  # the unique (user, card) constraint guards a race
        return True
    names = (*STATE_FIELDS, *marks, "deck_id", "version")
    fields = {name: getattr(memory, name) for name in names}
    return MemoryState.objects.filter(pk=memory.pk, version=version).update(**fields) == 1


def _replayed(user, claim: _Claim) -> ReviewResult:
    """The result this token recorded, or StaleReview if it recorded none."""
    done = _already_recorded(user, claim)
    if done is None:
        raise StaleReview("This card was answered meanwhile (in another tab?).")
    return done


# -- undo -----------------------------------------------------------------------------------


def undo_last_review(user, deck=None) -> ReviewLog | None:
    """Undo the user's latest review (in `deck` if given): restore the exact previous state,
    delete the log row and bump the state's version so tokens issued before go stale.

    Returns the undone log (no longer saved) so the caller can show that card again.
    """
    logs = ReviewLog.objects.filter(user=user)
    if deck is not None:
        logs = logs.filter(deck=deck)
    with transaction.atomic():
        log = logs.order_by("-reviewed_at", "-pk").first()
        if log is None:
            return None
        memory = (
            MemoryState.objects.select_for_update().filter(user=user, card_id=log.card_id).first()
        )
        if not ReviewLog.objects.filter(pk=log.pk).delete()[0]:
            return None  # a concurrent undo took it
        if memory is None:
            memory = MemoryState.of(user, Card.objects.get(pk=log.card_id), deck_id=log.deck_id)
        if "exists" in log.before and memory.last_review == log.reviewed_at:
            _restore(memory, log.before, log.reviewed_at)
        else:
            # No usable snapshot (e.g. an imported log): replay what is left of the history.
            settings = get_study_settings(user)
            _apply_state(
                memory,
                _replay_card(log.card_id, _card_logs(user, log.card_id), settings),
                due=log.reviewed_at,
            )
        memory.version = (memory.version or 0) + 1
        memory.save()
        siblings.unbury(user, log.before.get("buried_siblings"))
    log.pk = None  # an unsaved copy: the row is gone
    log._state.adding = True
    return log


# -- preview --------------------------------------------------------------------------------


def preview_intervals(
    user, card, memory: MemoryState | None, now: datetime | None = None
) -> list[tuple[int, str, str]]:
    """(rating, label, interval text) for each answer button of the user's rating scale."""
    settings = get_study_settings(user)
    state = card_state(memory)
    labels = Scheduler(policy_for(settings)).preview_labels(
        state, now or timezone.now(), new_fuzz_seed(card.pk, state.reps)
    )
    return [
        (rating, label, labels[grade])
        for rating, label, grade in rating_choices(settings.rating_scale)
    ]


# -- replay ---------------------------------------------------------------------------------


def _card_logs(user, card_id):
    return ReviewLog.objects.filter(user=user, card_id=card_id).order_by("reviewed_at", "pk")


def new_fuzz_seed(card_id: int, reps_before: int) -> str:
    """The seed of a review's interval fuzz: deterministic per card and review, so a replay
    reproduces it; stored on the log (ReviewLog.fuzz_seed) once the review is recorded."""
    return f"{card_id}:{reps_before}"


def fuzz_seed_of(log: ReviewLog, card_id: int, reps_before: int) -> str:
    """The fuzz seed a log was (or, for an older log without one, is) scheduled with."""
    return log.fuzz_seed or new_fuzz_seed(card_id, reps_before)


def _replay_card(card_id, logs, settings) -> CardState:
    """The state after replaying `logs` (in order) under the user's current policy."""
    reviews = [
        (_grade_of(log), log.reviewed_at, fuzz_seed_of(log, card_id, reps_before))
        for reps_before, log in enumerate(logs)
    ]
    if not reviews:
        return CardState.new()
    return replay(reviews, policy_for(settings))[-1].after


def _grade_of(log: ReviewLog) -> Grade:
    try:
        return Grade(log.grade)
    except ValueError:
        raise ValueError(
            f"review log {log.pk} (card {log.card_id}): grade {log.grade!r} is not 1–4"
        ) from None
