"""The figures the dashboard, the deck page and the study page show, each from one definition.

- "learning due", "to review", "new": the study queue's counts (QueueCounts) — cards due
  today within the daily limits, exactly what the study page of that deck (or of all decks)
  shows and will study. The dashboard counts every deck at once (deck_queue_counts), the deck
  page and the study page through StudyQueue; tests/services/test_queue.py and
  tests/views/test_counts_agree.py check that they agree.
- "in learning (all)": every card the learner is learning or relearning, due or not (a card
  due tomorrow morning counts), except suspended ones. Not a queue count: it can be larger
  than "learning due", and it never counts toward a limit.
- The daily new-card limit is the learner's, shared by all decks (as in Anki): each deck's
  "new" is what that deck could give if studied first, so the per-deck figures can add up to
  more than the limit; the "All decks" figures are the study-all page's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cards.models import MemoryState

from .custom_study import todays_boost
from .queue import LEARNING_STATES, QueueCounts, StudyQueue
from .settings import get_study_settings


def in_learning(user) -> QuerySet:
    """The learner's cards in learning or relearning, due or not, not suspended (by the card
    or by the learner); buried ones count, as they are only out of today's queue."""
    return MemoryState.objects.filter(
        user=user, state__in=LEARNING_STATES, studyable=True, suspended=False
    )


def with_in_learning(decks: QuerySet, user) -> QuerySet:
    """Decks annotated with `in_learning` (in_learning() per deck), in the decks' own query."""
    per_deck = (
        in_learning(user)
        .filter(deck=OuterRef("pk"))
        .order_by()
        .values("deck")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return decks.annotate(in_learning=Coalesce(Subquery(per_deck), 0))


@dataclass(frozen=True)
class NewLimit:
    """The learner's daily new-card limit, one for all decks, and what is left of it today."""

    per_day: int
    left: int
    raised: int = 0  # custom study's extra new cards today (then `left` may exceed per_day)


@dataclass(frozen=True)
class Today:
    """A study queue's counts (one deck or all decks) and the shared new-card limit."""

    counts: QueueCounts
    new_limit: NewLimit


def today(user, deck=None) -> Today:
    """What the study page of `deck` (None: all decks) counts now: one query (its snapshot)."""
    queue = StudyQueue(user, deck)
    settings = get_study_settings(user)
    raised, _ = todays_boost(settings, queue.today.now)
    limit = NewLimit(per_day=settings.new_cards_per_day, left=queue.today.new_left, raised=raised)
    return Today(queue.counts(), limit)
