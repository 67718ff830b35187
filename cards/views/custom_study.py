"""Custom study (issue 15, item 4): the form that raises today's limits or starts a session,
and the session's own study page, rated and undone like the study page (views/study.py) and
drawn with the same card template.

Without JavaScript every mode is its own plain form; the session page works as the study page
does (reveal is a GET, ratings and undo are POSTs that redirect back). The undo steps of a
session live in the browser's session: an answer that reschedules nothing leaves no review
log to undo from.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards import validators as v
from cards.models import CustomStudySession
from cards.scheduling import rating_choices
from cards.services import custom_study as cs
from cards.services import custom_study_session as session_service
from cards.services.reviews import (
    InvalidReview,
    StaleReview,
    preview_intervals,
)
from cards.services.settings import get_study_settings
from cards.views.access import get_deck_for_user
from cards.views.study import (
    STALE_NOTICE,
    ReviewForm,
    _leech_notice,
    card_context,
    rating_buttons,
)

UNDO_KEY = "custom_study_undo"
MAX_UNDO = 20
# What a rating does in a session that reschedules nothing (Anki's preview delays).
PREVIEW_INTERVALS = {1: "1m", 2: "10m", 3: "done", 4: "done"}
MODES = [
    (cs.NEW_LIMIT, "Raise today's new-card limit"),
    (cs.REVIEW_LIMIT, "Raise today's review limit"),
    *CustomStudySession.MODES,
]


class CustomStudyForm(forms.Form):
    """One mode and its number (days, cards or the limit's increase), a tag for cram."""

    mode = forms.ChoiceField(
        choices=MODES, error_messages={"invalid_choice": "Choose one of the custom study modes."}
    )
    amount = forms.IntegerField(
        required=False, error_messages={"invalid": "Give a whole number."}
    )  # fmt: skip
    tag = forms.CharField(required=False, max_length=100, strip=True)

    RANGES = {
        cs.NEW_LIMIT: (v.LIMIT_BOOST_RANGE, "New cards"),
        cs.REVIEW_LIMIT: (v.LIMIT_BOOST_RANGE, "Reviews"),
        cs.FORGOT: (v.CUSTOM_STUDY_DAYS_RANGE, "Days"),
        cs.AHEAD: (v.CUSTOM_STUDY_DAYS_RANGE, "Days"),
        cs.PREVIEW: (v.CUSTOM_STUDY_DAYS_RANGE, "Days"),
        cs.CRAM: (v.CUSTOM_STUDY_CARDS_RANGE, "Cards"),
    }

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        if mode is None:
            return data
        amount = data.get("amount")
        if amount is None and "amount" not in self.errors:
            amount = data["amount"] = cs.DEFAULTS[mode]
        (low, high), what = self.RANGES[mode]
        if amount is not None and not low <= amount <= high:
            self.add_error("amount", f"{what}: give a whole number from {low} to {high}.")
        return data


def mode_rows(values: dict | None = None) -> list[dict]:
    """Each mode's form on the page: its label, its number's label, range and value, and
    whether it reschedules."""
    values = values or {}
    labels = {
        cs.NEW_LIMIT: "Increase today's new-card limit by",
        cs.REVIEW_LIMIT: "Increase today's review limit by",
        cs.FORGOT: "Cards answered Again in the last … days",
        cs.AHEAD: "Cards due in the next … days",
        cs.PREVIEW: "New cards added in the last … days",
        cs.CRAM: "At most … cards, in random order",
    }
    effects = {
        cs.NEW_LIMIT: "Today only: more new cards in the usual queue.",
        cs.REVIEW_LIMIT: "Today only: more reviews in the usual queue.",
        cs.FORGOT: "Does not reschedule: your ratings leave the cards' schedules as they are.",
        cs.AHEAD: "Reschedules: each rating counts as a review, as on the study page.",
        cs.PREVIEW: "Does not reschedule: the cards stay new.",
        cs.CRAM: "Does not reschedule: your ratings leave the cards' schedules as they are.",
    }
    rows = []
    for mode, title in MODES:
        (low, high), _ = CustomStudyForm.RANGES[mode]
        rows.append({
            "mode": mode, "title": title, "label": labels[mode], "effect": effects[mode],
            "min": low, "max": high, "value": values.get(mode, cs.DEFAULTS[mode]),
            "reschedules": cs.RESCHEDULES.get(mode),
        })  # fmt: skip
    return rows


def _study_url(deck) -> str:
    return reverse("study_deck", args=[deck.pk]) if deck is not None else reverse("study_all")


@require_http_methods(["GET", "POST"])
def custom_study_form(request, deck_id=None):
    """GET: the modes; POST: raise a limit (back to studying) or start a session."""
    deck = get_deck_for_user(request, deck_id) if deck_id is not None else None
    form = CustomStudyForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                return _carry_out(request, deck, form.cleaned_data)
            except cs.CustomStudyError as exc:
                error = str(exc)
        else:
            error = " ".join(e for errors in form.errors.values() for e in errors)
    posted = form.data.get("mode")
    values = {posted: form.data.get("amount")} if posted else {}
    context = {
        "deck": deck,
        "rows": mode_rows(values),
        "error": error,
        "error_mode": posted if error else None,
        "tag": form.data.get("tag", ""),
        "session": session_service.current_session(request.user),
        "form_url": request.path,
        "study_url": _study_url(deck),
    }
    return render(request, "cards/custom_study.html", context, status=400 if error else 200)


def _carry_out(request, deck, data):
    mode, amount = data["mode"], data["amount"]
    if mode in (cs.NEW_LIMIT, cs.REVIEW_LIMIT):
        new, reviews = (amount, 0) if mode == cs.NEW_LIMIT else (0, amount)
        cs.raise_limits(request.user, new=new, reviews=reviews)
        what = "new-card" if mode == cs.NEW_LIMIT else "review"
        messages.success(request, f"Today's {what} limit is raised by {amount}.")
        return redirect(_study_url(deck))
    options = {"limit": amount} if mode == cs.CRAM else {"days": amount}
    session = cs.start_session(request.user, mode, deck, tag=data.get("tag", ""), **options)
    request.session.pop(UNDO_KEY, None)
    messages.success(
        request,
        f"{session.get_mode_display()}: {session.total} card{'s' if session.total != 1 else ''}.",
    )
    return redirect("custom_study_session")


# -- the session's study page -----------------------------------------------------------------


_URLS = {
    "study_url": "custom_study_session",
    "review_url": "custom_study_review",
    "undo_url": "custom_study_undo",
}


def _buttons(user, session, current, scale: str):
    if session.reschedule:
        return rating_buttons(preview_intervals(user, current.card, current.memory), scale)
    choices = [
        (rating, label, PREVIEW_INTERVALS[int(grade)])
        for rating, label, grade in rating_choices(scale)
    ]
    return rating_buttons(choices, scale)


def _render(request, queue, current, *, revealed=False, notice="", announcement=""):
    """The session page, or for htmx the card with counters and progress out of band: the
    study page's templates and context keys."""
    user, session = request.user, queue.session
    settings = get_study_settings(user)
    context = card_context(
        user, queue, current, settings, revealed=revealed, notice=notice,
        announcement=announcement, finished="Custom study session finished.",
    )  # fmt: skip
    context.update(
        session=session,
        can_undo=bool(request.session.get(UNDO_KEY)),
        limits=settings,
        **{name: reverse(url) for name, url in _URLS.items()},
    )
    if current is not None:
        context["buttons"] = _buttons(user, session, current, settings.rating_scale)
    else:
        context["next_due"] = queue.next_due_at()
    page = "cards/_custom_study_update.html" if request.htmx else "cards/custom_study_session.html"
    return render(request, page, context)


def _no_session(request):
    messages.info(request, session_service.NO_SESSION)
    return redirect("custom_study_all")


def _pinned(queue, card_id):
    """The card named by a reveal link or an undo, if it is still in the session."""
    if not str(card_id or "").isdigit() or int(card_id) not in session_service.session_card_ids(
        queue.session
    ):
        return None
    return queue.show(int(card_id))


@require_GET
def session_page(request):
    session = session_service.current_session(request.user)
    if session is None:
        return _no_session(request)
    queue = session_service.SessionQueue(request.user, session)
    current = _pinned(queue, request.GET.get("card")) or queue.next_card()
    return _render(request, queue, current, revealed=request.GET.get("reveal") == "1")


def _bad_request(message: str):
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@require_POST
def session_review(request):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _bad_request(" ".join(e for errors in form.errors.values() for e in errors))
    data = form.cleaned_data
    notice = ""
    try:
        answered = session_service.answer(
            request.user, data["token"], data["rating"], data["duration_ms"]
        )
    except StaleReview:
        notice = STALE_NOTICE
    except InvalidReview as error:
        if request.htmx:
            return _bad_request(str(error))
        messages.error(request, str(error))
        return redirect("custom_study_session")
    else:
        if answered.result is not None and getattr(answered.result, "leeched", False):
            notice = _leech_notice(answered.result.memory)
        if answered.undo is not None:
            steps = request.session.get(UNDO_KEY, [])[-(MAX_UNDO - 1) :]
            request.session[UNDO_KEY] = [*steps, answered.undo]
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        return redirect("custom_study_session")
    session = session_service.current_session(request.user)
    if session is None:
        return _bad_request(session_service.NO_SESSION)
    queue = session_service.SessionQueue(request.user, session)
    return _render(request, queue, queue.next_card(), notice=notice)


@require_POST
def session_undo(request):
    steps = request.session.get(UNDO_KEY, [])
    card_id, notice = None, ""
    if not steps:
        notice = "There is nothing to undo in this session."
    else:
        try:
            card_id = session_service.undo(request.user, steps[-1])
        except InvalidReview as error:
            notice = str(error)
        request.session[UNDO_KEY] = steps[:-1]
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        url = reverse("custom_study_session")
        return redirect(f"{url}?card={card_id}" if card_id else url)
    session = session_service.current_session(request.user)
    if session is None:
        return _bad_request(session_service.NO_SESSION)
    queue = session_service.SessionQueue(request.user, session)
    current = _pinned(queue, card_id) or queue.next_card()
    announcement = notice
    if current is not None and card_id:
        announcement = f"Rating undone. Back to: {current.card.question[:150]}"
    return _render(request, queue, current, notice=notice, announcement=announcement)


@require_POST
def session_end(request):
    session = session_service.current_session(request.user)
    deck = session.deck if session is not None else None
    session_service.end_session(request.user)
    request.session.pop(UNDO_KEY, None)
    messages.info(request, "Custom study session ended.")
    return redirect(_study_url(deck))
