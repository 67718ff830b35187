"""Save a parsed deck, matched on external id (else question) so a re-import updates in place.

The cards are written in batches of short transactions (settings.IMPORT_BATCH_CARDS), with the
Markdown rendered before each transaction opens, so that on SQLite another user's write never
waits long for the lock. All-or-nothing all the same: if a batch fails (or `progress` raises to
stop the import), the cards this import created are removed again, and the deck too if the
import made it; updates to cards that were already there stay, and the error says how many.
"""

import csv
import gc
import io
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cards.importers.csvfile import looks_like_csv, parse_cards_csv
from cards.importers.csvnotes import is_note_row, save_note_groups
from cards.importers.errors import ImportFileError, ParsedCard, ParsedDeck
from cards.importers.seed import parse_seed_export
from cards.importers.text import decode_text
from cards.limits import LimitError, check_limits
from cards.models import Card, Deck
from cards.services.deletion import delete_cards, delete_deck
from cards.services.note_bulk import sync_basic_notes, update_note_cards, with_basic_notes

TEXT_FIELDS = ("question", "answer", "external_id", "tags")
UPDATE_FIELDS = [
    "question", "answer", "question_html", "answer_html", "position", "tags",
    "imported_question", "imported_answer",
]  # fmt: skip


class ImportAborted(ImportFileError):
    """The import failed after it had started writing; the message says what was undone."""


@dataclass
class ImportResult:
    deck: Deck
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_answers: int = 0
    deck_created: bool = False

    def summary(self) -> str:
        text = (
            f"{self.deck.name}: {self.created} cards created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.kept_answers:
            text += f"; kept {self.kept_answers} answers written here that the file leaves blank"
        return text


def parse_deck_file(data: bytes, filename: str, *, validate: bool = True) -> ParsedDeck:
    """Either format, chosen by content and the .csv suffix; a CSV deck is named after its file.
    Every card is checked against the model's own field rules, so a bad one names its line
    (`validate=False`: the worker, reading a file the request has checked)."""
    text = decode_text(data)
    is_csv = filename.lower().endswith(".csv") or looks_like_csv(text)
    _refuse_too_many_cards(text, is_csv)
    if is_csv:
        parsed, kind = parse_cards_csv(text, title=Path(filename).stem), "row"
    else:
        # A seed export; if neither shape fits, its parser names the first line that is off.
        parsed, kind = parse_seed_export(text), "line"
    if validate:
        validate_cards(parsed, kind=kind)
    return parsed


def _refuse_too_many_cards(text: str, is_csv: bool) -> None:
    """Refuse a file of more than IMPORT_MAX_CARDS cards before parsing it all: its rows (CSV)
    or its `Q` lines (export) are counted, only up to the limit."""
    limit = settings.IMPORT_MAX_CARDS
    if is_csv:
        rows = csv.reader(io.StringIO(text, newline=""))
        try:
            count = sum(1 for row in islice(rows, limit + 2) if any(f.strip() for f in row)) - 1
        except csv.Error:
            return  # malformed: the parser names the row
    else:
        questions = (line for line in io.StringIO(text) if line.strip() == "Q")
        count = sum(1 for _ in islice(questions, limit + 1))
    if count > limit:
        raise ImportFileError(
            f"the file has more than {limit:,} cards; one import takes at most {limit:,} "
            "(IMPORT_MAX_CARDS): split the file"
        )


def validate_cards(parsed: ParsedDeck, *, kind: str = "row") -> None:
    """The model's own rules for each card's text (length, NUL characters), by row or line."""
    fields = [Card._meta.get_field(name) for name in TEXT_FIELDS]
    for item in parsed.cards:
        for field in fields:
            try:
                field.clean(getattr(item, field.name), None)
            except ValidationError as exc:
                what = field.name.replace("_", " ")
                raise ImportFileError(
                    f"the {what}: {' '.join(exc.messages)}", line=item.line or None, kind=kind
                ) from None


def deck_name(parsed: ParsedDeck, name: str | None) -> str:
    name = (name or parsed.title).strip()[:200]
    if not name:
        raise ImportFileError("the deck has no name")
    return name


def _key(item) -> str:
    return item.external_id or f"q:{item.question}"


def check_import_limits(parsed: ParsedDeck, *, owner, name: str, deck: Deck | None) -> Deck | None:
    """Raise LimitError if saving `parsed` would pass a limit; returns the deck it would update
    (`deck`, or the owner's deck of that name), None for a new one."""
    if deck is None:
        deck = Deck.objects.filter(owner=owner, name=name).first()
    keys = set(deck.cards.values_list("external_id", "question")) if deck else set()
    existing = {external_id or f"q:{question}" for external_id, question in keys}
    new_cards = sum(1 for item in parsed.cards if _key(item) not in existing)
    check_limits(
        owner,
        new_decks=0 if deck else 1,
        new_cards_by_deck={deck or name: new_cards},
        import_cards=len(parsed.cards),
    )
    return deck


def save_deck(
    parsed: ParsedDeck,
    *,
    owner,
    name: str | None = None,
    public: bool | None = None,
    deck: Deck | None = None,
    progress: Callable[[int, int], None] | None = None,
    started: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Write the cards batch by batch; `started` hears of the deck before the first batch,
    `progress(done, total)` after each (either may raise to stop the import). Raises
    ImportFileError before anything is written (a limit, a nameless deck), ImportAborted after
    (the message says what was undone)."""
    name = deck_name(parsed, name)
    try:
        deck = check_import_limits(parsed, owner=owner, name=name, deck=deck)
    except LimitError as exc:
        raise ImportFileError(str(exc)) from None
    result = ImportResult(deck=deck, deck_created=deck is None)
    if deck is None:
        result.deck = deck = Deck.objects.create(owner=owner, name=name, is_public=bool(public))
    elif public is not None and deck.is_public != public:
        deck.is_public = public
        deck.save(update_fields=["is_public", "updated_at"])
    created_ids: list[int] = []
    total, size = len(parsed.cards), settings.IMPORT_BATCH_CARDS
    try:
        if started:
            started(result)
        existing = {_key(card): card for card in deck.cards.all()}
        for start in range(0, total, size):
            created_ids += _save_batch(
                deck, parsed.cards[start : start + size], start, existing, result
            )
            if progress:
                progress(min(start + size, total), total)
        if any(is_note_row(item) for item in parsed.cards):
            # The CSV's reversed and cloze notes (cards/importers/csvnotes.py), note by note.
            save_note_groups(deck, parsed.cards, existing, _key, result, created_ids)
    except BaseException as exc:
        _undo(result, created_ids)
        if not isinstance(exc, Exception):
            raise  # the worker is stopping (SystemExit, KeyboardInterrupt): it records why
        raise ImportAborted(_failure_message(exc, result, len(created_ids), total)) from exc
    return result


def _save_batch(deck, items: list[ParsedCard], start: int, existing, result) -> list[int]:
    """One short transaction; everything slow (Markdown, comparisons) happens before it."""
    new, changed, kept, now, later = [], [], 0, timezone.now(), 0
    for position, item in enumerate(items, start=start + 1):
        if is_note_row(item):
            later += 1  # saved with its note after the batches
            continue
        card = existing.get(_key(item))
        if card is None:
            card = Card(
                deck=deck,
                question=item.question.strip(),
                answer=item.answer.strip(),
                position=position,
                external_id=item.external_id,
                tags=item.tags,
                imported_question=item.imported_question,
                imported_answer=item.imported_answer,
            )
            card.render()
            new.append(card)
            continue
        answer = item.answer.strip()
        if not answer and card.answer:
            # A blank in the file never erases an answer someone has written since.
            answer, kept = card.answer, kept + 1
        fresh = {
            "question": item.question.strip(),
            "answer": answer,
            "position": position,
            "tags": item.tags,
            # The text as the file had it when the importer cleaned it up (so a card imported
            # before the clean-up gets it now); a file that needed none never erases it.
            "imported_question": item.imported_question or card.imported_question,
            "imported_answer": item.imported_answer or card.imported_answer,
        }
        differ = [field for field, value in fresh.items() if getattr(card, field) != value]
        if not differ:
            continue
        for field in differ:
            setattr(card, field, fresh[field])
        if {"question", "answer"} & set(differ):
            card.render()
        card.updated_at = now
        changed.append(card)
    with _no_gc_pause(), transaction.atomic():
        Card.objects.bulk_create(with_basic_notes(deck, new))
        if changed:
            # A card of a reversed or cloze note changes through its note (its siblings follow).
            plain = update_note_cards(changed)
            Card.objects.bulk_update(plain, [*UPDATE_FIELDS, "updated_at"])
            sync_basic_notes(plain)
    result.created += len(new)
    result.updated += len(changed)
    result.unchanged += len(items) - len(new) - len(changed) - later
    result.kept_answers += kept
    return [card.pk for card in new]


@contextmanager
def _no_gc_pause():
    """No garbage collection while the write lock is held: a full collection with a big parsed
    file in memory took most of a second (another user's write waited 0.9 s behind it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _undo(result: ImportResult, created_ids: list[int]) -> None:
    if result.deck_created:
        delete_deck(result.deck)
    else:
        delete_cards(Card.objects.filter(pk__in=created_ids))


def _failure_message(exc: Exception, result: ImportResult, created: int, total: int) -> str:
    reason = str(exc) or type(exc).__name__
    done = result.created + result.updated + result.unchanged
    text = f"the import stopped after {done:,} of {total:,} cards ({reason})"
    if result.deck_created:
        return text + "; the new deck was removed again"
    text += f"; the {created:,} cards it had added were removed again"
    if result.updated:
        text += f", the {result.updated:,} cards it had updated keep the file's text"
    return text
