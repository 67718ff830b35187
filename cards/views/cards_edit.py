"""Adding, editing and deleting cards, and editing an answer in place on the deck page (htmx).
Editing content never touches anyone's memory state: schedules carry on as they were.

New cards come from the note editor (forms_notes.NoteForm: Basic, reversed, optional reversed,
cloze); a card of a reversed or cloze note is edited through its note, whose cards all follow
(services/notes.update_note: cards added or removed as the text asks, history kept)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_http_methods

from cards.forms_authoring import AnswerForm, CardForm
from cards.forms_notes import NoteForm
from cards.limits import LimitError, check_limits
from cards.models import Card, NoteKind
from cards.services.notes import NoteError, create_note, update_note
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
    """A new note of any kind, with its cards (the note editor). A POST without a kind is the
    older question-and-answer form, still taken as a Basic card."""
    deck = get_deck_for_editor(request, deck_id)
    if request.method == "POST" and "kind" not in request.POST:
        return _card_create_basic(request, deck)
    form = NoteForm(request.POST or None)
    if _previewing(request, form):
        return _note_page(request, form, deck, None)
    if form.is_valid() and _within_limits(form, deck, len(form.cards)):
        try:
            note = create_note(deck, form.cleaned_data["kind"], form.note_fields(),
                               form.cleaned_data["tags"])  # fmt: skip
        except NoteError as exc:
            form.add_note_error(exc)
        else:
            count = len(form.cards)
            messages.success(request, f"Added the note: {count} card{pluralize(count)}.")
            if "another" in request.POST:
                return redirect("card_create", deck.pk)
            return _back_to(note.cards.order_by("ord").first())
    return _note_page(request, form, deck, None)


def _card_create_basic(request, deck):
    form = CardForm(request.POST)
    if form.is_valid() and _within_limits(form, deck):
        card = form.save(commit=False)
        card.deck, card.position = deck, next_position(deck)
        card.save()
        messages.success(request, "Added the card.")
        if "another" in request.POST:
            return redirect("card_create", deck.pk)
        return _back_to(card)
    return render(request, "cards/card_form.html", {"form": form, "deck": deck, "card": None})


def _within_limits(form, deck, count: int = 1) -> bool:
    if count <= 0:
        return True
    try:
        check_limits(deck.owner, new_cards_by_deck={deck: count})
    except LimitError as exc:
        what = "card was" if count == 1 else "cards were"
        form.add_error(None, f"The {what} not added: {exc}.")
        return False
    return True


def _previewing(request, form) -> bool:
    """The Preview button (no JavaScript) or the live preview (htmx): show, never save."""
    return request.method == "POST" and "preview" in request.POST


def _note_page(request, form, deck, card):
    """The note editor, or only its preview for htmx: each card's question and answer, or
    the errors, as the note would make them (services/notes.generate, nothing saved)."""
    previewing = _previewing(request, form)
    cards = []
    if previewing and form.is_valid():
        cards = [(ord_ + 1, generated) for ord_, generated in sorted(form.cards.items())]
    context = {"form": form, "deck": deck, "card": card, "previewing": previewing,
               "preview_cards": cards}  # fmt: skip
    if previewing and request.htmx:
        return render(request, "cards/_note_preview.html", context)
    return render(request, "cards/note_form.html", context)


def _edit_note(request, card):
    """Edit the note of a reversed or cloze card: all its cards follow (services/notes)."""
    note = card.note
    form = NoteForm(request.POST or None, note=note)
    if _previewing(request, form):
        return _note_page(request, form, card.deck, card)
    if form.is_valid():
        existing = set(note.cards.values_list("ord", flat=True))
        if _within_limits(form, card.deck, len(set(form.cards) - existing)):
            try:
                change = update_note(note, form.note_fields(), form.cleaned_data["tags"])
            except NoteError as exc:
                form.add_note_error(exc)
            else:
                messages.success(request, _change_message(change))
                first = note.cards.order_by("ord").first()
                return _back_to(first) if first else redirect(card.deck)
    return _note_page(request, form, card.deck, card)


def _change_message(change) -> str:
    parts = []
    if change.added:
        parts.append(f"{len(change.added)} card{pluralize(len(change.added))} added")
    if change.removed:
        n = len(change.removed)
        parts.append(f"{n} card{pluralize(n)} removed with {'its' if n == 1 else 'their'} history")
    return "Saved the note" + (f": {', '.join(parts)}." if parts else ".")


@require_http_methods(["GET", "POST"])
def card_edit(request, card_id):
    card = get_card_for_editor(request, card_id)
    if card.note_id is not None and card.note.kind != NoteKind.BASIC:
        return _edit_note(request, card)
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
