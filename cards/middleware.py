"""The project's middleware: session idle timeout, request size limit, private caching.

Sessions end after SESSION_COOKIE_AGE seconds of inactivity (an idle timeout).
Django fixes a session's expiry when it is saved. This middleware saves a session that is in use
again once SESSION_REFRESH_SECONDS have passed since its last save, which pushes its expiry (and
the cookie's) SESSION_COOKIE_AGE ahead. Requests in between write nothing, so pages keep their
query counts; a session that nobody uses simply expires on the server.
"""

import time

from django.conf import settings
from django.utils.cache import patch_cache_control

TOUCHED_KEY = "_touched"


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session the request already loaded (so no extra query) and that holds data; not
        # on an error page, whose cause (the database being down) may be why it failed to load.
        if response.status_code >= 500:
            return response
        if session is None or not session.accessed or session.is_empty():
            return response
        now = int(time.time())
        touched = session.get(TOUCHED_KEY)
        if session.modified or touched is None:
            # Being saved anyway (a log-in, a message): stamp it for free. A session without a
            # stamp (made by the test client's force_login) waits for its next save.
            if session.modified:
                session[TOUCHED_KEY] = now
        elif now - touched >= settings.SESSION_REFRESH_SECONDS:
            session[TOUCHED_KEY] = now
        return response


class RequestSizeLimitMiddleware:
    """A body over REQUEST_MAX_BYTES gets a 413 page before anything reads it.

    Django streams file uploads to disk and the upload forms check IMPORT_MAX_BYTES only once the
    whole file has arrived; this stops a huge upload at its Content-Length. (A proxy's own limit,
    e.g. nginx's client_max_body_size, is still worth setting: it also covers chunked bodies.)
    The Anki package upload alone may send up to APKG_MAX_BYTES (plus the form around it).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            from django.shortcuts import render
            from django.template.defaultfilters import filesizeformat
            from django.urls import reverse

            file_limit, body_limit = settings.IMPORT_MAX_BYTES, settings.REQUEST_MAX_BYTES
            if request.path_info == reverse("apkg_import"):
                file_limit = settings.APKG_MAX_BYTES
                body_limit = max(body_limit, file_limit + 1024 * 1024)
            if length > body_limit:
                limit = filesizeformat(file_limit)
                return render(request, "413.html", {"limit": limit}, status=413)
        return self.get_response(request)


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in browser.

    A page made for one user (their decks, their data export) must stay out of shared caches
    and off the disk. "Logged in" is read from the session cookie, sent or being set, not from
    request.user: that costs no query and also covers pages that never look at the user. Static
    files (WhiteNoise's, under STATIC_URL) keep their long-lived public caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cookie = settings.SESSION_COOKIE_NAME
        if request.path.startswith(settings.STATIC_URL):
            return response
        # A public deck's image (cards/views/media.py) is the same for everyone: it keeps its
        # public, immutable caching even when a logged-in browser fetches it.
        if getattr(response, "shared_cacheable", False):
            return response
        if cookie in request.COOKIES or cookie in response.cookies:
            patch_cache_control(response, private=True, no_store=True)
        return response
