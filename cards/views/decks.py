from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Subquery
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cards.models import Card, Deck
from cards.services import deck_counts
from cards.services.queue import deck_queue_counts
from cards.views.access import get_deck_for_user

DECK_PAGE_CARDS = 100


@require_GET
def dashboard(request):
    """Each deck's study counts (cards due today within the limits, as its study page counts
    them), and all decks' together as the study-all page counts them (services/deck_counts)."""
    user = request.user
    decks = list(
        deck_counts.with_in_learning(Deck.objects.visible_to(user), user)
        .with_card_counts()
        .select_related("owner")
    )
    counts = deck_queue_counts(user, decks)
    for deck in decks:
        deck.queue = counts[deck.pk]
    own = [deck for deck in decks if deck.owner_id == user.pk]
    public = [deck for deck in decks if deck.owner_id != user.pk]
    context = {
        "own_decks": own,
        "public_decks": public,
        # Nothing to count without a deck: a newcomer's first page stays three queries.
        "all_decks": deck_counts.today(user) if decks else None,
        "in_learning_total": sum(deck.in_learning for deck in decks),
    }
    return render(request, "cards/dashboard.html", context)


def _note_badge() -> dict:
    """The note kind and card count shown beside a sibling (_card_item.html's badge): the
    card row's own join and one probe of card_unique_ord_per_note per listed card."""
    siblings = Card.objects.filter(note_id=OuterRef("note_id")).order_by().values("note_id")
    count = siblings.annotate(n=Count("*")).values("n")
    return {"note_kind": F("note__kind"), "note_cards": Subquery(count)}


@require_GET
def deck_detail(request, deck_id):
    """A page of the deck's cards (DECK_PAGE_CARDS), so a 20,000-card deck stays a small page."""
    deck = get_deck_for_user(request, deck_id)
    show = "missing" if request.GET.get("show") == "missing" else "all"
    card_count = deck.cards.count()
    needs_answer_count = deck.cards.needing_answer().count()
    cards = deck.cards.order_by("position", "pk").annotate(**_note_badge())
    if show == "missing":
        cards = cards.needing_answer()
    paginator = Paginator(cards, DECK_PAGE_CARDS)
    # The counts are known already: spare the paginator its own COUNT query.
    paginator.count = needs_answer_count if show == "missing" else card_count
    page = paginator.get_page(request.GET.get("page"))
    today = deck_counts.today(request.user, deck)
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
            "counts": today.counts,
            "new_limit": today.new_limit,
            "in_learning": deck_counts.in_learning(request.user).filter(deck=deck).count(),
        },
    )
