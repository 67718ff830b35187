"""Content (Deck, Card) is shared; scheduling (MemoryState, ReviewLog, StudySettings) is per
user; jobs (OptimizerRun, ImportJob) are background work a page follows."""

from cards.models.content import Card, CardQuerySet, Deck, DeckQuerySet, visible_decks_q
from cards.models.jobs import ImportJob, OptimizerRun
from cards.models.scheduling import (
    MemoryState,
    ReviewLog,
    StudySettings,
    default_fsrs_parameters,
    default_learning_steps,
    default_relearning_steps,
    sync_studyable,
)

__all__ = [
    "Card", "CardQuerySet", "Deck", "DeckQuerySet", "ImportJob", "MemoryState", "OptimizerRun",
    "ReviewLog", "StudySettings", "default_fsrs_parameters", "default_learning_steps",
    "default_relearning_steps", "sync_studyable", "visible_decks_q",
]  # fmt: skip
