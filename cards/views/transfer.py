"""Files in and out: importing a deck from the web, a deck as CSV, and all of one's data as
JSON (cards/services/transfer.py holds the format)."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards.forms_authoring import DataImportForm, DeckImportForm
from cards.importers.errors import ImportFileError
from cards.importers.load import parse_deck_file, save_deck
from cards.services import transfer
from cards.views.access import get_deck_for_user


@require_http_methods(["GET", "POST"])
def deck_import(request):
    initial = {"deck": request.GET.get("deck")} if request.GET.get("deck", "").isdigit() else {}
    form = DeckImportForm(request.POST or None, request.FILES or None, user=request.user,
                          initial=initial)  # fmt: skip
    if form.is_valid():
        upload, deck = form.cleaned_data["file"], form.cleaned_data["deck"]
        try:
            parsed = parse_deck_file(upload.read(), upload.name)
            result = save_deck(
                parsed,
                owner=deck.owner if deck else request.user,
                name=form.cleaned_data["name"] or None,
                deck=deck,
            )
        except ImportFileError as exc:
            form.add_error("file", f"{upload.name}: {exc}; nothing was imported.")
        else:
            messages.success(request, f"Read {len(parsed.cards)} cards. {result.summary()}.")
            return redirect(result.deck)
    context = {"form": form, "max_size": settings.IMPORT_MAX_BYTES}
    return render(request, "cards/import.html", context)


@require_GET
def deck_export_csv(request, deck_id):
    deck = get_deck_for_user(request, deck_id)
    response = HttpResponse(transfer.deck_csv(deck), content_type="text/csv; charset=utf-8")
    filename = f"{slugify(deck.name) or 'deck'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def data_page(request):
    return render(request, "cards/data.html", {"form": DataImportForm()})


@require_GET
def data_export(request):
    response = HttpResponse(transfer.export_json(request.user), content_type="application/json")
    filename = f"studyapp-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def data_import(request):
    form = DataImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            summary = transfer.import_user_data(
                request.user, transfer.parse_user_data(upload.read())
            )
        except transfer.TransferError as exc:
            form.add_error("file", f"{upload.name}: {exc}. Nothing was imported.")
        else:
            messages.success(request, summary.message())
            return redirect("dashboard")
    return render(request, "cards/data.html", {"form": form})
