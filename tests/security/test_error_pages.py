"""Custom 400/403/404/500 and CSRF pages: friendly, under the CSP, never a stack trace."""

import pytest
from django.test import Client

from tests.security.checks import assert_csp

pytestmark = pytest.mark.urls("tests.security.urls_errors")

TRACE_WORDS = ("Traceback", "hunter2", "s3cr3t", "SecretFailure", "urls_errors", 'File "')


@pytest.fixture
def quiet_client(owner):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    return client


def _no_trace(response):
    for word in TRACE_WORDS:
        assert word not in response.text


def test_a_crash_shows_the_500_page_without_a_trace(quiet_client, settings):
    assert settings.DEBUG is False
    response = quiet_client.get("/test-errors/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    _no_trace(response)
    assert_csp(response)


def test_a_crash_in_an_htmx_request_is_a_500_without_a_trace(quiet_client):
    response = quiet_client.get("/test-errors/boom/", HTTP_HX_REQUEST="true")
    assert response.status_code == 500
    _no_trace(response)
    assert_csp(response)


def test_an_unknown_page_is_the_404_page(quiet_client):
    response = quiet_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "<nav" in response.text  # the site's layout, with the way back
    assert_csp(response)


def test_an_anonymous_404_is_a_redirect_to_log_in(client, db):
    # LoginRequiredMiddleware: an anonymous visitor learns nothing about which URLs exist.
    response = client.get("/decks/999999/")
    assert response.status_code == 302


def test_permission_denied_is_the_403_page(quiet_client):
    response = quiet_client.get("/test-errors/forbidden/")
    assert response.status_code == 403
    assert "You can't do that here" in response.text
    assert_csp(response)


def test_a_bad_request_is_the_400_page(quiet_client):
    response = quiet_client.get("/test-errors/suspicious/")
    assert response.status_code == 400
    assert "could not be understood" in response.text
    _no_trace(response)
    assert_csp(response)


def test_a_foreign_host_is_the_400_page(quiet_client):
    response = quiet_client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "could not be understood" in response.text
    assert "evil.example" not in response.text


def test_a_missing_csrf_token_is_the_friendly_403(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    assert "Please try that again" in response.text
    assert "nothing was saved" in response.text
    assert "CSRF cookie not set" not in response.text  # the reason is for logs, not for people
    assert_csp(response)


def test_an_oversized_body_is_refused_before_it_is_read(quiet_client, settings):
    big = str(settings.REQUEST_MAX_BYTES + 1)
    response = quiet_client.post("/decks/import/", {}, CONTENT_LENGTH=big)
    assert response.status_code == 413
    assert "That file is too large" in response.text
    assert_csp(response)
    ok = quiet_client.post("/decks/import/", {})
    assert ok.status_code == 200  # the form, with its errors
