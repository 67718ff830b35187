"""Limits on what one user may store, so that no request has unbounded work (docs/configuration.md).

Every path that adds decks or cards asks check_limits() before it writes: the web forms, deck
copies, the deck-file import (web and commands) and the JSON data import. Staff are held to
the same limits: they bound the size of a page and of a transaction, whoever asks; an operator
who needs more raises the setting.
"""

from collections.abc import Mapping

from django.conf import settings
from django.db import models

from cards.models import Card, Deck


class LimitError(ValueError):
    """A write that would pass a limit; the message names the setting and its value."""


def check_limits(
    user,
    *,
    new_decks: int = 0,
    new_cards_by_deck: Mapping[Deck | int | str | None, int] | None = None,
    import_cards: int | None = None,
) -> None:
    """Raise LimitError if the write would pass a limit; otherwise nothing (at most two queries).

    - new_decks: decks the write creates for `user` (USER_MAX_DECKS; `user` None is a site deck
      curated by staff, which no user's count includes);
    - new_cards_by_deck: cards added per deck, keyed by an existing Deck (or its pk) or by any
      other key (a name, None) for a deck the write creates (DECK_MAX_CARDS);
    - import_cards: the number of cards in one import file (IMPORT_MAX_CARDS).
    """
    if import_cards is not None and import_cards > settings.IMPORT_MAX_CARDS:
        raise LimitError(
            f"the file has {import_cards:,} cards; one import takes at most "
            f"{settings.IMPORT_MAX_CARDS:,} (IMPORT_MAX_CARDS): split the file"
        )
    if new_decks and user is not None:
        have = Deck.objects.filter(owner=user).count()
        if have + new_decks > settings.USER_MAX_DECKS:
            raise LimitError(
                f"you have {have:,} decks and this would add {new_decks:,}; a user may have at "
                f"most {settings.USER_MAX_DECKS:,} decks (USER_MAX_DECKS)"
            )
    _check_deck_sizes(new_cards_by_deck or {})


def _check_deck_sizes(new_cards_by_deck) -> None:
    adding, labels = {}, {}
    for key, n in new_cards_by_deck.items():
        if n > 0:
            pk = key.pk if isinstance(key, Deck) else key if isinstance(key, int) else None
            slot = pk if pk is not None else ("new", id(key) if isinstance(key, Deck) else key)
            adding[slot] = n
            labels[slot] = f"the deck {key.name!r}" if isinstance(key, Deck) else "the new deck"
    have = {}
    existing = [slot for slot in adding if isinstance(slot, int)]
    if existing:
        for deck in Deck.objects.filter(pk__in=existing).with_card_counts().only("name"):
            have[deck.pk] = deck.card_count
            labels[deck.pk] = f"the deck {deck.name!r}"
    for slot, n in adding.items():
        if have.get(slot, 0) + n > settings.DECK_MAX_CARDS:
            raise LimitError(
                f"{labels[slot]} has {have.get(slot, 0):,} cards and this would add {n:,}; a "
                f"deck holds at most {settings.DECK_MAX_CARDS:,} cards (DECK_MAX_CARDS)"
            )


def check_package_limits(owner, cards_by_deck_name: Mapping[str, int]) -> None:
    """An Anki package's limits: all its cards at most APKG_MAX_CARDS (a collection, not one
    file of a deck: higher than IMPORT_MAX_CARDS), the decks it would create within
    USER_MAX_DECKS, and each deck within DECK_MAX_CARDS. `owner` None: site decks. A deck
    that exists already counts only the cards beyond those it holds from Anki (a re-import
    updates them in place)."""
    total = sum(cards_by_deck_name.values())
    if total > settings.APKG_MAX_CARDS:
        raise LimitError(
            f"the package has {total:,} cards; one Anki import takes at most "
            f"{settings.APKG_MAX_CARDS:,} (APKG_MAX_CARDS): export its decks one at a time"
        )
    existing = {
        deck.name: deck
        for deck in Deck.objects.filter(owner=owner, name__in=list(cards_by_deck_name))
    }
    from_anki = {}
    if existing:
        rows = (
            Card.objects.filter(deck__in=existing.values())
            .exclude(note__guid="")
            .values_list("deck_id")
            .annotate(n=models.Count("*"))
            .order_by()
        )
        from_anki = dict(rows)
    adding: dict = {}
    for name, n in cards_by_deck_name.items():
        deck = existing.get(name)
        if deck is None:
            adding[name] = n
        else:
            adding[deck] = max(0, n - from_anki.get(deck.pk, 0))
    new_decks = sum(1 for name in cards_by_deck_name if name not in existing)
    check_limits(owner, new_decks=new_decks, new_cards_by_deck=adding)
