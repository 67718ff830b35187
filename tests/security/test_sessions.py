"""Sessions: a new key at log-in, dead on the server after log-out, and an idle timeout."""

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from cards.middleware import TOUCHED_KEY
from tests.conftest import PASSWORD

COOKIE = settings.SESSION_COOKIE_NAME


def _log_in(client):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    return client.cookies[COOKIE].value


def test_the_session_key_changes_at_log_in(client, owner):
    anonymous = SessionStore()
    anonymous["visited"] = True
    anonymous.create()
    client.cookies[COOKIE] = anonymous.session_key

    key = _log_in(client)

    assert key != anonymous.session_key
    assert not Session.objects.filter(session_key=anonymous.session_key).exists()
    assert client.get("/").status_code == 200


def test_the_old_cookie_is_refused_after_log_out(client, owner):
    key = _log_in(client)
    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()

    replay = Client()
    replay.cookies[COOKIE] = key
    response = replay.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_log_out_refuses_get(owner_client):
    assert owner_client.get("/accounts/logout/").status_code == 405


def test_cookies_are_httponly_and_secure_in_production(client, owner):
    _log_in(client)
    cookie = client.cookies[COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"


def test_an_idle_session_expires(client, owner):
    key = _log_in(client)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_session_in_use_is_extended_at_most_every_refresh_interval(client, owner):
    key = _log_in(client)
    first = Session.objects.get(session_key=key)
    assert TOUCHED_KEY in first.get_decoded()

    # Within the interval nothing is written.
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == first.expire_date

    # Later, the next request pushes the expiry SESSION_COOKIE_AGE ahead of now.
    session = SessionStore(session_key=key)
    session[TOUCHED_KEY] = int(time.time()) - settings.SESSION_REFRESH_SECONDS - 1
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(hours=1))
    client.get("/")
    expiry = Session.objects.get(session_key=key).expire_date
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((expiry - expected).total_seconds()) < 60


def test_a_forced_log_in_adds_no_session_write(owner_client, owner, django_assert_num_queries):
    # Other views' query counts rely on this: the middleware writes nothing for a fresh session.
    # Expect 3 queries: session, user, the dashboard's decks
    with django_assert_num_queries(3):
        owner_client.get("/")
