"""Undo of the card browser's content actions — add tags, remove tags, move to a deck — as
Anki undoes Add Tags, Remove Tags and Change Deck.

Each call records one StudyAction holding every changed card's value before (and, for tags,
after), so the whole bulk action comes back in one step. Tags are the note's (note_bulk
.sync_note_tags), so a card's siblings and its note are recorded and put back too; a move
takes a note's sibling cards along (curation.move_cards), so they move back with it. When any
card changed since (its tags differ from what the action left, it is no longer in the deck it
was moved to, it was deleted) or may no longer be edited, undo refuses and changes nothing:
never half a bulk action, never over a later change.

Delete's undo is services/card_trash's (the rows it removed are kept there, not here).
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

from cards.models import Card, Deck, MemoryState, Note, ReviewLog, StudyAction

CHUNK = 500


def _with_siblings(card_ids) -> Q:
    notes = Card.objects.filter(pk__in=list(card_ids), note__isnull=False).values("note_id")
    return Q(pk__in=list(card_ids)) | Q(note_id__in=notes)


# -- tags ---------------------------------------------------------------------------------------


def tags_before(card_ids) -> dict:
    """The tags of these cards, their siblings and their notes, read before the change (the
    caller holds the cards locked). One query."""
    rows = Card.objects.filter(_with_siblings(card_ids)).values_list(
        "pk", "tags", "note_id", "note__tags"
    )
    cards, notes = {}, {}
    for pk, tags, note_id, note_tags in rows:
        cards[pk] = tags
        if note_id is not None:
            notes[note_id] = note_tags
    return {"cards": cards, "notes": notes}


def record_tags(user, kind: str, snapshot: dict, now) -> None:
    """After the change (and sync_note_tags): one undo record of each card whose tags changed,
    as [before, after], and of the notes' tags before. Nothing changed records nothing."""
    from .card_marks import _record

    before = snapshot["cards"]
    if not before:
        return
    now_tags = dict(Card.objects.filter(pk__in=list(before)).values_list("pk", "tags"))
    saved = {
        str(pk): [old, now_tags[pk]]
        for pk, old in before.items()
        if pk in now_tags and now_tags[pk] != old
    }
    if not saved:
        return
    notes = {str(pk): tags for pk, tags in snapshot["notes"].items()}
    first = min(int(pk) for pk in saved)
    _record(user, first, kind, {"tags": saved, "notes": notes}, now)


def undo_tags(action: StudyAction) -> str:
    """Each card's and note's tags as they were, in the caller's transaction; or a message
    and no change when a card was changed, deleted or became uneditable since."""
    saved = action.before.get("tags", {})
    ids = [int(pk) for pk in saved]
    editable = Deck.objects.editable_by(action.user)
    cards = list(
        Card.objects.select_for_update()
        .filter(pk__in=ids, deck__in=editable)
        .only("pk", "tags", "deck_id")
    )
    if len(cards) != len(ids) or any(card.tags != saved[str(card.pk)][1] for card in cards):
        return (
            f"{action.get_kind_display()} was not undone: some of its cards were changed or "
            "deleted since, or are no longer yours to edit."
        )
    for card in cards:
        card.tags = saved[str(card.pk)][0]
    Card.objects.bulk_update(cards, ["tags"], batch_size=CHUNK)
    old_notes = action.before.get("notes", {})
    notes = list(Note.objects.filter(pk__in=[int(pk) for pk in old_notes]).only("pk", "tags"))
    for note in notes:
        note.tags = old_notes[str(note.pk)]
    Note.objects.bulk_update(notes, ["tags"], batch_size=CHUNK)
    return ""


# -- move ---------------------------------------------------------------------------------------


def decks_before(card_ids) -> dict:
    """Where these cards and their siblings are (deck, position), and their notes' decks,
    before a move (move_cards takes siblings along). One query."""
    rows = Card.objects.filter(_with_siblings(card_ids)).values_list(
        "pk", "deck_id", "position", "note_id", "note__deck_id"
    )
    cards, notes = {}, {}
    for pk, deck_id, position, note_id, note_deck in rows:
        cards[pk] = [deck_id, position]
        if note_id is not None:
            notes[note_id] = note_deck
    return {"cards": cards, "notes": notes}


def record_move(user, snapshot: dict, target: Deck, now) -> None:
    """One undo record of the cards that moved (those not already in `target`), with their
    deck and position before, and their notes' decks."""
    from .card_marks import _record

    moved = {str(pk): old for pk, old in snapshot["cards"].items() if old[0] != target.pk}
    if not moved:
        return
    notes = {str(pk): deck for pk, deck in snapshot["notes"].items() if deck != target.pk}
    first = min(int(pk) for pk in moved)
    before = {"deck": moved, "notes": notes, "to": target.pk}
    _record(user, first, StudyAction.MOVE, before, now)


def undo_move(action: StudyAction) -> str:
    """Move each card back to its deck and place, with its memory states, review logs and note
    (in the caller's transaction); or a message and no change when a card left the deck it was
    moved to (or was deleted), a deck it came from is gone or no longer the user's to edit, or
    one of those decks now has a card with the same import id."""
    saved = action.before.get("deck", {})
    target = action.before.get("to")
    ids = [int(pk) for pk in saved]
    cards = list(
        Card.objects.select_for_update()
        .filter(pk__in=ids)
        .only("pk", "deck_id", "position", "external_id")
    )
    if len(cards) != len(ids) or any(card.deck_id != target for card in cards):
        return "Change deck was not undone: some of its cards were moved again or deleted since."
    sources = {old[0] for old in saved.values()}
    editable = Deck.objects.editable_by(action.user).filter(pk__in=sources)
    if set(editable.values_list("pk", flat=True)) != sources:
        return (
            "Change deck was not undone: a deck the cards came from was deleted or is no "
            "longer yours to edit."
        )
    imported = {(saved[str(c.pk)][0], c.external_id) for c in cards if c.external_id}
    if imported:
        taken = Card.objects.filter(
            deck_id__in=sources, external_id__in={ext for _, ext in imported}
        ).values_list("deck_id", "external_id")
        if imported & set(taken):
            return (
                "Change deck was not undone: a deck the cards came from has since got cards "
                "with the same import id."
            )
    for card in cards:
        card.deck_id, card.position = saved[str(card.pk)]
    Card.objects.bulk_update(cards, ["deck", "position"], batch_size=CHUNK)
    deck_of = Subquery(Card.objects.filter(pk=OuterRef("card_id")).values("deck_id")[:1])
    # Every learner's memory states and logs follow the card (denormalised deck, as move_cards).
    MemoryState.objects.filter(card_id__in=ids).update(deck_id=deck_of)
    ReviewLog.objects.filter(card_id__in=ids).update(deck_id=deck_of)
    old_notes = action.before.get("notes", {})
    notes = list(Note.objects.filter(pk__in=[int(pk) for pk in old_notes]).only("pk", "deck_id"))
    for note in notes:
        note.deck_id = old_notes[str(note.pk)]
    Note.objects.bulk_update(notes, ["deck"], batch_size=CHUNK)
    return ""
