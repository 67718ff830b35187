"""scripts/healthcheck.py, the Docker HEALTHCHECK, against a live server."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "healthcheck.py"
spec = importlib.util.spec_from_file_location("healthcheck", SCRIPT)
healthcheck = importlib.util.module_from_spec(spec)
spec.loader.exec_module(healthcheck)


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("study.example.org,www.example.org", "study.example.org"),
        (".example.org", "example.org"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_it_asks_as_the_first_allowed_host(allowed, host):
    assert healthcheck.host_header(allowed) == host


@pytest.mark.django_db(transaction=True)
def test_the_container_is_healthy_on_a_site_that_allows_only_its_own_name(
    live_server, settings, monkeypatch
):
    settings.ALLOWED_HOSTS = ["study.example.org"]
    monkeypatch.setenv("PORT", live_server.url.rsplit(":", 1)[1])
    monkeypatch.setenv("ALLOWED_HOSTS", "study.example.org")
    assert healthcheck.main() == 0
    # Asked for as 127.0.0.1 (the old check), Django refuses the Host header.
    monkeypatch.setenv("ALLOWED_HOSTS", "127.0.0.1")
    assert healthcheck.main() == 1
