"""The records an Anki import reports and keeps while it runs (importer.py), and how Anki's
note types map to our note kinds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from cards.anki.collection import AnkiCard, AnkiNotetype
from cards.importers.errors import ImportFileError
from cards.models import Card, Deck, MediaFile, MemoryState, Note, NoteKind, NoteType, ReviewLog

EXAMPLES = 10  # cards named in the summary for each kind of notice


class ApkgImportError(ImportFileError):
    """The import failed; the message names the note or card and says what was undone."""


@dataclass
class ApkgSummary:
    decks: list[Deck] = field(default_factory=list)
    decks_created: int = 0
    note_types: int = 0
    notes_created: int = 0
    notes_updated: int = 0
    notes_unchanged: int = 0
    cards_created: int = 0
    cards_updated: int = 0
    cards_skipped: list[str] = field(default_factory=list)  # Anki cards we could not make
    reviews_created: int = 0
    reviews_already: int = 0
    reschedules: int = 0  # Anki's manual reschedules (revlog type 4/5, ease 0): not reviews
    memory_states: int = 0
    memory_from_anki: int = 0  # of which with Anki's stored FSRS stability/difficulty
    suspended: int = 0
    buried: int = 0
    flagged: int = 0
    images: int = 0
    media_skipped: list[str] = field(default_factory=list)
    due_differs: int = 0  # Anki's due outside our replay's fuzz window (importer_history)
    due_by_hand: int = 0  # not compared: the last revlog row is a manual reschedule
    due_not_fsrs: int = 0  # not compared: Anki scheduled the card without FSRS (SM-2)
    due_examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 50:
            self.warnings.append(message)

    def text(self) -> str:
        lines = [
            f"{len(self.decks)} decks ({self.decks_created} new), {self.notes_created} notes "
            f"added, {self.notes_updated} updated, {self.notes_unchanged} unchanged; "
            f"{self.cards_created} cards added, {self.cards_updated} updated",
            f"{self.reviews_created} reviews imported ({self.reviews_already} already there, "
            f"{self.reschedules} manual reschedules not counted as reviews); "
            f"{self.memory_states} memory states ({self.memory_from_anki} from Anki's FSRS)",
            f"{self.suspended} suspended, {self.buried} buried, {self.flagged} flagged; "
            f"{_count(self.images, 'image')}",
        ]
        if self.media_skipped:
            shown = ", ".join(self.media_skipped[:EXAMPLES])
            skipped = _count(len(self.media_skipped), "media file")
            lines.append(f"{skipped} skipped (not images): {shown}")
        if self.cards_skipped:
            lines.append(f"{len(self.cards_skipped)} cards not made: " + "; ".join(
                self.cards_skipped[:EXAMPLES]))  # fmt: skip
        if self.due_differs:
            lines.append(
                f"{self.due_differs} cards keep Anki's due date, which lies outside the fuzz "
                "range of the one our scheduler gives for their history: "
                + "; ".join(self.due_examples)
            )
        if self.due_by_hand or self.due_not_fsrs:
            lines.append(
                f"due dates kept as Anki had them, not compared with ours: {self.due_by_hand} "
                f"set by hand (Set Due Date), {self.due_not_fsrs} scheduled without FSRS (SM-2)"
            )
        lines += [f"note: {w}" for w in self.warnings]
        return "\n".join(lines)


Progress = Callable[[int, int], None]


@dataclass
class Created:
    """Everything this import made, removed again if it fails."""

    decks: list[Deck] = field(default_factory=list)
    note_types: list[int] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)
    cards: list[int] = field(default_factory=list)
    media: list[int] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)  # tokens of reviews added to older cards
    memories: list[int] = field(default_factory=list)


@dataclass
class CardInfo:
    """What the history phase needs of each imported card."""

    pk: int
    deck_id: int
    anki: AnkiCard
    label: str
    studyable: bool


# Anki's stock note types, whitespace removed: (fields, [(front, back), …]) -> our kind.
_BACK = "{{FrontSide}}<hrid=answer>{{%s}}"
STOCK = {
    NoteKind.BASIC: (["Front", "Back"], [("{{Front}}", _BACK % "Back")]),
    NoteKind.REVERSED: (
        ["Front", "Back"], [("{{Front}}", _BACK % "Back"), ("{{Back}}", _BACK % "Front")]
    ),
    NoteKind.OPTIONAL_REVERSED: (
        ["Front", "Back", "Add Reverse"],
        [("{{Front}}", _BACK % "Back"),
         ("{{#AddReverse}}{{Back}}{{/AddReverse}}", _BACK % "Front")],
    ),
    NoteKind.CLOZE: (
        ["Text", "Back Extra"], [("{{cloze:Text}}", "{{cloze:Text}}<br>{{BackExtra}}")]
    ),
}  # fmt: skip


def kind_of(notetype: AnkiNotetype) -> str:
    """Our kind for a note type of Anki's stock shape (its fields and templates as Anki makes
    them, whatever its name), else NoteKind.ANKI: its own templates render its cards."""
    shape = (
        list(notetype.fields),
        [("".join(t.front.split()), "".join(t.back.split())) for t in notetype.templates],
    )
    for kind, stock in STOCK.items():
        if shape == stock and notetype.is_cloze == (kind == NoteKind.CLOZE):
            return kind
    return NoteKind.ANKI


def undo(created: Created, user) -> None:
    """Remove what the import made, in short transactions of at most 5,000 ids (SQLite's
    bound-parameter limit); a deck it made goes whole with everything in it."""
    from cards.services.deletion import delete_deck

    def chunks(model, ids, size=5000):
        for start in range(0, len(ids), size):
            with transaction.atomic():
                model.objects.filter(pk__in=ids[start : start + size]).delete()

    tokens = created.logs
    for start in range(0, len(tokens), 5000):
        with transaction.atomic():
            chunk = tokens[start : start + 5000]
            ReviewLog.objects.filter(user=user, review_token__in=chunk).delete()
    chunks(MemoryState, created.memories)
    chunks(Card, created.cards, settings.IMPORT_BATCH_CARDS)  # their logs and states cascade
    chunks(Note, created.notes)
    for deck in created.decks:
        delete_deck(deck)
    chunks(NoteType, created.note_types)
    for media in MediaFile.objects.filter(pk__in=created.media):
        media.delete()  # its post_delete removes the file when no other row uses it


def _count(n: int, noun: str) -> str:
    """ "1 image", "2 images"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
