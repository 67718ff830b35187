"""Files in and out: importing a deck from the web, a deck as CSV, and all of one's data as
JSON (cards/services/transfer.py holds the format)."""

import csv

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards.forms_authoring import DataImportForm, DeckImportForm
from cards.importers import csvnotes
from cards.importers.errors import ImportFileError
from cards.importers.load import check_import_limits, deck_name, parse_deck_file
from cards.limits import LimitError
from cards.models import NoteKind
from cards.services import imports, media_transfer, transfer
from cards.views.access import get_deck_for_user


@require_http_methods(["GET", "POST"])
def deck_import(request):
    """Check the whole file here (bad lines and limits answer at once, nothing written), then
    queue the writing for the task worker and show the job's progress page."""
    initial = {"deck": request.GET.get("deck")} if request.GET.get("deck", "").isdigit() else {}
    form = DeckImportForm(request.POST or None, request.FILES or None, user=request.user,
                          initial=initial)  # fmt: skip
    if form.is_valid():
        upload, deck = form.cleaned_data["file"], form.cleaned_data["deck"]
        data = upload.read()
        try:
            # A zip carries the CSV and its images (services/media_transfer.py).
            text, text_name, images = media_transfer.open_deck_file(data, upload.name)
            media_transfer.check_quota(request.user, images)
            parsed = parse_deck_file(text, text_name)
            name = deck_name(parsed, form.cleaned_data["name"] or None)
            owner = deck.owner if deck else request.user
            check_import_limits(parsed, owner=owner, name=name, deck=deck)
            job = imports.start_deck_import(
                request.user,
                data=data,
                filename=upload.name,
                deck=deck,
                name=name,
                total=len(parsed.cards),
            )
        except (ImportFileError, LimitError, transfer.TransferError) as exc:
            form.add_error("file", f"{upload.name}: {exc}; nothing was imported.")
        except imports.JobBusy as exc:
            return _busy(request, "cards/import.html", _import_context(form), exc.job)
        else:
            return redirect(job)
    return render(request, "cards/import.html", _import_context(form))


def _busy(request, template: str, context: dict, job):
    """The upload page again, saying that the user's earlier import is still running."""
    context["form"].add_error(
        None, "You already have an import running; wait until it has finished."
    )
    return render(request, template, {**context, "active_job": job})


def _import_context(form) -> dict:
    return {
        "form": form,
        "max_size": settings.IMPORT_MAX_BYTES,
        "max_cards": settings.IMPORT_MAX_CARDS,
        "deck_max_cards": settings.DECK_MAX_CARDS,
    }


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields rows as text."""

    def write(self, value):
        return value


def _csv_rows(deck):
    """question,answer,id,tags; a deck with reversed or cloze notes adds the note columns
    (cards/importers/csvnotes.py) so that its notes import back as they are."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    if not deck.notes.exclude(kind=NoteKind.BASIC).exists():
        yield writer.writerow(["question", "answer", "id", "tags"])
        cards = deck.cards.order_by("position", "pk").values_list(
            "question", "answer", "external_id", "tags"
        )
        for row in cards.iterator(chunk_size=2000):
            yield writer.writerow(row)
        return
    yield writer.writerow(csvnotes.EXPORT_HEADER)
    cards = deck.cards.order_by("position", "pk").values_list(
        "question", "answer", "external_id", "tags", "note_id", "note__kind", "ord",
        "note__fields",
    )  # fmt: skip
    keys = {}
    for row in cards.iterator(chunk_size=2000):
        yield writer.writerow(csvnotes.csv_note_row(*row, keys))


@require_GET
def deck_export_csv(request, deck_id):
    """Streamed row by row (the CSV that the import reads back): a big deck is never one
    string in memory."""
    deck = get_deck_for_user(request, deck_id)
    response = StreamingHttpResponse(_csv_rows(deck), content_type="text/csv; charset=utf-8")
    filename = f"{slugify(deck.name) or 'deck'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def deck_export_zip(request, deck_id):
    """The CSV with the deck's images, as a zip (offered when the deck has images)."""
    deck = get_deck_for_user(request, deck_id)
    slug = slugify(deck.name) or "deck"
    data = media_transfer.deck_zip(deck, f"{slug}.csv", _csv_rows(deck))
    return _zip_response(data, f"{slug}.zip")


@require_GET
def data_export_zip(request):
    """The JSON data file with the images of one's decks, as a zip."""
    data = media_transfer.user_zip(request.user, transfer.export_json_chunks(request.user))
    return _zip_response(data, f"studyapp-data-{timezone.now():%Y-%m-%d}.zip")


def _zip_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def data_page(request):
    has_media = media_transfer.user_has_media(request.user)
    return render(request, "cards/data.html", {"form": DataImportForm(), "has_media": has_media})


@require_GET
def data_export(request):
    """Streamed: a big collection is never one string in memory (nor one slow response body)."""
    chunks = transfer.export_json_chunks(request.user)
    response = StreamingHttpResponse(chunks, content_type="application/json")
    filename = f"studyapp-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def data_import(request):
    """Check the whole file here (a bad field is named at once, nothing written), then queue
    the writing for the task worker and show the job's progress page."""
    form = DataImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            text, images = media_transfer.open_user_data(data)
            media_transfer.check_quota(request.user, images)
            rows = transfer.check_user_data(request.user, transfer.parse_user_data(text))
            job = imports.start_user_data_import(
                request.user, data=data, filename=upload.name, total=rows
            )
        except transfer.TransferError as exc:
            form.add_error("file", f"{upload.name}: {exc}. Nothing was imported.")
        except imports.JobBusy as exc:
            return _busy(request, "cards/data.html", {"form": form}, exc.job)
        else:
            return redirect(job)
    return render(request, "cards/data.html", {"form": form})
