"""Response headers (issue 13, item 9): `Cache-Control: private, no-store` on every response to a
logged-in user, a Permissions-Policy and the CSP on every response, the HTTPS redirect included.

test_url_walk.py checks the same on every route of the project; this module covers the kinds of
response a walk does not reach: downloads, errors answered by middleware, static files.
"""

import pytest
from django.test import Client

from cards.models import Card, Deck
from tests.security.checks import assert_csp, assert_permissions_policy, assert_private

PAGES = [
    "/",
    "/study/",
    "/stats/",
    "/settings/",
    "/cards/",
    "/needs-answer/",
    "/decks/new/",
    "/decks/import/",
    "/account/data/",
    "/account/data/export.json",
    "/healthz",
    "/accounts/password_change/",
    "/no/such/page/",
    "/study/review/",  # 405
    "/admin/",
]


@pytest.fixture
def deck(owner):
    deck = Deck.objects.create(owner=owner, name="Mine")
    Card.objects.create(deck=deck, question="Q", answer="A")
    return deck


def _assert_policies(response):
    assert_csp(response)
    assert_permissions_policy(response)


@pytest.mark.parametrize("url", PAGES)
def test_every_response_to_a_logged_in_user_is_private(owner_client, url):
    response = owner_client.get(url)
    assert response.status_code in (200, 302, 404, 405), url
    assert_private(response)
    _assert_policies(response)


def test_the_deck_pages_and_the_csv_download_are_private(owner_client, deck):
    for url in (f"/decks/{deck.pk}/", f"/decks/{deck.pk}/study/", f"/decks/{deck.pk}/export.csv"):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert_private(response)
        _assert_policies(response)


def test_the_data_export_is_private(owner_client, deck):
    response = owner_client.get("/account/data/export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert_private(response)


def test_a_post_and_its_redirect_are_private(owner_client):
    response = owner_client.post("/decks/new/", {"name": "New deck", "description": ""})
    assert response.status_code == 302
    assert_private(response)
    _assert_policies(response)


def test_the_log_in_response_is_private(client, owner):
    from tests.conftest import PASSWORD

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert_private(response)  # it sets the session cookie


def test_an_oversized_upload_refused_by_middleware_is_private(owner_client, settings):
    response = owner_client.post(
        "/decks/import/",
        b"x",
        content_type="text/csv",
        CONTENT_LENGTH=settings.REQUEST_MAX_BYTES + 1,
    )
    assert response.status_code == 413
    assert_private(response)
    _assert_policies(response)


def test_the_csrf_failure_page_carries_the_policies(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/decks/new/", {"name": "x"})
    assert response.status_code == 403
    assert_private(response)
    _assert_policies(response)


def test_anonymous_public_pages_carry_the_policies(client, db):
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password_reset/", "/healthz"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_policies(response)
    # A stranger's redirect to log in, too.
    response = client.get("/study/")
    assert response.status_code == 302
    _assert_policies(response)


def test_the_permissions_policy_denies_every_powerful_feature(client, db):
    header = client.get("/accounts/login/")["Permissions-Policy"]
    directives = dict(part.strip().split("=", 1) for part in header.split(","))
    assert directives["camera"] == directives["microphone"] == "()"
    assert all(value == "()" for value in directives.values()), header


def test_static_files_stay_cacheable_for_a_logged_in_user(owner_client, settings):
    for secure in (False, True):
        response = owner_client.get("/static/css/app.css", secure=secure)
        assert response.status_code == 200
        cache_control = response.get("Cache-Control", "")
        assert "no-store" not in cache_control and "private" not in cache_control
        assert "max-age" in cache_control


def test_the_https_redirect_carries_the_policies(client, owner, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    _assert_policies(response)
    client.force_login(owner)
    response = client.get("/study/")
    assert response.status_code == 301
    _assert_policies(response)
    assert_private(response)
