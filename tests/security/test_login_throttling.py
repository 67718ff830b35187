"""django-axes: a username and address pair is locked after AXES_FAILURE_LIMIT wrong passwords;
the page says so with a 429, and nobody else is locked out."""

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def _bad(client, username="alice", addr="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": "wrong"}, REMOTE_ADDR=addr)


def _good(client, username="alice", addr="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": PASSWORD}, REMOTE_ADDR=addr)


def test_it_locks_the_pair_after_the_failure_limit(client, owner, other):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _ in range(limit - 1):
        response = _bad(client)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.text
    # The Nth failure locks the pair, and so the N+1st bad password and any later try is a 429.
    assert _bad(client).status_code == 429
    response = _bad(client)
    assert response.status_code == 429
    assert "Too many log-in attempts" in response.text
    assert "Try again in 15 minutes" in response.text
    assert response["Retry-After"] == "900"
    assert "Content-Security-Policy" in response
    # Even the right password from that address is refused until the cool-off ends.
    assert _good(client).status_code == 429


def test_other_users_and_addresses_are_not_locked_out(client, owner, other):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _bad(client)
    assert _good(client, "bob").status_code == 302  # another user, same address
    client.logout()
    assert _good(client, "alice", addr="10.9.9.9").status_code == 302  # the user, elsewhere


def test_the_lock_ends_after_the_cool_off(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _bad(client)
    assert _good(client).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _good(client).status_code == 302


def test_a_success_resets_the_count(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _bad(client)
    assert _good(client).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _bad(client).status_code == 200


def test_the_admin_log_in_is_throttled_too(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/admin/login/", {"username": "carol", "password": "wrong"}, REMOTE_ADDR="10.0.0.2"
        )
    assert response.status_code == 429


def test_the_address_comes_from_the_trusted_proxy(rf, settings):
    from cards.security import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"  # no proxy configured: the header is ignored
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # the client cannot choose by prepending
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.5"  # fewer hops than proxies: fall back


def test_client_login_still_works_without_a_request(client, owner):
    assert client.login(username="alice", password=PASSWORD)
    assert not client.login(username="alice", password="wrong")


def test_a_garbled_forwarded_address_falls_back(rf, settings):
    from cards.security import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(request) == "10.0.0.5"
    request.META.pop("REMOTE_ADDR")
    request.META.pop("HTTP_X_FORWARDED_FOR")
    assert client_ip(request) is None
