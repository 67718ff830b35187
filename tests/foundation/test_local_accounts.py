"""`manage.py create_local_accounts`: a demo learner and a staff admin, for development only."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("create_local_accounts", stdout=out)
    return out.getvalue()


def printed_accounts(output: str) -> dict[str, str]:
    """username -> password, as the command prints them."""
    return dict(re.findall(r"username '([^']+)'\s+password '([^']+)'", output))


def test_it_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="development only: set DEBUG=1"):
        run()

    assert not get_user_model().objects.exists()


def test_it_creates_a_demo_learner_and_a_staff_admin_and_prints_how_to_log_in(settings, client):
    settings.DEBUG = True

    output = run()

    accounts = printed_accounts(output)
    assert set(accounts) == {"demo", "admin"}
    assert "demo learner" in output and "admin (staff)" in output
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {"demo", "admin"}
    assert not users["demo"].is_staff and not users["demo"].is_superuser
    assert users["admin"].is_staff and users["admin"].is_superuser
    for username, password in accounts.items():
        assert users[username].check_password(password), username
    # The printed details log in.
    response = client.post("/accounts/login/", {"username": "demo", "password": accounts["demo"]})
    assert response.status_code == 302 and response.url == "/"


def test_running_it_again_resets_the_passwords_without_duplicates(settings):
    settings.DEBUG = True
    run()
    User = get_user_model()
    for user in User.objects.all():
        user.set_password("changed-since-9")
        user.is_staff = user.is_superuser = user.username == "demo"  # roles swapped by hand
        user.save()

    accounts = printed_accounts(run())

    assert set(accounts) == {"demo", "admin"}  # printed again, so the details are at hand
    assert User.objects.count() == 2
    assert User.objects.filter(username="demo").count() == 1
    assert User.objects.filter(username="admin").count() == 1
    for username, password in accounts.items():
        user = User.objects.get(username=username)
        assert user.check_password(password), username
        assert not user.check_password("changed-since-9")
        assert user.is_staff == (username == "admin")
