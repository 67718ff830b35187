"""Deleting many rows in short transactions: one DELETE of 50,000 cards (with their memory
states and review logs) held SQLite's write lock for seconds, and every other user's write
waited behind it."""

from django.conf import settings
from django.db import transaction

from cards.models import Card, Deck, MemoryState, Note, ReviewLog


def delete_in_batches(queryset, batch_size: int | None = None) -> int:
    """Delete the rows of a queryset, `batch_size` (IMPORT_BATCH_CARDS) per transaction, with
    whatever cascades from them. Returns the number of rows of the queryset's model deleted."""
    batch_size = batch_size or settings.IMPORT_BATCH_CARDS
    model = queryset.model
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            # only("pk"): the cascade needs the ids, not the rows' text.
            model.objects.filter(pk__in=ids[start : start + batch_size]).only("pk").delete()
    return len(ids)


def delete_cards(cards) -> int:
    """The cards, then any note left without a card."""
    from cards.services.note_bulk import delete_orphan_notes

    note_ids = set(cards.order_by().values_list("note_id", flat=True).distinct())
    count = delete_in_batches(cards)
    delete_orphan_notes(note_ids)
    return count


def delete_deck(deck: Deck) -> int:
    """The deck's history, memory states and cards batch by batch, then the deck itself; each
    transaction stays short however big the deck. Returns the number of cards deleted."""
    # History first, in bigger batches (narrow rows, nothing cascades from them), so that no
    # batch of cards drags a long cascade with it.
    size = settings.IMPORT_BATCH_CARDS * 4
    delete_in_batches(ReviewLog.objects.filter(deck=deck), size)
    delete_in_batches(MemoryState.objects.filter(deck=deck), size)
    count = delete_in_batches(Card.objects.filter(deck=deck))
    delete_in_batches(Note.objects.filter(deck=deck), size)
    deck.delete()
    return count
