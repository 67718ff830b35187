"""Site backup and restore: back up, wipe, restore, and every row is back as it was.

Runs on whichever database the suite uses: SQLite's online backup API, or pg_dump/pg_restore
on PostgreSQL; and the portable JSON format on both.
"""

import shutil
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cards.models import Deck
from tests.conftest import make_user
from tests.security.urlwalk import db_fingerprint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(seed_path):
    from cards.services.reviews import issue_review_token, record_review

    alice = make_user("alice")
    make_user("carol", is_staff=True, is_superuser=True)
    call_command("import_deck", str(seed_path), "--public", verbosity=0)
    call_command("import_deck", str(seed_path), "--owner", "alice", "--name", "Mine", verbosity=0)
    deck = Deck.objects.get(name="Mine")
    for card in deck.cards.exclude(answer="")[:5]:
        record_review(alice, issue_review_token(alice, card, None), 4, duration_ms=2500)
    return db_fingerprint()


def _fingerprint_ms():
    """db_fingerprint with every time cut to the millisecond."""
    from django.apps import apps

    from tests.security.urlwalk import SKIP_MODELS

    def cut(value):
        if isinstance(value, datetime):
            return value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value

    rows = {}
    for model in apps.get_models():
        if (model._meta.app_label, model._meta.model_name) not in SKIP_MODELS:
            values = model._default_manager.values_list()
            rows[model._meta.label] = sorted(repr(tuple(map(cut, row))) for row in values)
    return rows


def _wipe():
    Deck.objects.all().delete()
    get_user_model().objects.all().delete()
    assert not Deck.objects.exists()


@pytest.mark.parametrize("fmt", ["native", "json"])
def test_backup_wipe_restore_gives_back_every_row(site, tmp_path, fmt):
    if fmt == "native" and connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    site_ms = _fingerprint_ms()
    backup = tmp_path / "site.backup"
    call_command("backup_site", "--output", str(backup), "--format", fmt, verbosity=0)
    assert backup.stat().st_size > 0
    assert not (tmp_path / "site.backup.partial").exists()

    _wipe()
    call_command("restore_site", str(backup), "--yes", verbosity=0)

    if fmt == "json":
        # Django's JSON serializer keeps times to the millisecond; the native formats are exact.
        assert _fingerprint_ms() == site_ms
    else:
        assert db_fingerprint() == site
    assert Deck.objects.get(name="Mine").cards.count() == 42
    # The restored site works: alice can log in with her old password and see her deck.
    from django.test import Client

    from tests.conftest import PASSWORD

    client = Client()
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )
    assert "Mine" in client.get("/").text


def test_restore_asks_for_yes_and_checks_the_file(site, tmp_path):
    backup = tmp_path / "site.json"
    call_command("backup_site", "--output", str(backup), "--format", "json", verbosity=0)
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore_site", str(backup))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x89PNG not a backup")
    with pytest.raises(CommandError, match="not a backup"):
        call_command("restore_site", str(junk), "--yes")
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore_site", str(tmp_path / "missing"), "--yes")
    assert db_fingerprint() == site  # nothing was touched


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite files only")
def test_a_damaged_sqlite_backup_is_refused(site, tmp_path):
    backup = tmp_path / "site.sqlite3"
    call_command("backup_site", "--output", str(backup), verbosity=0)
    data = bytearray(backup.read_bytes())
    data[4096 : 4096 + 64] = b"\xff" * 64  # scribble over the second page
    backup.write_bytes(bytes(data))
    with pytest.raises(CommandError):
        call_command("restore_site", str(backup), "--yes")
    assert db_fingerprint() == site
