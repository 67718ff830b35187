"""The study settings page, its FSRS parameters (reset, optimise) and the optimiser's status."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards.forms import DEFAULT_TIME_ZONE, StudySettingsForm
from cards.models import OptimizerRun
from cards.services.optimize import (
    OptimizerBusy,
    close_stale_runs,
    latest_run,
    reset_parameters,
    start_optimization,
)
from cards.services.settings import get_study_settings

PARAMETERS_FRAGMENT = "cards/_settings_parameters.html"


def _parameters_context(request, notice=""):
    settings = get_study_settings(request.user)
    run = latest_run(request.user)
    return {
        "parameters": list(enumerate(settings.fsrs_parameters)),
        "run": run,
        "running": run is not None and run.status == OptimizerRun.RUNNING,
        "notice": notice,
    }


def _parameters_response(request, notice):
    """htmx gets the parameters panel again; a plain form post goes back to the page."""
    if request.htmx:
        return render(request, PARAMETERS_FRAGMENT, _parameters_context(request, notice))
    messages.info(request, notice)
    return redirect("settings")


@require_http_methods(["GET", "POST"])
def settings_page(request):
    settings = get_study_settings(request.user)
    stored_zone = settings.timezone  # the form writes the typed values onto the instance
    data = request.POST if request.method == "POST" else None
    form = StudySettingsForm(data, instance=settings)
    saved = False
    if request.method == "POST" and form.is_valid():
        form.save()
        if not request.htmx:
            messages.success(request, "Your settings are saved.")
            return redirect("settings")
        saved, stored_zone = True, settings.timezone
    context = {
        "form": form,
        "saved": saved,
        # Still the default zone: sign-up had no JavaScript, or the browser named no zone.
        "zone_is_default": stored_zone == DEFAULT_TIME_ZONE,
        **_parameters_context(request),
    }
    if request.htmx and request.method == "POST":
        return render(request, "cards/_settings_form.html", context)
    return render(request, "cards/settings.html", context)


@require_POST
def reset_fsrs_parameters(request):
    reset_parameters(request.user)
    return _parameters_response(request, "The parameters are back to the FSRS-6 defaults.")


@require_POST
def optimize_start(request):
    try:
        start_optimization(request.user)
    except OptimizerBusy:
        return _parameters_response(request, "An optimisation is already running. Please wait.")
    return _parameters_response(request, "Optimising from your history…")


@require_GET
def optimize_status(request):
    """Polled by the parameters panel every 2 s while a fit runs."""
    if not request.htmx:
        return redirect("settings")
    close_stale_runs(request.user)
    return render(request, PARAMETERS_FRAGMENT, _parameters_context(request))
