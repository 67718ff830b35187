"""CSRF on the real flows: the htmx review POST (token in the X-CSRFToken header, as base.html's
hx-headers sends it) and the forms (token in the hidden field). The URL walk checks the refusal
on every route; these show the accepted path does what it should."""

import re

import pytest
from django.test import Client

from cards.models import Card, Deck, ReviewLog
from cards.services.reviews import issue_review_token

CSRF_PAGE = "Please try that again"


@pytest.fixture
def csrf_client(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


@pytest.fixture
def card(owner):
    deck = Deck.objects.create(owner=owner, name="Mine")
    return Card.objects.create(deck=deck, question="q", answer="a")


def _page_token(client, url):
    """The token as a page gives it: hx-headers on <body> and the hidden form field agree."""
    html = client.get(url).text
    header = re.search(r'hx-headers=\'\{"x-csrftoken": "([^"]+)"\}\'', html)[1]
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    assert header and field
    return header, field


def test_the_htmx_review_post(csrf_client, owner, card):
    url = f"/decks/{card.deck_id}/study/review/"
    header, _ = _page_token(csrf_client, f"/decks/{card.deck_id}/study/")
    data = {"token": issue_review_token(owner, card, None), "rating": "4"}
    htmx = {"HTTP_HX_REQUEST": "true"}

    response = csrf_client.post(url, data, **htmx)  # no token
    assert response.status_code == 403 and CSRF_PAGE in response.text
    response = csrf_client.post(url, data, HTTP_X_CSRFTOKEN=header,
                                HTTP_ORIGIN="https://evil.example", **htmx)  # fmt: skip
    assert response.status_code == 403 and CSRF_PAGE in response.text
    assert not ReviewLog.objects.exists()

    response = csrf_client.post(url, data, HTTP_X_CSRFTOKEN=header,
                                HTTP_ORIGIN="http://testserver", **htmx)  # fmt: skip
    assert response.status_code == 200
    assert ReviewLog.objects.filter(user=owner, card=card, rating=4).count() == 1


def test_a_form_post(csrf_client, owner):
    _, field = _page_token(csrf_client, "/decks/new/")
    data = {"name": "Through the form", "description": ""}

    assert csrf_client.post("/decks/new/", data).status_code == 403
    response = csrf_client.post("/decks/new/", {**data, "csrfmiddlewaretoken": field},
                                HTTP_ORIGIN="https://evil.example")  # fmt: skip
    assert response.status_code == 403
    assert not Deck.objects.filter(name="Through the form").exists()

    response = csrf_client.post("/decks/new/", {**data, "csrfmiddlewaretoken": field})
    assert response.status_code == 302
    assert Deck.objects.filter(owner=owner, name="Through the form").exists()


def test_the_log_in_form(client, owner):
    from tests.conftest import PASSWORD

    client = Client(enforce_csrf_checks=True)
    html = client.get("/accounts/login/").text
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    data = {"username": "alice", "password": PASSWORD}
    assert client.post("/accounts/login/", data).status_code == 403
    response = client.post("/accounts/login/", {**data, "csrfmiddlewaretoken": field})
    assert response.status_code == 302
