"""The study page: one card at a time, revealed in place, rated, undone.

Every view serves the full page and, for htmx, the card fragment with the counters and the
progress bar swapped out of band. Without JavaScript, reveal is a GET form (?reveal=1) and a
rating is a plain POST that redirects back to the page.
"""

import time
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.models.scheduling import FLAG_CHOICES
from cards.scheduling import Grade, to_grade
from cards.services import card_marks, rating_gate
from cards.services.queue import NextCard, StudyQueue, kind_of
from cards.services.reviews import (
    InvalidReview,
    StaleReview,
    issue_review_token,
    preview_intervals,
    record_review,
    undo_last_review,
)
from cards.services.settings import get_study_settings
from cards.views.access import get_deck_for_user

STALE_NOTICE = "This card was already answered in another tab. Here is the next one."
# Set in the session by a card action (views/study_actions.py): the page then offers Undo
# even before the day's first review, without a query for it on every page.
UNDO_KEY = "study_undo"
FLAGS = FLAG_CHOICES[1:]
# Longer than this is a break, not thinking time; it would only skew the statistics.
MAX_DURATION_MS = 60 * 60 * 1000


class ReviewForm(forms.Form):
    token = forms.CharField(
        max_length=1000, error_messages={"required": "The review token is missing."}
    )
    rating = forms.IntegerField(
        min_value=1,
        max_value=5,
        error_messages={
            "required": "Choose a rating from 1 to 5.",
            "invalid": "The rating must be a whole number from 1 to 5.",
            "min_value": "The rating must be a whole number from 1 to 5.",
            "max_value": "The rating must be a whole number from 1 to 5.",
        },
    )
    duration_ms = forms.IntegerField(required=False, min_value=0)
    shown = forms.IntegerField(required=False, min_value=0)

    def clean(self):
        data = super().clean()
        duration = data.get("duration_ms")
        if duration is None and data.get("shown"):
            # No JavaScript: time from when the server rendered the question.
            duration = int(time.time() * 1000) - data["shown"]
        data["duration_ms"] = min(max(duration or 0, 0), MAX_DURATION_MS)
        return data


@dataclass(frozen=True)
class RatingButton:
    """One answer button, its texts ready: the template prints them as they are."""

    value: str  # the rating, as sent
    big: str  # the large text: the number (1-5 scale) or the name (Again…Easy)
    small: str  # the small text under it: the name, or the key to press
    interval: str  # when the card comes back after this answer
    aria_label: str
    forgotten: bool = False  # scheduled as a lapse (Again), whatever the button says


def rating_buttons(choices, scale: str) -> list[RatingButton]:
    """The answer buttons for preview_intervals' (rating, label, interval) choices."""
    buttons = []
    for rating, label, interval in choices:
        value = str(rating)
        big, small = (label, value) if scale == "four" else (value, label or "\u00a0")
        forgotten = to_grade(rating, scale) is Grade.AGAIN
        # On the 1-5 scale "2" is a lapse like "1", which its words alone do not say.
        note = " (counts as forgotten)" if forgotten and rating > 1 else ""
        spoken = f"{value} {label}".strip() + note
        aria = f"{spoken}: next in {interval}"
        buttons.append(RatingButton(value, big, small, interval, aria, forgotten))
    return buttons


def _deck(request, deck_id) -> Deck | None:
    return get_deck_for_user(request, deck_id) if deck_id is not None else None


def _urls(deck) -> dict:
    if deck is None:
        return {name: reverse(f"study_all{suffix}") for name, suffix in _URL_NAMES}
    return {name: reverse(f"study_deck{suffix}", args=[deck.pk]) for name, suffix in _URL_NAMES}


_URL_NAMES = [("study_url", ""), ("review_url", "_review"), ("undo_url", "_undo")]
_ACTIONS = ("edit", "info", "suspend", "bury", "bury_note", "flag")


def _action_urls(deck, card) -> dict:
    """The card actions' URLs for the card shown (views/study_actions.py)."""
    if deck is None:
        return {name: reverse(f"study_all_{name}", args=[card.pk]) for name in _ACTIONS}
    return {name: reverse(f"study_deck_{name}", args=[deck.pk, card.pk]) for name in _ACTIONS}


def _leech_notice(memory) -> str:
    suspended = " and suspended" if memory.suspended else ""
    return f"This card is a leech ({memory.lapses} lapses): it was tagged leech{suspended}."


def _pinned_card(request, deck, card_id, queue=None) -> NextCard | None:
    """A given studyable card the user may see (reveal links and undo name one), if it may be
    rated now: due today, or in the custom study session (services/rating_gate.py). `queue`,
    when given, already knows the study day."""
    if not str(card_id or "").isdigit():
        return None
    cards = Card.objects.studyable().filter(deck__in=Deck.objects.visible_to(request.user))
    if deck is not None:
        cards = cards.filter(deck=deck)
    card = cards.select_related("deck").filter(pk=card_id).first()
    if card is None:
        return None
    memory = MemoryState.objects.filter(user=request.user, card=card).first()
    today = rating_gate.Today.of_queue(queue) if queue else rating_gate.Today(request.user)
    if not rating_gate.may_rate(request.user, card, memory, today):
        return None
    return NextCard(card, memory, kind_of(memory))


def _render(request, queue, current, *, revealed=False, notice="", announcement=""):
    """The full page, or for htmx the card with counters and progress out of band."""
    user, deck = request.user, queue.deck
    settings = get_study_settings(user)
    context = card_context(
        user, queue, current, settings, revealed=revealed, notice=notice,
        announcement=announcement, finished="All done for now.",
    )  # fmt: skip
    context["can_undo"] = queue.studied > 0 or request.session.get(UNDO_KEY, False)
    context.update(_urls(deck))
    if current is not None:
        choices = preview_intervals(user, current.card, current.memory)
        context["buttons"] = rating_buttons(choices, settings.rating_scale)
        context["actions"] = _action_urls(deck, current.card)
        context["can_edit"] = current.card.deck.can_edit(user)
        context["flags"] = FLAGS
        context["flag"] = current.memory.flag if current.memory else 0
        context["flag_name"] = card_marks.FLAG_NAMES[context["flag"]]
    else:
        context.update(_finished_context(request, queue, settings))
    template = "cards/_study_update.html" if request.htmx else "cards/study.html"
    return render(request, template, context)


def card_context(user, queue, current, settings, *, revealed, notice, announcement, finished):
    """What every study page (a deck, all decks, a custom study session) shows of its queue
    and of the card: counters, progress, the card with its review token, the announcement
    (`finished` when there is no card). Each page adds its URLs, buttons and actions."""
    counts = queue.counts()
    context = {
        "deck": queue.deck,
        "current": current,
        "revealed": revealed,
        "notice": notice,
        "counts": counts,
        "studied": queue.studied,
        "progress_total": queue.studied + counts.total,
        "scale": settings.rating_scale,
        "shown_ms": int(time.time() * 1000),
        "announcement": announcement or finished,
    }
    if current is not None:
        card = current.card
        context["token"] = issue_review_token(user, card, current.memory)
        # Code highlighting's 7.7 KB of CSS comes with the card that needs it (study.html).
        context["code_styles"] = "<pre" in card.question_html or "<pre" in card.answer_html
        context["announcement"] = announcement or f"Next card: {card.question[:150]}"
    return context


def _finished_context(request, queue, settings) -> dict:
    """What the finished view says: when the next card falls due, or why there is none."""
    deck = queue.deck
    next_due = queue.next_due_at()
    context = {
        "next_due": next_due,
        "next_day": queue.today.end,
        "limits": settings,
    }
    if queue.studied == 0 and next_due is None:
        cards = Card.objects.all() if deck is None else deck.cards.all()
        if deck is None:
            cards = cards.filter(deck__in=Deck.objects.visible_to(request.user))
        context["nothing_studyable"] = not cards.studyable().exists()
        context["needs_answer_count"] = deck.cards.needing_answer().count() if deck else 0
    return context


@require_GET
def study(request, deck_id=None):
    deck = _deck(request, deck_id)
    queue = StudyQueue(request.user, deck)
    current = _pinned_card(request, deck, request.GET.get("card"), queue) or queue.next_card()
    return _render(request, queue, current, revealed=request.GET.get("reveal") == "1")


@require_POST
def review(request, deck_id=None):
    deck = _deck(request, deck_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    notice = ""
    try:
        result = record_review(
            request.user, data["token"], data["rating"], data["duration_ms"],
            gate=rating_gate.gate(request.user),
        )  # fmt: skip
        if result.leeched:
            notice = _leech_notice(result.memory)
    except StaleReview:
        notice = STALE_NOTICE
    except rating_gate.NotDue as error:
        if not request.htmx:  # without JavaScript: the message, on the study page
            messages.error(request, str(error))
            return redirect(_urls(deck)["study_url"])
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    except InvalidReview as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        return redirect(_urls(deck)["study_url"])
    queue = StudyQueue(request.user, deck)
    response = _render(request, queue, queue.next_card(), notice=notice)
    return trigger_client_event(response, "cardReviewed")


@dataclass(frozen=True)
class _Undone:
    card_id: int | None
    notice: str = ""  # why nothing (or not all) was undone
    what: str = ""  # what was undone, for the announcement
    reveal: bool = False


def _undo_newest(user, deck) -> _Undone:
    """Undo the newest of the last review and the last card action (Anki undoes both)."""
    action = card_marks.last_action(user, deck)
    if action is not None:
        logs = ReviewLog.objects.filter(user=user)
        logs = logs.filter(deck=deck) if deck is not None else logs
        last_review = logs.order_by("-reviewed_at", "-pk").values_list("reviewed_at")[:1]
        if not last_review or last_review[0][0] <= action.created_at:
            try:
                card_marks.undo_action(action)
            except card_marks.UndoError as error:
                return _Undone(action.card_id, notice=str(error))
            what = f"{action.get_kind_display()} undone"
            return _Undone(action.card_id, what=what, reveal=action.kind == action.EDIT)
    log = undo_last_review(user, deck)
    if log is None:
        return _Undone(None, notice="There is nothing to undo.")
    return _Undone(log.card_id, what="Rating undone")


@require_POST
def undo(request, deck_id=None):
    deck = _deck(request, deck_id)
    undone = _undo_newest(request.user, deck)
    if undone.card_id is None:
        request.session.pop(UNDO_KEY, None)
    study_url = _urls(deck)["study_url"]
    if not request.htmx:
        if undone.notice:
            messages.info(request, undone.notice)
        if undone.card_id is None:
            return redirect(study_url)
        reveal = "&reveal=1" if undone.reveal else ""
        return redirect(f"{study_url}?card={undone.card_id}{reveal}")
    queue = StudyQueue(request.user, deck)
    current = _pinned_card(request, deck, undone.card_id) if undone.card_id else None
    current = current or queue.next_card()
    announcement = undone.notice
    if current and undone.what:
        announcement = f"{undone.what}. Back to: {current.card.question[:150]}"
    return _render(
        request, queue, current, revealed=undone.reveal, notice=undone.notice,
        announcement=announcement,
    )  # fmt: skip
