"""Access helpers: every view fetches objects through these, so another user's private data is a
404 everywhere by construction."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from cards.models import Card, Deck


def _decks_for(user):
    """Decks the user's pages reach: their own and the public ones; staff also the site's (no
    owner), which they curate (Deck.editable_by) and the card browser lists for them
    (cards.search.compiler.visible_decks). Nobody else reaches a site deck that is not public."""
    visible = Deck.objects.visible_to(user)
    if user.is_staff:
        visible = visible | Deck.objects.filter(owner__isnull=True)
    return visible


def get_deck_for_user(request, deck_id) -> Deck:
    """A deck the user may see: their own or a public one (staff: also the site's)."""
    return get_object_or_404(_decks_for(request.user), pk=deck_id)


def get_deck_for_editor(request, deck_id) -> Deck:
    """A deck the user may change. Someone who can see but not edit it gets a 404 as well."""
    deck = get_deck_for_user(request, deck_id)
    if not deck.can_edit(request.user):
        raise Http404("You cannot edit this deck")
    return deck


def get_card_for_user(request, card_id) -> Card:
    """A card in a deck the user may see (the decks of _decks_for, as the browser lists)."""
    visible = _decks_for(request.user)
    return get_object_or_404(
        Card.objects.select_related("deck").filter(deck__in=visible), pk=card_id
    )
