import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.conftest import PASSWORD


def test_signup_creates_the_account_and_logs_in(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "dora",
            "password1": "a-long-pass-phrase-7",
            "password2": "a-long-pass-phrase-7",
        },
    )

    assert response.status_code == 302 and response.url == "/"
    assert get_user_model().objects.filter(username="dora").exists()
    assert client.get("/").status_code == 200


def test_signup_refuses_a_weak_password_field_by_field(client, db):
    response = client.post(
        "/accounts/signup/", {"username": "dora", "password1": "123", "password2": "123"}
    )

    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not get_user_model().objects.filter(username="dora").exists()


def test_login_and_logout(client, owner):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_logout_rejects_get(owner_client):
    assert owner_client.get("/accounts/logout/").status_code == 405


def test_password_change(owner_client, owner):
    response = owner_client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "n3w-pass-phrase!",
            "new_password2": "n3w-pass-phrase!",
        },
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("n3w-pass-phrase!")


def test_password_reset_sends_a_link(client, owner):
    response = client.post("/accounts/password_reset/", {"email": "alice@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


@pytest.mark.parametrize("url", ["/", "/decks/1/", "/accounts/password_change/"])
def test_anonymous_visitors_are_sent_to_log_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/healthz"])
def test_public_pages_need_no_login(client, db, url):
    assert client.get(url).status_code == 200
