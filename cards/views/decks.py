from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cards.models import Deck
from cards.views.access import get_deck_for_user


@require_GET
def dashboard(request):
    decks = Deck.objects.visible_to(request.user).with_card_counts().select_related("owner")
    own = [deck for deck in decks if deck.owner_id == request.user.pk]
    public = [deck for deck in decks if deck.owner_id != request.user.pk]
    return render(request, "cards/dashboard.html", {"own_decks": own, "public_decks": public})


@require_GET
def deck_detail(request, deck_id):
    deck = get_deck_for_user(request, deck_id)
    show = request.GET.get("show", "all")
    cards = deck.cards.all()
    if show == "missing":
        cards = cards.filter(Q(answer=""))
    return render(
        request,
        "cards/deck_detail.html",
        {
            "deck": deck,
            "cards": cards,
            "show": show,
            "can_edit": deck.can_edit(request.user),
            "card_count": deck.cards.count(),
            "needs_answer_count": deck.cards.needing_answer().count(),
        },
    )
