from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cards.models import Deck, MemoryState
from cards.services.queue import LEARNING_STATES, deck_queue_counts
from cards.views.access import get_deck_for_user

DECK_PAGE_CARDS = 100


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
    """A page of the deck's cards (DECK_PAGE_CARDS), so a 20,000-card deck stays a small page."""
    deck = get_deck_for_user(request, deck_id)
    show = "missing" if request.GET.get("show") == "missing" else "all"
    card_count = deck.cards.count()
    needs_answer_count = deck.cards.needing_answer().count()
    cards = deck.cards.order_by("position", "pk")
    if show == "missing":
        cards = cards.needing_answer()
    paginator = Paginator(cards, DECK_PAGE_CARDS)
    # The counts are known already: spare the paginator its own COUNT query.
    paginator.count = needs_answer_count if show == "missing" else card_count
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "cards/deck_detail.html",
        {
            "deck": deck,
            "cards": page,
            "page": page,
            "show": show,
            "can_edit": deck.can_edit(request.user),
            "card_count": card_count,
            "needs_answer_count": needs_answer_count,
        },
    )
