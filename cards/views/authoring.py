"""Owners' deck pages: create, rename, delete, copy, and the cards that still need an answer.
Cards are edited in cards/views/cards_edit.py, files in cards/views/transfer.py."""

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cards.forms_authoring import DeckForm
from cards.limits import LimitError, check_limits
from cards.models import Card, MemoryState
from cards.services import imports
from cards.services.deletion import delete_deck
from cards.views.access import get_deck_for_editor, get_deck_for_user


@require_http_methods(["GET", "POST"])
def deck_create(request):
    form = DeckForm(request.POST or None, user=request.user)
    if form.is_valid() and _within_limits(request, form=form, new_decks=1):
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
        # Batch by batch: one DELETE of a big deck would hold SQLite's write lock for seconds.
        delete_deck(deck)
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
    """A small deck is copied at once; a bigger one by the task worker, in batches, while a
    job page shows the progress."""
    deck = get_deck_for_user(request, deck_id)
    count = deck.cards.count()
    if not _within_limits(request, new_decks=1, new_cards_by_deck={"copy": count}):
        return redirect(deck)
    if count > settings.IMPORT_BATCH_CARDS:
        try:
            return redirect(imports.start_deck_copy(request.user, deck, total=count))
        except imports.JobBusy as exc:
            messages.error(request, f"Not copied: {exc}.")
            return redirect(exc.job or deck)
    copy = imports.copy_deck(deck, request.user, total=count)
    messages.success(request, f"Copied {deck.name} to your decks as {copy.name}.")
    return redirect(copy)


def _within_limits(request, form=None, **new) -> bool:
    """check_limits for the user; a refusal becomes a form error (or a message) naming it."""
    try:
        check_limits(request.user, **new)
    except LimitError as exc:
        text = f"Nothing was created: {exc}."
        if form is None:
            messages.error(request, text)
        else:
            form.add_error(None, text)
        return False
    return True


@require_http_methods(["GET"])
def needs_answer(request):
    cards = (
        Card.objects.needing_answer()
        .filter(deck__owner=request.user)
        .select_related("deck")
        .order_by("deck__name", "deck_id", "position", "pk")
    )
    return render(request, "cards/needs_answer.html", {"cards": cards, "can_edit": True})
