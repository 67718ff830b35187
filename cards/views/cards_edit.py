"""Adding, editing and deleting cards, and editing an answer in place on the deck page (htmx).
Editing content never touches anyone's memory state: schedules carry on as they were."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cards.forms_authoring import AnswerForm, CardForm
from cards.limits import LimitError, check_limits
from cards.models import Card
from cards.services.transfer import next_position
from cards.views.access import get_card_for_user, get_deck_for_editor


def get_card_for_editor(request, card_id) -> Card:
    """A card of a deck the user may change; anything else is a 404."""
    card = get_card_for_user(request, card_id)
    if not card.deck.can_edit(request.user):
        raise Http404("You cannot edit this card")
    return card


def _back_to(card):
    return redirect(f"{card.deck.get_absolute_url()}#card-{card.pk}")


@require_http_methods(["GET", "POST"])
def card_create(request, deck_id):
    deck = get_deck_for_editor(request, deck_id)
    form = CardForm(request.POST or None)
    if form.is_valid() and _within_limits(form, deck):
        card = form.save(commit=False)
        card.deck, card.position = deck, next_position(deck)
        card.save()
        messages.success(request, "Added the card.")
        if "another" in request.POST:
            return redirect("card_create", deck.pk)
        return _back_to(card)
    return render(request, "cards/card_form.html", {"form": form, "deck": deck, "card": None})


def _within_limits(form, deck) -> bool:
    try:
        check_limits(deck.owner, new_cards_by_deck={deck: 1})
    except LimitError as exc:
        form.add_error(None, f"The card was not added: {exc}.")
        return False
    return True


@require_http_methods(["GET", "POST"])
def card_edit(request, card_id):
    card = get_card_for_editor(request, card_id)
    form = CardForm(request.POST or None, instance=card)
    if form.is_valid():
        form.save()
        messages.success(request, "Saved the card.")
        return _back_to(card)
    return render(request, "cards/card_form.html", {"form": form, "deck": card.deck, "card": card})


@require_http_methods(["GET", "POST"])
def card_delete(request, card_id):
    card = get_card_for_editor(request, card_id)
    if request.method == "POST":
        deck = card.deck
        card.delete()
        messages.success(request, "Deleted the card.")
        return redirect(deck)
    return render(request, "cards/card_confirm_delete.html", {"card": card, "deck": card.deck})


@require_http_methods(["GET", "POST"])
def card_answer(request, card_id):
    """In-place answer editing: GET gives the textarea, POST saves and gives the card back."""
    card = get_card_for_editor(request, card_id)
    form = AnswerForm(request.POST or None, instance=card)
    if form.is_valid():
        form.save()
        if request.htmx:
            return render(request, "cards/_card_item.html", {"card": card, "can_edit": True})
        messages.success(request, "Saved the answer.")
        return _back_to(card)
    template = "cards/_answer_form.html" if request.htmx else "cards/card_answer.html"
    return render(request, template, {"card": card, "form": form, "deck": card.deck})


@require_GET
def card_item(request, card_id):
    """One card as the deck page shows it (Cancel of the in-place editor)."""
    card = get_card_for_user(request, card_id)
    if not request.htmx:
        return _back_to(card)
    context = {"card": card, "can_edit": card.deck.can_edit(request.user)}
    return render(request, "cards/_card_item.html", context)
