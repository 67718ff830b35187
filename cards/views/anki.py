"""Anki packages in and out (docs/anki.md): the upload page, which queues the import for the
task worker, and a deck's .apkg download."""

import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from cards.anki.export import ExportError, export_deck
from cards.forms_authoring import AnkiImportForm
from cards.services import imports
from cards.views.access import get_deck_for_user


@require_http_methods(["GET", "POST"])
def apkg_import(request):
    """The form checks size, name and zip; the worker reads the package and its outcome (or
    what is wrong with it) shows on the job page."""
    form = AnkiImportForm(request.POST or None, request.FILES or None, user=request.user)
    active_job = None
    if form.is_valid():
        try:
            job = imports.start_apkg_import(
                request.user,
                upload=form.cleaned_data["file"],
                public=form.cleaned_data.get("public", False),
                site=form.cleaned_data.get("site", False),
            )
        except imports.JobBusy as exc:
            form.add_error(None, "You already have an import running; wait until it has finished.")
            active_job = exc.job
        else:
            return redirect(job)
    context = {"form": form, "active_job": active_job, "max_size": settings.APKG_MAX_BYTES}
    return render(request, "cards/import_apkg.html", context)


@require_POST
def deck_export_apkg(request, deck_id):
    """The deck as an Anki deck package; `history=1` adds the user's own reviews and
    schedules. A POST: the export gives notes without one an Anki GUID (stored, so that a
    later export or re-import keeps each note's identity), and a GET never writes. Written to
    a temporary file, then streamed from it: a big deck is never one bytes object in memory."""
    deck = get_deck_for_user(request, deck_id)
    with_history = request.POST.get("history") == "1"
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it once sent
    try:
        export_deck(deck, request.user, out, with_history=with_history)
        out.seek(0)
    except ExportError as exc:
        out.close()
        messages.error(request, f"The deck could not be exported for Anki: {exc}")
        return redirect(deck)
    except BaseException:
        out.close()
        raise
    slug = slugify(deck.name.replace("::", " ")) or "deck"
    name = f"{slug}-with-history.apkg" if with_history else f"{slug}.apkg"
    # FileResponse closes (and so removes) the temporary file once it is sent.
    return FileResponse(
        out, as_attachment=True, filename=name, content_type="application/octet-stream"
    )
