"""Deleting many rows in short transactions: one DELETE of 50,000 cards (with their memory
states and review logs) held SQLite's write lock for seconds, and every other user's write
waited behind it.

An imported Anki note type goes when the last note using it goes with a deck, or when its
owner's account is deleted (NoteType.owner is SET_NULL, Note.note_type PROTECT: no cascade
removes it, and nothing else could use it then). Deleting single cards keeps it: Undo of that
delete puts its notes back (services/card_trash.py), and a package re-import reuses it.
"""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from cards.models import Card, Deck, MemoryState, Note, NoteType, ReviewLog


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
    note_types = _note_types_of(deck)
    delete_in_batches(Note.objects.filter(deck=deck), size)
    deck.delete()
    delete_unused_note_types(note_types)
    return count


def delete_unused_note_types(ids) -> int:
    """Those of these note types that no note uses any more."""
    ids = set(ids)
    if not ids:
        return 0
    return NoteType.objects.filter(pk__in=ids, notes__isnull=True).delete()[0]


def _note_types_of(deck: Deck) -> set[int]:
    used = NoteType.objects.filter(notes__deck=deck).order_by().values_list("pk", flat=True)
    return set(used.distinct())


# A deck or an account deleted by any other path (the admin, Model.delete): the same rule.


@receiver(pre_delete, sender=Deck, dispatch_uid="studyapp_deck_note_types")
def _deck_note_types_before(sender, instance, **kwargs):
    instance._note_types = _note_types_of(instance)


@receiver(post_delete, sender=Deck, dispatch_uid="studyapp_deck_note_types2")
def _deck_note_types_after(sender, instance, **kwargs):
    delete_unused_note_types(getattr(instance, "_note_types", ()))


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="studyapp_user_note_types")
def _user_note_types_before(sender, instance, **kwargs):
    instance._note_types = set(NoteType.objects.filter(owner=instance).values_list("pk", flat=True))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="studyapp_user_note_types2")
def _user_note_types_after(sender, instance, **kwargs):
    delete_unused_note_types(getattr(instance, "_note_types", ()))
