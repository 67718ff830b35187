"""Content (Deck, Card) is shared; scheduling (MemoryState, ReviewLog, StudySettings) and
study records (StudyAction, CustomStudySession) are per user; notes and media (Note,
MediaFile) are what cards are generated from and show; jobs (OptimizerRun, ImportJob)
are background work a page follows."""

from cards.models.content import Card, CardQuerySet, Deck, DeckQuerySet, visible_decks_q
from cards.models.jobs import ImportJob, OptimizerRun
from cards.models.notes import NOTE_FIELDS, MediaFile, Note, NoteKind, NoteType
from cards.models.scheduling import (
    MemoryState,
    ReviewLog,
    StudySettings,
    default_fsrs_parameters,
    default_learning_steps,
    default_relearning_steps,
    sync_studyable,
)
from cards.models.study import CustomStudySession, StudyAction
from cards.models.trash import CardTrash

__all__ = [
    "NOTE_FIELDS", "Card", "CardQuerySet", "CardTrash", "CustomStudySession", "Deck",
    "DeckQuerySet", "ImportJob", "MediaFile", "MemoryState", "Note", "NoteKind", "NoteType",
    "OptimizerRun", "ReviewLog", "StudyAction", "StudySettings", "default_fsrs_parameters",
    "default_learning_steps", "default_relearning_steps", "sync_studyable", "visible_decks_q",
]  # fmt: skip
