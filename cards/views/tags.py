"""The tags of the user's cards (/cards/tags/): each with its number of cards, a link to the
browser's search for it, and rename and delete as plain forms."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cards.services.tags import TagError, delete_tag, rename_tag, tag_counts


def _search_url(tag: str) -> str:
    value = tag.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
    return reverse("card_browser") + "?" + urlencode({"q": f'tag:"{value}"'})


@require_GET
def tag_list(request):
    tags = [(tag, count, _search_url(tag)) for tag, count in tag_counts(request.user)]
    return render(request, "cards/tags.html", {"tags": tags})


@require_POST
def tag_rename(request):
    old, new = request.POST.get("tag", ""), request.POST.get("new", "")
    try:
        count = rename_tag(request.user, old, new)
    except TagError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Renamed {old} to {new.strip()} on {_cards(count)}.")
    return redirect("tag_list")


@require_POST
def tag_delete(request):
    tag = request.POST.get("tag", "")
    try:
        count = delete_tag(request.user, tag)
    except TagError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {tag} from {_cards(count)}.")
    return redirect("tag_list")


def _cards(count: int) -> str:
    return f"{count} card{'s' if count != 1 else ''}"
