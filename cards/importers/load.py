"""Save a parsed deck: one transaction, matched on external id so a re-import updates in place."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from cards.importers.csvfile import looks_like_csv, parse_cards_csv
from cards.importers.errors import ImportFileError, ParsedDeck
from cards.importers.seed import looks_like_seed_export, parse_seed_export
from cards.importers.text import decode_text
from cards.models import Card, Deck


@dataclass
class ImportResult:
    deck: Deck
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_answers: int = 0

    def summary(self) -> str:
        text = (
            f"{self.deck.name}: {self.created} cards created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.kept_answers:
            text += f"; kept {self.kept_answers} answers written here that the file leaves blank"
        return text


def parse_deck_file(data: bytes, filename: str) -> ParsedDeck:
    """Either format, chosen by content and the .csv suffix; a CSV deck is named after its file."""
    text = decode_text(data)
    if filename.lower().endswith(".csv") or looks_like_csv(text):
        return parse_cards_csv(text, title=Path(filename).stem)
    if looks_like_seed_export(text):
        return parse_seed_export(text)
    # Neither shape: let the export parser name the first line that is off.
    return parse_seed_export(text)


def save_deck(
    parsed: ParsedDeck,
    *,
    owner,
    name: str | None = None,
    public: bool | None = None,
    deck: Deck | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    name = (name or parsed.title).strip()[:200]
    if not name:
        raise ImportFileError("the deck has no name")
    with transaction.atomic():
        if deck is None:
            deck, _ = Deck.objects.get_or_create(owner=owner, name=name)
        if public is not None and deck.is_public != public:
            deck.is_public = public
            deck.save(update_fields=["is_public", "updated_at"])
        result = ImportResult(deck=deck)
        existing = {c.external_id or f"q:{c.question}": c for c in deck.cards.all()}
        total = len(parsed.cards)
        for index, item in enumerate(parsed.cards, start=1):
            key = item.external_id or f"q:{item.question}"
            card = existing.get(key)
            if card is None:
                Card.objects.create(
                    deck=deck,
                    question=item.question,
                    answer=item.answer,
                    position=index,
                    external_id=item.external_id,
                    tags=item.tags,
                )
                result.created += 1
            else:
                _update(card, item, index, result)
            if progress and (index % 500 == 0 or index == total):
                progress(index, total)
    return result


def _update(card: Card, item, position: int, result: ImportResult) -> None:
    answer = item.answer
    if not answer and card.answer:
        # A blank in the file never erases an answer someone has written since.
        answer = card.answer
        result.kept_answers += 1
    new = {"question": item.question, "answer": answer, "position": position, "tags": item.tags}
    changed = [field for field, value in new.items() if getattr(card, field) != value]
    if not changed:
        result.unchanged += 1
        return
    for field in changed:
        setattr(card, field, new[field])
    card.save(update_fields=changed + ["updated_at"])
    result.updated += 1
