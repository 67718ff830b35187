from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cards.models import Deck, MemoryState
from cards.services.queue import LEARNING_STATES, deck_queue_counts
from cards.views.access import get_deck_for_user


@require_GET
def dashboard(request):
    in_learning = (
        MemoryState.objects.filter(
            user=request.user, deck=OuterRef("pk"), state__in=LEARNING_STATES
        )
        .order_by()
        .values("deck")
        .annotate(n=Count("pk"))
        .values("n")
    )
    decks = list(
        Deck.objects.visible_to(request.user)
        .with_card_counts()
        .annotate(in_learning=Coalesce(Subquery(in_learning), 0))
        .select_related("owner")
    )
    counts = deck_queue_counts(request.user, decks)
    for deck in decks:
        deck.queue = counts[deck.pk]
    own = [deck for deck in decks if deck.owner_id == request.user.pk]
    public = [deck for deck in decks if deck.owner_id != request.user.pk]
    return render(request, "cards/dashboard.html", {"own_decks": own, "public_decks": public})


@require_GET
def deck_detail(request, deck_id):
    deck = get_deck_for_user(request, deck_id)
    show = request.GET.get("show", "all")
    cards = deck.cards.all()
    if show == "missing":
        cards = cards.needing_answer()
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
