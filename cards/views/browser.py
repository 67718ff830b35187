"""The card browser (/cards/): Anki's search language over every card the user may see.

One view serves the page and, for htmx (the live search and the sort and page links), the
results fragment; a malformed query shows where it is wrong, with status 200 so htmx swaps it
in like any result.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cards.forms_browser import BULK_LIMIT, BulkActionForm
from cards.models import CardTrash, Deck
from cards.search import SearchError, parse
from cards.search.browse import DEFAULT_SORT, SORTS, page_of
from cards.search.compiler import Context, compile_node, scans_text, visible_cards
from cards.services import card_bulk, card_marks, card_trash


@require_GET
def card_browser(request):
    query = request.GET.get("q", "")
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    direction = request.GET.get("dir", SORTS[sort][1])
    if direction not in ("asc", "desc"):
        direction = SORTS[sort][1]
    context = {
        "query": query,
        "sort": sort,
        "dir": direction,
        "columns": _columns(query, sort, direction),
    }
    try:
        node = parse(query)
    except SearchError as error:
        context["error"] = error
        context["error_parts"] = error.parts(query)
    else:
        ctx = Context.of(request.user, timezone.now())
        cards = visible_cards(request.user)
        if node is not None:
            cards = cards.filter(compile_node(node, ctx))
        after = request.GET.get("after") or None
        one_pass = scans_text(node)
        context["page"] = page_of(cards, ctx, sort, direction == "desc", after, one_pass)
        cursor = context["page"].next_cursor
        if cursor:
            context["next_href"] = "?" + urlencode(
                {"q": query, "sort": sort, "dir": direction, "after": cursor}
            )
    fragment = request.htmx and not request.htmx.history_restore_request
    if not fragment:
        context["form"] = BulkActionForm(decks=_own_decks(request.user))
    template = "cards/_browser_results.html" if fragment else "cards/browser.html"
    return render(request, template, context)


# The table's columns: (label, sort name or None, CSS class).
COLUMNS = [
    ("Question", "question", "text"), ("Answer", None, "text"), ("Deck", "deck", "text"),
    ("Tags", None, "text"), ("Due", "due", "date"), ("Interval", "interval", "num"),
    ("S", "stability", "num"), ("D", "difficulty", "num"), ("R", "retrievability", "num"),
    ("Lapses", "lapses", "num"), ("Reviews", "reviews", "num"), ("Added", "added", "date"),
    ("Edited", "edited", "date"),
]  # fmt: skip


def _columns(query: str, sort: str, direction: str) -> list[dict]:
    """Each column's header: a link that sorts by it (again: the other way round)."""
    columns = []
    for label, name, kind in COLUMNS:
        column = {"label": label, "kind": kind, "sorted": None, "href": None}
        if name is not None:
            current = name == sort
            following = SORTS[name][1]
            if current:
                following = "asc" if direction == "desc" else "desc"
                column["sorted"] = "ascending" if direction == "asc" else "descending"
            column["href"] = "?" + urlencode({"q": query, "sort": name, "dir": following})
        columns.append(column)
    return columns


def _own_decks(user):
    return Deck.objects.filter(owner=user).order_by("name", "pk")


@require_POST
def card_browser_action(request):
    """A bulk action on the ticked cards or on every card the search finds; then back to the
    same search with a message saying how many cards changed."""
    form = BulkActionForm(request.POST, decks=_own_decks(request.user))
    back = reverse("card_browser") + "?" + urlencode({"q": request.POST.get("q", "")})
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        messages.error(request, "Nothing changed: " + " ".join(problems))
        return redirect(back)
    data = form.cleaned_data
    try:
        ids = _chosen_ids(request.user, data)
        result = _run(request.user, data, ids)
    except (SearchError, card_bulk.BulkError, ValueError) as error:
        messages.error(request, f"Nothing changed: {getattr(error, 'message', error)}")
        return redirect(back)
    label = dict(form.fields["action"].choices)[data["action"]]
    verb = "deleted" if data["action"] == "delete" else "changed"
    text = f"{label}: {result.changed} card{'s' if result.changed != 1 else ''} {verb}."
    if result.skipped:
        text += f" {result.skipped} left as they were (not yours to change, or no change due)."
    if data["action"] == "delete" and result.changed:
        text += " Undo puts them back."
    messages.success(request, text)
    return redirect(back)


def _chosen_ids(user, data) -> list[int]:
    if data["scope"] == "selected":
        return data["ids"]
    node = parse(data.get("q") or "")
    cards = visible_cards(user)
    if node is not None:
        cards = cards.filter(compile_node(node, Context.of(user, timezone.now())))
    ids = list(cards.order_by("pk").values_list("pk", flat=True)[: BULK_LIMIT + 1])
    if len(ids) > BULK_LIMIT:
        raise card_bulk.BulkError(f"the search finds more than {BULK_LIMIT} cards; narrow it")
    return ids


def _run(user, data, ids) -> card_bulk.Result:
    action = data["action"]
    if action in ("suspend", "unsuspend", "bury"):
        changed = getattr(card_marks, action)(user, ids)
        return card_bulk.Result(changed, len(ids) - changed)
    if action == "flag":
        changed = card_marks.flag(user, ids, data["flag"])
        return card_bulk.Result(changed, len(ids) - changed)
    if action in ("add_tags", "remove_tags"):
        return getattr(card_bulk, action)(user, ids, data["tags"])
    if action == "move":
        return card_bulk.move(user, ids, data["deck"])
    if action == "forget":
        return card_bulk.forget(user, ids, reset_counts=data["reset_counts"])
    if action == "set_due":
        return card_bulk.set_due(user, ids, data["due"])
    return card_bulk.delete(user, ids)


UNDOABLE = {"suspend", "unsuspend", "bury", "flag", "forget", "set_due", "tag_add", "tag_remove",
            "move"}  # fmt: skip
NOTHING_TO_UNDO = (
    "There is no suspend, bury, flag, tag change, move, forget, due date or delete to undo."
)


@require_POST
def card_browser_undo(request):
    """Undo the learner's last suspend, unsuspend, bury, flag, tag change, move, forget, set
    due date or delete (one undo record per call, so a bulk action comes back whole, as Anki's
    undo does; one whose cards were studied or changed since is refused, and nothing changes).
    With `trash` (a delete's id), that delete of the user's; another user's is a 404."""
    back = reverse("card_browser") + "?" + urlencode({"q": request.POST.get("q", "")})
    if request.POST.get("trash"):
        trash = get_object_or_404(
            CardTrash.objects.defer("rows"), pk=_int_or_404(request.POST["trash"]),
            user=request.user,
        )  # fmt: skip
        return _restore(request, trash, back)
    action = card_marks.last_action(request.user)
    if action is not None and action.kind not in UNDOABLE:
        action = None
    trash = card_trash.latest(request.user)
    if trash is not None and (action is None or trash.created_at >= action.created_at):
        return _restore(request, trash, back)
    if action is None:
        messages.error(request, NOTHING_TO_UNDO)
        return redirect(back)
    try:
        card_marks.undo_action(action)
    except card_marks.UndoError as error:
        messages.error(request, str(error))
        return redirect(back)
    before = action.before
    count = len(before.get("marks") or before.get("schedule") or before.get("tags") or
                before.get("deck") or {})  # fmt: skip
    plural = "s" if count != 1 else ""
    messages.success(request, f"Undid {action.get_kind_display().lower()}: {count} card{plural}.")
    return redirect(back)


def _restore(request, trash, back):
    try:
        count = card_trash.restore(trash)
    except card_trash.TrashError as error:
        messages.error(request, str(error))
        return redirect(back)
    plural = "s" if count != 1 else ""
    messages.success(request, f"Undid delete: {count} card{plural} restored.")
    return redirect(back)


def _int_or_404(text: str) -> int:
    if not text.isdigit():
        raise Http404("No such delete to undo.")
    return int(text)
