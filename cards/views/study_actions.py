"""Card actions while studying, with Anki's reviewer keys: edit (E), card info (I), suspend (@),
bury (-), bury the note (=), flag (Ctrl+1…7). Z undoes each (views/study.py undo, the newest of
the last review and the last action).

Each action is a plain POST form that redirects back to the study page without JavaScript, and
for htmx returns the study card fragment (as rating does) with an announcement. The marks are
the learner's own (cards/services/card_marks.py): suspending a public deck's card hides it from
this learner only.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards.forms_authoring import CardForm
from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import Grade, Scheduler, State, format_interval
from cards.services import card_marks
from cards.services.queue import StudyQueue
from cards.services.reviews import card_state
from cards.services.settings import get_study_settings, policy_for
from cards.views.study import UNDO_KEY, _deck, _pinned_card, _render, _urls

# Card info lists at most this many reviews, newest first: enough for any card's story.
HISTORY_LIMIT = 200


class FlagForm(forms.Form):
    flag = forms.TypedChoiceField(
        coerce=int,
        choices=[(value, name) for value, name in card_marks.FLAG_NAMES.items()],
        error_messages={
            "required": "Choose a flag colour (0 removes the flag).",
            "invalid_choice": "The flag must be a whole number from 0 to 7.",
        },
    )


def _card(request, deck, card_id) -> Card:
    """A card the learner may see (in `deck` when studying one deck); else a 404."""
    decks = Deck.objects.visible_to(request.user)
    cards = Card.objects.select_related("deck").filter(deck__in=decks)
    if deck is not None:
        cards = cards.filter(deck=deck)
    return get_object_or_404(cards, pk=card_id)


def _back(request, deck, card=None, *, reveal=False):
    """Without JavaScript: back to the study page, on `card` if given."""
    url = _urls(deck)["study_url"]
    if card is not None:
        url += f"?card={card.pk}" + ("&reveal=1" if reveal else "")
    return redirect(url)


def _done(request, deck, text: str, card=None, *, reveal=False):
    """After an action: the study card again (`card`, or the next in the queue) for htmx, a
    redirect with a message otherwise. `text` is said to screen readers and shown."""
    request.session[UNDO_KEY] = True
    if not request.htmx:
        messages.success(request, text)
        return _back(request, deck, card, reveal=reveal)
    queue = StudyQueue(request.user, deck)
    current = _pinned_card(request, deck, card.pk) if card is not None else None
    current = current or queue.next_card()
    return _render(request, queue, current, revealed=reveal, announcement=text)


@require_POST
def suspend(request, card_id, deck_id=None):
    deck = _deck(request, deck_id)
    card = _card(request, deck, card_id)
    card_marks.suspend(request.user, [card])
    return _done(request, deck, "Card suspended. Press Z to undo.")


@require_POST
def bury(request, card_id, deck_id=None):
    deck = _deck(request, deck_id)
    card = _card(request, deck, card_id)
    card_marks.bury(request.user, [card])
    return _done(request, deck, "Card buried until tomorrow. Press Z to undo.")


@require_POST
def bury_note(request, card_id, deck_id=None):
    """Anki's Bury Note (=): the card and its siblings, until tomorrow; Z unburies them all."""
    deck = _deck(request, deck_id)
    card = _card(request, deck, card_id)
    cards = Card.objects.filter(note_id=card.note_id) if card.note_id is not None else [card]
    count = card_marks.bury(request.user, cards)
    what = "Card" if count <= 1 else f"Note ({count} cards)"
    return _done(request, deck, f"{what} buried until tomorrow. Press Z to undo.")


@require_POST
def flag(request, card_id, deck_id=None):
    deck = _deck(request, deck_id)
    card = _card(request, deck, card_id)
    form = FlagForm(request.POST)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    card_marks.flag(request.user, [card], form.cleaned_data["flag"])
    colour = MemoryState.objects.filter(user=request.user, card=card).values_list("flag")[0][0]
    text = f"Flag: {card_marks.FLAG_NAMES[colour].lower()}." if colour else "Flag removed."
    reveal = request.POST.get("reveal") == "1"
    return _done(request, deck, text, card, reveal=reveal)


@require_http_methods(["GET", "POST"])
def edit(request, card_id, deck_id=None):
    """Edit the card in place (owner or staff, as Deck.can_edit), then back to it revealed."""
    deck = _deck(request, deck_id)
    card = _card(request, deck, card_id)
    if not card.deck.can_edit(request.user):
        raise Http404("You cannot edit this card")
    before = {name: getattr(card, name) for name in card_marks.EDITED}
    form = CardForm(request.POST or None, instance=card)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            card_marks.record_edit(request.user, card, before)
        return _done(request, deck, "Card saved. Press Z to undo the edit.", card, reveal=True)
    context = {"form": form, "card": card, "deck": deck, **_urls(deck)}
    context["edit_url"] = request.path
    template = "cards/_study_edit.html" if request.htmx else "cards/study_edit.html"
    return render(request, template, context)


@require_GET
def info(request, card_id, deck_id=None):
    """Card info (Anki's I): the learner's history of this card, its memory now, its marks."""
    deck = _deck(request, deck_id)
    card = _card(request, deck, card_id)
    settings = get_study_settings(request.user)
    memory = MemoryState.objects.filter(user=request.user, card=card).first()
    logs = ReviewLog.objects.filter(user=request.user, card=card).order_by("-reviewed_at", "-pk")
    now = timezone.now()
    retrievability = None
    if memory is not None and memory.state != State.NEW:
        retrievability = Scheduler(policy_for(settings)).retrievability(card_state(memory), now)
    context = {
        "card": card,
        "deck": deck,
        "memory": memory,
        "flag_name": card_marks.FLAG_NAMES[memory.flag if memory else 0],
        "state_name": memory.get_state_display() if memory else "New",
        "retrievability": retrievability,
        "history": [_history_row(log) for log in logs[:HISTORY_LIMIT]],
        "history_limit": HISTORY_LIMIT,
        "timezone": settings.timezone,
        "buried": memory is not None and memory.buried_until and memory.buried_until > now,
        **_urls(deck),
    }
    template = "cards/_study_info.html" if request.htmx else "cards/study_info.html"
    return render(request, template, context)


def _history_row(log: ReviewLog) -> dict:
    grade = Grade(log.grade).name.title()
    rating = grade if log.rating_scale == "four" else f"{log.rating} ({grade})"
    interval = log.due_after - log.reviewed_at if log.due_after else None
    return {
        "when": log.reviewed_at,
        "rating": rating,
        "lapse": log.grade == Grade.AGAIN,
        "interval": format_interval(max(interval, timedelta(0))) if interval else "",
        "stability": log.stability_after,
        "difficulty": log.difficulty_after,
    }
