"""The production settings in effect (DEBUG is off in tests, as in production)."""

from django.conf import settings as django_settings

from tests.security.checks import assert_csp


def test_security_headers_on_a_secure_request(owner_client):
    response = owner_client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert_csp(response)


def test_http_is_redirected_to_https_behind_the_proxy(client, owner, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    # The proxy terminated TLS and says so: no redirect.
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    # The load balancer's health check speaks plain HTTP.
    assert client.get("/healthz").status_code == 200


def test_cookies_and_debug(settings):
    assert django_settings.DEBUG is False
    assert django_settings.SESSION_COOKIE_SECURE and django_settings.CSRF_COOKIE_SECURE
    assert django_settings.SESSION_COOKIE_HTTPONLY and django_settings.CSRF_COOKIE_HTTPONLY
    assert django_settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def test_weak_passwords_are_refused_at_sign_up(client, db):
    for weak in ("password", "12345678", "newuser1", "short"):
        response = client.post(
            "/accounts/signup/", {"username": "newuser", "password1": weak, "password2": weak}
        )
        assert response.status_code == 200, weak
        assert "errorlist" in response.text or "error" in response.text
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="newuser").exists()
