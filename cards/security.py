"""Security glue: the authentication backends, the client address, the sign-up throttle, the CSRF
failure page.

See docs/security.md for the whole picture (throttling, sessions, CSP, production settings).
"""

import ipaddress
import re
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import backends
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render

from cards.services.sql_rows import user_with_settings


class AxesBackend(AxesStandaloneBackend):
    """django-axes' check, skipped when authenticate() is called without a request.

    Every log-in over HTTP passes the request (LoginView, the admin). Code that calls
    authenticate() directly (the test client's login(), scripts) has no address to throttle, and
    axes would raise instead of letting ModelBackend answer.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class ModelBackend(backends.ModelBackend):
    """Django's ModelBackend; the user of each request comes with their study settings.

    The study page and the review POST both need the settings: fetched with the user (a join
    on a one-to-one), they cost no query of their own (get_study_settings reads the cache).
    Every request reads this row, so it is one of the hand-written reads of
    cards.services.sql_rows (the same row as select_related("study_settings")).
    """

    def get_user(self, user_id):
        user = user_with_settings(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry the last trusted proxy appended.

    With TRUSTED_PROXY_COUNT=N, the Nth address from the right of X-Forwarded-For is the one the
    outermost trusted proxy saw; anything left of it was written by the client and is ignored.
    None when there is no address (the test client's force_login): axes then skips it.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str, name: str = "SIGNUP_RATE") -> tuple[int, int]:
    """'5/h' or '20/10m' -> (count, period in seconds)."""
    match = _RATE.match(rate)
    if not match or int(match[2] or 1) == 0:
        raise ImproperlyConfigured(
            f"{name}={rate!r}: write a count and a period, e.g. 5/h or 20/10m"
        )
    return int(match[1]), int(match[2] or 1) * _PERIOD_SECONDS[match[3]]


def _signup_slots(request) -> tuple[list[str], int]:
    """The cache keys of this address's SIGNUP_RATE slots in the current window, and the seconds
    until the window ends. IPv6 addresses count by /64, the block one subscriber usually gets."""
    limit, period = parse_rate(settings.SIGNUP_RATE)
    address = client_ip(request) or "unknown"
    if ":" in address:
        address = str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    now = time.time()
    window = int(now // period)
    keys = [f"signup:{address}:{period}:{window}:{slot}" for slot in range(limit)]
    return keys, max(1, int((window + 1) * period - now))


def signup_wait(request) -> int:
    """0 while the address has sign-ups left in this window, else the seconds to wait."""
    keys, wait = _signup_slots(request)
    return wait if not keys or caches["default"].get(keys[-1]) is not None else 0


def claim_signup(request) -> int:
    """Take one of the address's sign-up slots: 0 if one was free, else the seconds to wait.

    One cache key per slot, taken with add(): on the database cache that is an INSERT the primary
    key makes atomic, so concurrent requests on any worker or container never share a slot.
    (A counter would need an atomic incr, which only memcached and Redis have.)
    """
    keys, wait = _signup_slots(request)
    cache = caches["default"]
    for key in keys:
        if cache.add(key, 1, timeout=wait + 60):
            return 0
    return wait


def csrf_failure(request, reason=""):
    """A friendly 403 for a form that lost its CSRF token (an old tab, cookies blocked)."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def lockout_response(request, original_response=None, credentials=None):
    """The 429 page django-axes shows once a username and address have failed too often."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }
    response = render(request, "axes/lockout.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds())) if cool_off else "3600"
    return response
