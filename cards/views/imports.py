"""The page of one import job: a progress bar that polls itself (htmx) while the task worker
writes, then the outcome and a link to the deck."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cards.models import ImportJob
from cards.services import imports


@require_GET
def import_job(request, job_id):
    # Another user's job is a 404; the upload itself is never read here.
    job = get_object_or_404(ImportJob.objects.defer("data").filter(user=request.user), pk=job_id)
    if imports.is_stale(job):
        imports.fail_stale_job(job)
        job.refresh_from_db()
    context = {"job": job, **imports.progress_figures(job)}
    template = "cards/_import_job.html" if request.htmx else "cards/import_job.html"
    return render(request, template, context)
