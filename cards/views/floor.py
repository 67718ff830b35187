"""The framework's floor for the benchmark: the cheapest logged-in request that writes something.

The review loop is measured against it (bench/run.py): a POST here costs the middleware stack,
the session and user look-ups and one small write (the session row), nothing of our own.
Off unless BENCH=1 (settings.BENCH_FLOOR_ENABLED): a 404 everywhere else.
"""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def floor(request):
    if not settings.BENCH_FLOOR_ENABLED:
        raise Http404("The benchmark floor is off")
    if request.method == "POST":
        request.session["bench_floor"] = request.session.get("bench_floor", 0) + 1
        return HttpResponse("ok", content_type="text/plain")
    # GET hands the load tool a CSRF token for its POSTs.
    token = get_token(request)
    return HttpResponse(
        f'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        "</form>"
    )
