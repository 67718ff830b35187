"""The database connection is tuned for concurrent users: WAL and a busy timeout on SQLite,
persistent, health-checked connections on PostgreSQL. Each test runs on its own backend only."""

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL settings"
)


def pragma(name: str):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


@sqlite_only
def test_sqlite_writes_ahead_so_readers_do_not_block_the_writer():
    assert pragma("journal_mode") == "wal"


@sqlite_only
def test_sqlite_waits_for_a_lock_instead_of_failing_at_once():
    assert pragma("busy_timeout") > 0


@sqlite_only
def test_sqlite_transactions_take_the_write_lock_at_begin():
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@postgresql_only
def test_postgresql_keeps_connections_open_and_checks_them():
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True
