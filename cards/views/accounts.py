from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cards.forms import SignUpForm
from cards.models import StudySettings
from cards.security import claim_signup, signup_wait


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request):
    """New accounts: refused while SIGNUP_OPEN is off, and beyond SIGNUP_RATE per address."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    if not settings.SIGNUP_OPEN:
        status = 403 if request.method == "POST" else 200
        return render(request, "registration/signup.html", {"closed": True}, status=status)
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        # The quota is checked first, so an address over it gets the 429 whatever it sent; a
        # valid form then takes one of its slots.
        wait = signup_wait(request) or (form.is_valid() and claim_signup(request))
        if wait:
            return _throttled(request, wait)
        if form.is_valid():
            with transaction.atomic():
                user = form.save()
                # The browser's zone, so the study day turns over at the learner's own hour.
                StudySettings.objects.create(user=user, timezone=form.cleaned_data["timezone"])
            login(request, user, backend="cards.security.ModelBackend")
            messages.success(request, f"Welcome, {user.username}! Pick a deck to start studying.")
            return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


def _throttled(request, wait: int):
    context = {"retry_minutes": max(1, round(wait / 60))}
    response = render(request, "registration/signup.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
