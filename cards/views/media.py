"""Card images: uploading one to a deck, and serving it to whoever may see the deck.

Serving goes through a view, not a public MEDIA_URL, because an image of a private deck is as
private as its cards: anyone else (or anyone logged out) gets the same 404 as for the deck.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET, require_http_methods

from cards.models import Deck, MediaFile
from cards.services.media import EXTENSIONS, MediaError, media_url, save_media
from cards.views.access import get_deck_for_editor


def _visible_decks(user):
    """Deck.objects.visible_to, which also answers for someone logged out (public decks)."""
    if not user.is_authenticated:
        return Deck.objects.filter(is_public=True)
    return Deck.objects.filter(Q(owner=user) | Q(is_public=True))


@login_not_required
@require_GET
def media_serve(request, deck_id, filename):
    """The image `<sha256>.<ext>` of a deck. Public decks' images are cacheable anywhere for
    MEDIA_PUBLIC_MAX_AGE and immutable (the name is the content's hash); private ones stay
    private and off shared caches."""
    sha256, _, extension = filename.partition(".")
    if len(sha256) != 64 or extension not in EXTENSIONS:
        raise Http404("No such image")
    media = get_object_or_404(
        MediaFile.objects.select_related("deck").filter(deck__in=_visible_decks(request.user)),
        deck_id=deck_id,
        sha256=sha256,
        extension=extension,
    )
    etag = f'"{media.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = _file_response(media)
    response["ETag"] = etag
    if media.deck.is_public:
        max_age = settings.MEDIA_PUBLIC_MAX_AGE
        response["Cache-Control"] = f"public, max-age={max_age}, immutable"
        response.shared_cacheable = True  # cards.middleware.PrivateCacheMiddleware keeps it
    else:
        response["Cache-Control"] = "private, no-store"
    return response


def _file_response(media: MediaFile) -> HttpResponse:
    mode = settings.MEDIA_SERVE_WITH
    if mode == "x-accel-redirect":
        response = HttpResponse(content_type=media.content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX + media.file.name
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=media.content_type)
        response["X-Sendfile"] = default_storage.path(media.file.name)
    else:
        try:
            handle = default_storage.open(media.file.name, "rb")
        except FileNotFoundError:
            raise Http404("The image's file is missing") from None
        response = FileResponse(handle, content_type=media.content_type)
        response["Content-Length"] = media.size
    response["Content-Type"] = media.content_type
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
def media_upload(request, deck_id):
    """POST an image (field `image`, optional `alt`) for a deck the user may edit. Answers JSON
    to the editor's script (Accept: application/json), else a page with the Markdown to copy;
    GET shows that page's form (the editor without JavaScript links here)."""
    deck = get_deck_for_editor(request, deck_id)
    wants_json = "application/json" in request.headers.get("Accept", "")
    context = {"deck": deck, "max_bytes": settings.MEDIA_MAX_BYTES}
    if request.method == "GET":
        return render(request, "cards/media_upload.html", context)
    upload = request.FILES.get("image")
    alt = " ".join(request.POST.get("alt", "").split())[:200]
    if upload is None:
        return _refused(request, context, wants_json, "Choose an image file to upload.")
    if upload.size > settings.MEDIA_MAX_BYTES:
        return _refused(request, context, wants_json, _too_big(upload))
    try:
        media, created = save_media(deck, request.user, upload.read(), upload.name)
    except MediaError as exc:
        return _refused(request, context, wants_json, f"{exc}. Nothing was stored.")
    url = media_url(media)
    alt = alt or (upload.name.rsplit(".", 1)[0] if upload.name else "image")
    markdown = f"![{_alt_markdown(alt)}]({url})"
    result = {"url": url, "markdown": markdown, "created": created, "name": upload.name,
              "width": media.width, "height": media.height}  # fmt: skip
    if wants_json:
        return JsonResponse(result, status=201 if created else 200)
    return render(request, "cards/media_upload.html", {**context, "result": result})


def _too_big(upload) -> str:
    return (
        f"{upload.name}: the file is {filesizeformat(upload.size)}; images may be at most "
        f"{filesizeformat(settings.MEDIA_MAX_BYTES)}. Nothing was stored."
    )


def _alt_markdown(alt: str) -> str:
    """Alt text safe inside `![...]`: brackets and backslashes escaped, so a file name like
    `a]b` cannot end the text early."""
    return "".join("\\" + ch if ch in "\\[]" else ch for ch in alt)


def _refused(request, context, wants_json, message: str):
    if wants_json:
        return JsonResponse({"error": message}, status=400)
    return render(request, "cards/media_upload.html", {**context, "error": message}, status=400)
