"""Rating only what is due or chosen: a card may be rated when it is in the learner's queue
today or in their custom study session, never because a request names it.

"In the queue today" is the queue's own rule (queue.py), without its order: a learning or
review card due before the study day ends, or a new card while new cards are left today;
either studyable and not suspended or buried by the learner. The daily review limit is not
applied: a review card it holds back is still due, and rating it is no forgery.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from django.utils import timezone

from cards.models import CustomStudySession
from cards.scheduling import State

from .custom_study_session import session_card_ids
from .queue import _today
from .reviews import InvalidReview
from .settings import get_study_settings, study_day_bounds

NOT_DUE = (
    "This card is not due today and is not in your custom study session, so it cannot be rated now."
)


class NotDue(InvalidReview):
    """A rating for a card that is neither due today nor in the custom study session."""


class Today:
    """The parts of the study day the check needs, each read only when asked: the day's end
    costs no query, the new cards left one (today's review logs)."""

    def __init__(self, user, now: datetime | None = None, new_left: int | None = None):
        self.user = user
        self.now = now or timezone.now()
        if new_left is not None:
            self.new_left = new_left

    @cached_property
    def end(self) -> datetime:
        return study_day_bounds(get_study_settings(self.user), self.now)[2]

    @cached_property
    def new_left(self) -> int:
        return _today(self.user, self.now).new_left

    @classmethod
    def of_queue(cls, queue) -> Today:
        """The study day a StudyQueue already read (no query)."""
        today = cls(queue.user, queue.today.now, queue.today.new_left)
        today.end = queue.today.end
        return today


def in_queue_today(card, memory, today: Today) -> bool:
    """The card is in the learner's queue today (see the module's docstring)."""
    if not card.is_studyable:
        return False
    if memory is not None:
        if memory.suspended or (memory.buried_until and memory.buried_until > today.now):
            return False
        if memory.state != State.NEW:
            return memory.due < today.end
    return today.new_left > 0


def in_custom_session(user, card_id: int) -> bool:
    session = CustomStudySession.objects.filter(user=user).first()
    return session is not None and card_id in session_card_ids(session)


def may_rate(user, card, memory, today: Today) -> bool:
    return in_queue_today(card, memory, today) or in_custom_session(user, card.pk)


def gate(user, now: datetime | None = None):
    """A check for record_review(gate=...): raises NotDue for a card the user may not rate."""
    today = Today(user, now)

    def check(card, memory) -> None:
        if not may_rate(user, card, memory, today):
            raise NotDue(NOT_DUE)

    return check
