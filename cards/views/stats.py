import json

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cards.models import Deck
from cards.services.settings import get_study_settings
from cards.services.stats import build_stats
from cards.views.access import get_deck_for_user


@require_GET
def stats(request):
    """The statistics page, for every deck or the one chosen in ?deck=; htmx gets the body."""
    deck = None
    deck_id = request.GET.get("deck", "")
    if deck_id:
        if not deck_id.isdigit():
            raise Http404("No such deck")
        deck = get_deck_for_user(request, deck_id)
    data = build_stats(request.user, get_study_settings(request.user), deck=deck)
    chart_data = data.chart_data()
    context = {
        "stats": data,
        "chart_data": chart_data,
        "chart_json": json.dumps(chart_data),
        "heatmap": data.heatmap(),
        "deck": deck,
        "decks": Deck.objects.visible_to(request.user).order_by("name", "id").values("id", "name"),
    }
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "cards/_stats_body.html" if fragment else "cards/stats.html"
    return render(request, template, context)
