"""While the database cannot be reached every page is a 503 "temporarily unavailable" page and
/healthz its documented 503 JSON, for anonymous and logged-in clients alike (issue 13, item 8).
An ordinary bug, even an OperationalError from a reachable database, stays a 500.
"""

from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.urls import path

import studyapp.urls as project_urls
from tests.security.checks import assert_csp, assert_permissions_policy

UNAVAILABLE = "temporarily unavailable"


def query_refused(request):
    from cards.models import Deck

    with mock.patch.object(Deck.objects, "count", side_effect=OperationalError("no such table")):
        Deck.objects.count()


def crash(request):
    raise RuntimeError("an ordinary bug")


urlpatterns = [
    path("test-db/query-refused/", query_refused),
    path("test-db/crash/", crash),
    *project_urls.urlpatterns,
]
# This module doubles as a URLconf: the project's error handler, whatever it is.
handler500 = getattr(project_urls, "handler500", "django.views.defaults.server_error")


@pytest.fixture
def database_down():
    """Every attempt to connect fails, as when the server is stopped or the network is cut."""

    def refuse(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')

    with mock.patch.object(type(connections["default"]), "ensure_connection", refuse):
        yield


@pytest.fixture
def logged_in(owner):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    return client


@pytest.fixture
def anonymous(db):
    return Client(raise_request_exception=False)


def _assert_unavailable_page(response, url):
    assert response.status_code == 503, f"{url}: {response.status_code}"
    assert UNAVAILABLE in response.text, url
    assert "Traceback" not in response.text and "5432" not in response.text
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    assert_csp(response)
    assert_permissions_policy(response)


@pytest.mark.parametrize("url", ["/", "/study/", "/decks/1/", "/stats/", "/account/data/"])
def test_a_logged_in_page_is_the_503_page(logged_in, database_down, url):
    response = logged_in.get(url)
    _assert_unavailable_page(response, url)
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_request_and_a_post_get_the_503_too(logged_in, database_down):
    _assert_unavailable_page(logged_in.get("/study/", HTTP_HX_REQUEST="true"), "htmx")
    _assert_unavailable_page(logged_in.post("/study/review/", {"rating": "4"}), "POST")


def test_healthz_answers_its_json_for_a_logged_in_client(logged_in, database_down):
    response = logged_in.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "OperationalError"}


def test_healthz_answers_its_json_for_an_anonymous_client(anonymous, database_down):
    response = anonymous.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_anonymous_pages_need_no_database_or_get_the_503(anonymous, database_down):
    # The dashboard sends a stranger to log in without asking the database; logging in needs it.
    response = anonymous.get("/study/")
    assert response.status_code == 302
    assert anonymous.get(response["Location"]).status_code == 200
    response = anonymous.post("/accounts/login/", {"username": "alice", "password": "x"})
    _assert_unavailable_page(response, "log in")
    _assert_unavailable_page(anonymous.post("/accounts/signup/", {"username": "x"}), "sign up")


def test_the_site_works_again_once_the_database_is_back(logged_in):
    assert logged_in.get("/").status_code == 200
    assert logged_in.get("/healthz").json() == {"status": "ok", "database": "ok"}


@pytest.mark.urls(__name__)
def test_an_operational_error_from_a_reachable_database_stays_a_500(logged_in):
    response = logged_in.get("/test-db/query-refused/")
    assert response.status_code == 500
    assert UNAVAILABLE not in response.text
    assert "Something went wrong on our side" in response.text


@pytest.mark.urls(__name__)
def test_an_ordinary_crash_stays_a_500(logged_in):
    response = logged_in.get("/test-db/crash/")
    assert response.status_code == 500
    assert UNAVAILABLE not in response.text
