"""Owners' deck pages: create, rename, delete, copy, and the cards that still need an answer.
Cards are edited in cards/views/cards_edit.py, files in cards/views/transfer.py."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cards.forms_authoring import DeckForm
from cards.models import Card, MemoryState
from cards.services.transfer import copy_deck
from cards.views.access import get_deck_for_editor, get_deck_for_user


@require_http_methods(["GET", "POST"])
def deck_create(request):
    form = DeckForm(request.POST or None, user=request.user)
    if form.is_valid():
        deck = form.save(commit=False)
        deck.owner = request.user
        deck.save()
        messages.success(request, f"Created the deck {deck.name}. Add its first card below.")
        return redirect("card_create", deck.pk)
    return render(request, "cards/deck_form.html", {"form": form, "deck": None})


@require_http_methods(["GET", "POST"])
def deck_edit(request, deck_id):
    deck = get_deck_for_editor(request, deck_id)
    form = DeckForm(request.POST or None, instance=deck, user=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, "Saved the deck.")
        return redirect(deck)
    return render(request, "cards/deck_form.html", {"form": form, "deck": deck})


@require_http_methods(["GET", "POST"])
def deck_delete(request, deck_id):
    deck = get_deck_for_editor(request, deck_id)
    if request.method == "POST":
        name = deck.name
        deck.delete()
        messages.success(request, f"Deleted the deck {name} and its cards.")
        return redirect("dashboard")
    learners = (
        MemoryState.objects.filter(deck=deck)
        .exclude(user=request.user)
        .aggregate(n=Count("user", distinct=True))["n"]
    )
    context = {"deck": deck, "card_count": deck.cards.count(), "learners": learners}
    return render(request, "cards/deck_confirm_delete.html", context)


@require_POST
def deck_copy(request, deck_id):
    deck = get_deck_for_user(request, deck_id)
    copy = copy_deck(deck, request.user)
    messages.success(request, f"Copied {deck.name} to your decks as {copy.name}.")
    return redirect(copy)


@require_http_methods(["GET"])
def needs_answer(request):
    cards = (
        Card.objects.needing_answer()
        .filter(deck__owner=request.user)
        .select_related("deck")
        .order_by("deck__name", "deck_id", "position", "pk")
    )
    return render(request, "cards/needs_answer.html", {"cards": cards, "can_edit": True})
