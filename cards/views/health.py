"""Database health: /healthz for the load balancer, and the 503 page people get while the
database cannot be reached (instead of a bare 500 from whichever middleware touched it first)."""

import sys

from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connection
from django.db import connections as db_connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# What the 503 page asks clients to wait before retrying, in seconds.
RETRY_AFTER_SECONDS = 30


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 once the database answers a round trip; 503 with the reason otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def database_reachable(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether a fresh connection to the database opens and answers: the request's own may be
    broken mid-transaction, so it is not the one asked."""
    probe = db_connections[alias].copy()
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False
    finally:
        probe.close()


def database_unavailable(exc: BaseException | None) -> bool:
    """A connection-level error while the database is really out of reach. An OperationalError
    from a query that a reachable database refused (a missing table, a timeout) stays a 500."""
    database = db_connections[DEFAULT_DB_ALIAS].Database
    connection_errors = (OperationalError, InterfaceError)
    connection_errors += (database.OperationalError, database.InterfaceError)
    return isinstance(exc, connection_errors) and not database_reachable()


def unavailable_response() -> HttpResponse:
    """The 503 page: rendered without the request, so it needs no session, user or database."""
    body = loader.get_template("503.html").render({})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500: Django's 500 page, or the 503 one when the database is what failed.

    Loading a logged-in user's session is what usually fails, before any view runs; /healthz
    still answers its JSON then.
    """
    exc = sys.exception()
    if not database_unavailable(exc):
        return defaults.server_error(request)
    if request.path_info == reverse("healthz"):
        response = JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
        add_never_cache_headers(response)
        return response
    return unavailable_response()
