"""Sign-up is throttled per client address (SIGNUP_RATE) and can be closed (SIGNUP_OPEN)
(issue 13, item 7: 20 accounts in 7.9 s from one address)."""

import threading
import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, RequestFactory

from cards import security
from tests.security.checks import assert_csp, assert_permissions_policy

User = get_user_model()
GOOD_PASSWORD = "a-long-unusual-passphrase-71"


def sign_up(client, username, password=GOOD_PASSWORD, **extra):
    data = {"username": username, "password1": password, "password2": password}
    return client.post("/accounts/signup/", data, **extra)


def fresh_client(address="203.0.113.7"):
    return Client(REMOTE_ADDR=address)


def test_the_sixth_account_in_an_hour_from_one_address_is_refused(db):
    for n in range(5):
        assert sign_up(fresh_client(), f"user{n}").status_code == 302, n
    response = sign_up(fresh_client(), "user5")
    assert response.status_code == 429
    assert "Too many new accounts" in response.text
    assert 0 < int(response["Retry-After"]) <= 3600
    assert_csp(response)
    assert_permissions_policy(response)
    assert not User.objects.filter(username="user5").exists()
    assert User.objects.count() == 5


def test_a_burst_of_twenty_creates_five_accounts(db):
    statuses = [sign_up(fresh_client(), f"bot{n}").status_code for n in range(20)]
    assert statuses == [302] * 5 + [429] * 15
    assert User.objects.filter(username__startswith="bot").count() == 5


def test_over_the_limit_even_an_invalid_form_gets_the_429(db, settings):
    settings.SIGNUP_RATE = "1/h"
    assert sign_up(fresh_client(), "first").status_code == 302
    assert sign_up(fresh_client(), "first", password="x").status_code == 429


def test_other_addresses_are_not_affected(db, settings):
    settings.SIGNUP_RATE = "1/h"
    assert sign_up(fresh_client("203.0.113.7"), "a").status_code == 302
    assert sign_up(fresh_client("203.0.113.7"), "b").status_code == 429
    assert sign_up(fresh_client("198.51.100.9"), "c").status_code == 302


def test_ipv6_addresses_count_by_their_64_block(db, settings):
    settings.SIGNUP_RATE = "1/h"
    assert sign_up(fresh_client("2001:db8:1:2::1"), "a").status_code == 302
    assert sign_up(fresh_client("2001:db8:1:2:ffff::9"), "b").status_code == 429
    assert sign_up(fresh_client("2001:db8:1:3::1"), "c").status_code == 302


def test_behind_a_proxy_the_forwarded_address_counts_and_spoofing_it_does_not_help(db, settings):
    settings.SIGNUP_RATE = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = fresh_client("10.0.0.2")
    assert sign_up(proxy, "a", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 302
    # The client writes a fresh address on the left each time; the proxy's entry is the same.
    spoofed = "198.51.100.1, 203.0.113.7"
    assert sign_up(fresh_client("10.0.0.2"), "b", HTTP_X_FORWARDED_FOR=spoofed).status_code == 429
    other = fresh_client("10.0.0.2")
    assert sign_up(other, "c", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 302


def test_failed_sign_ups_do_not_use_the_quota(db, settings):
    settings.SIGNUP_RATE = "1/h"
    for _ in range(3):
        assert sign_up(fresh_client(), "weak", password="password").status_code == 200
    assert sign_up(fresh_client(), "strong").status_code == 302


def test_the_address_may_sign_up_again_in_the_next_window(db, settings):
    settings.SIGNUP_RATE = "1/h"
    hour_start = (int(time.time()) // 3600 + 1) * 3600  # the throttle's own clock, not the cache's
    with mock.patch("cards.security.time") as clock:
        clock.time.return_value = hour_start + 10
        assert sign_up(fresh_client(), "a").status_code == 302
        response = sign_up(fresh_client(), "b")
        assert response.status_code == 429
        assert response["Retry-After"] == str(3600 - 10)
        clock.time.return_value = hour_start + 3600
        assert sign_up(fresh_client(), "b").status_code == 302


def test_the_rate_is_configurable_and_checked(db, settings):
    settings.SIGNUP_RATE = "2/10m"
    assert security.parse_rate("2/10m") == (2, 600)
    statuses = [sign_up(fresh_client(), f"u{n}").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    for bad in ("five", "5", "5/0h", "5/w"):
        with pytest.raises(ImproperlyConfigured, match="SIGNUP_RATE"):
            security.parse_rate(bad)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_ups_never_share_a_slot(settings):
    """Claims race on separate connections, as gunicorn workers would: exactly 5 succeed."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a database file")
    request = RequestFactory().post("/accounts/signup/", REMOTE_ADDR="203.0.113.50")
    results, start = [], threading.Barrier(12)

    def claim():
        start.wait()
        try:
            results.append(security.claim_signup(request))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    caches["default"].clear()  # the cache table is not a model: the test flush leaves it
    assert len(results) == 12
    assert results.count(0) == 5  # the other 7 got a wait in seconds


def test_a_closed_sign_up_says_so_and_refuses_the_post(db, settings):
    settings.SIGNUP_OPEN = False
    client = fresh_client()
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "Sign-up is closed" in response.text
    assert "password1" not in response.text
    response = sign_up(client, "newcomer")
    assert response.status_code == 403
    assert "Sign-up is closed" in response.text
    assert not User.objects.filter(username="newcomer").exists()


def test_the_log_in_page_hides_the_sign_up_link_while_closed(client, db, settings):
    assert 'href="/accounts/signup/"' in client.get("/accounts/login/").text
    settings.SIGNUP_OPEN = False
    assert 'href="/accounts/signup/"' not in client.get("/accounts/login/").text
