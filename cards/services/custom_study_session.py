"""Studying a custom study session: its queue and its answers (services/custom_study.py
starts one).

The session's `card_ids` lists the cards left in the order shown. An entry is a card id, or
[card id, epoch second] for a card waiting out a delay: Anki's preview delays in a session
that does not reschedule (Again 60 s, Hard 600 s; Good and Easy take the card out), or the
learning step of a card rated in a rescheduling session (it stays in Anki's filtered deck
until it leaves learning). A waiting card comes first once its time has come, and when
nothing else is left it is shown up to the learn-ahead limit early, as Anki's learning cards.

A rescheduling session rates through record_review (a ReviewLog, a new schedule); the others
change no memory state and write no review history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from cards.models import Card, CustomStudySession, Deck, MemoryState, ReviewLog
from cards.scheduling import Grade, State

from .queue import LEARNING_STATES, NextCard, QueueCounts, _study_day, kind_of
from .reviews import (
    InvalidReview,
    ReviewResult,
    _clean_rating,
    _read_token,
    record_review,
    undo_last_review,
)
from .settings import get_study_settings

# Anki's preview delays (rslib scheduler/filtered/custom_study.rs custom_study_config).
DELAYS = {Grade.AGAIN: 60, Grade.HARD: 600}
NOT_IN_SESSION = "This card is not in your custom study session."
NO_SESSION = "You have no custom study session. Start one from Custom study."
# Cards skipped at most per look for the next card (deleted, suspended or buried meanwhile).
MAX_SKIPPED = 50


def _card_id(entry) -> int:
    return entry[0] if isinstance(entry, list) else entry


def _waits_until(entry) -> int | None:
    return entry[1] if isinstance(entry, list) else None


def session_card_ids(session: CustomStudySession) -> set[int]:
    return {_card_id(entry) for entry in session.card_ids}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class SessionQueue:
    """A custom study session at one moment, with the interface of StudyQueue that the study
    templates use: counts(), next_card(), studied, today, deck, next_due_at()."""

    def __init__(self, user, session: CustomStudySession, now: datetime | None = None):
        self.user = user
        self.session = session
        self.deck = session.deck
        settings, moment = _study_day(user, now)
        self.today = moment  # .now, .end (the finished view's "next study day")
        self._next: NextCard | None | bool = False

    @property
    def studied(self) -> int:
        """Cards finished in this session."""
        return self.session.done

    def counts(self) -> QueueCounts:
        """The cards left: waiting ones count as learning, the others by their state."""
        entries = self.session.card_ids
        plain = [entry for entry in entries if not isinstance(entry, list)]
        states = dict(
            MemoryState.objects.filter(user=self.user, card_id__in=plain).values_list(
                "card_id", "state"
            )
        )
        counts = QueueCounts(learning=len(entries) - len(plain))
        for card_id in plain:
            state = states.get(card_id, State.NEW)
            if state == State.NEW:
                counts.new += 1
            elif state in LEARNING_STATES:
                counts.learning += 1
            else:
                counts.review += 1
        return counts

    def _order(self) -> list[int]:
        """Card ids in the order to try: waiting cards whose time has come (earliest first),
        the others in session order, then waiting cards within the learn-ahead limit."""
        now, ahead = _epoch(self.today.now), _epoch(self.today.ahead)
        waiting = sorted((_waits_until(e), _card_id(e)) for e in self.session.card_ids
                         if isinstance(e, list))  # fmt: skip
        ready = [card_id for until, card_id in waiting if until <= now]
        early = [card_id for until, card_id in waiting if now < until <= ahead]
        plain = [entry for entry in self.session.card_ids if not isinstance(entry, list)]
        return ready + plain + early

    def next_card(self) -> NextCard | None:
        if self._next is False:
            self._next = self._find_next()
        return self._next

    def _find_next(self) -> NextCard | None:
        skipped = []
        found = None
        for card_id in self._order()[:MAX_SKIPPED]:
            found = self.show(card_id)
            if found is not None:
                break
            skipped.append(card_id)
        if skipped:
            _drop(self.session, skipped)
        return found

    def show(self, card_id: int) -> NextCard | None:
        """The card if the user may still study it, with their memory state."""
        decks = Deck.objects.filter(Q(owner=self.user) | Q(is_public=True))
        if self.deck is not None:
            decks = decks.filter(pk=self.deck.pk)
        card = (
            Card.objects.studyable()
            .select_related("deck")
            .filter(pk=card_id, deck__in=decks)
            .first()
        )
        if card is None:
            return None
        memory = MemoryState.objects.filter(user=self.user, card=card).first()
        if memory is not None and (
            memory.suspended or (memory.buried_until and memory.buried_until > self.today.now)
        ):
            return None
        return NextCard(card, memory, kind_of(memory))

    def next_due_at(self) -> datetime | None:
        """When the first waiting card may be shown (after the learn-ahead limit)."""
        times = [_waits_until(e) for e in self.session.card_ids if isinstance(e, list)]
        return datetime.fromtimestamp(min(times), UTC) if times else None


def _drop(session: CustomStudySession, card_ids: list[int]) -> None:
    """Take cards that can no longer be studied out of the session (they count as done)."""
    gone = set(card_ids)
    with transaction.atomic():
        stored = CustomStudySession.objects.select_for_update().get(pk=session.pk)
        kept = [entry for entry in stored.card_ids if _card_id(entry) not in gone]
        stored.done += len(stored.card_ids) - len(kept)
        stored.card_ids = kept
        stored.save(update_fields=["card_ids", "done"])
    session.card_ids, session.done = stored.card_ids, stored.done


@dataclass
class Answered:
    """One answer in a session: the review (rescheduling sessions) and what undoes it."""

    result: ReviewResult | None
    undo: dict | None  # None: a replay, nothing changed


def current_session(user) -> CustomStudySession | None:
    return CustomStudySession.objects.select_related("deck").filter(user=user).first()


def answer(user, token: str, rating, duration_ms: int = 0, now=None) -> Answered:
    """Rate a card of the user's session. Raises InvalidReview (a card not in the session, a
    bad token or rating) or StaleReview (a rescheduling session's card rated meanwhile)."""
    session = current_session(user)
    if session is None:
        raise InvalidReview(NO_SESSION)
    claim = _read_token(user, token)
    if claim.card_id not in session_card_ids(session):
        raise InvalidReview(NOT_IN_SESSION)
    queue = SessionQueue(user, session, now)
    now = queue.today.now
    if session.reschedule:
        result = record_review(user, token, rating, duration_ms, now)
        if not result.created:
            return Answered(result, None)
        memory = result.memory
        stays = memory.state in LEARNING_STATES and memory.due < queue.today.end
        until = _epoch(memory.due) if stays else None
    else:
        _, grade = _clean_rating(rating, get_study_settings(user).rating_scale)
        result = None
        delay = DELAYS.get(grade)
        until = _epoch(now + timedelta(seconds=delay)) if delay is not None else None
    undo = _move(session, claim.card_id, until)
    undo["logged"] = result is not None
    return Answered(result, undo)


def _move(session: CustomStudySession, card_id: int, until: int | None) -> dict:
    """Requeue the card to wait until `until`, or take it out (done); returns its undo."""
    with transaction.atomic():
        stored = CustomStudySession.objects.select_for_update().get(pk=session.pk)
        entries = stored.card_ids
        index = next((i for i, e in enumerate(entries) if _card_id(e) == card_id), None)
        if index is None:
            raise InvalidReview(NOT_IN_SESSION)
        undo = {"card": card_id, "index": index, "entry": entries[index], "done": stored.done,
                "session": stored.created_at.isoformat()}  # fmt: skip
        del entries[index]
        if until is None:
            stored.done += 1
        else:
            entries.append([card_id, until])
        stored.save(update_fields=["card_ids", "done"])
    session.card_ids, session.done = stored.card_ids, stored.done
    return undo


def undo(user, step: dict) -> int:
    """Undo one answer given by answer(): the card goes back where it was in the session and,
    if the answer was a review, the review is undone. Returns the card's id; raises
    InvalidReview when the session or the review history moved on meanwhile."""
    session = current_session(user)
    if session is None or session.created_at.isoformat() != step.get("session"):
        raise InvalidReview("That answer belongs to an earlier custom study session.")
    card_id = step["card"]
    if step.get("logged"):
        last = ReviewLog.objects.filter(user=user).order_by("-reviewed_at", "-pk").first()
        if last is None or last.card_id != card_id:
            raise InvalidReview("Your latest rating is of another card: undo it where you gave it.")
        undo_last_review(user)
    with transaction.atomic():
        stored = CustomStudySession.objects.select_for_update().get(pk=session.pk)
        entries = [entry for entry in stored.card_ids if _card_id(entry) != card_id]
        entries.insert(min(step["index"], len(entries)), step["entry"])
        stored.card_ids, stored.done = entries, step["done"]
        stored.save(update_fields=["card_ids", "done"])
    return card_id


def end_session(user) -> bool:
    """Delete the user's session (Anki's "empty" of the filtered deck); False if none."""
    return CustomStudySession.objects.filter(user=user).delete()[0] > 0
