"""The import's bulk path for review logs (COPY on PostgreSQL, executemany on SQLite) stores
exactly what the ORM stores for the same values: raw column values compared, datetimes in any
zone, the JSON snapshot, NULLs."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from cards.anki.importer_logs import COLUMNS, NewLog, insert_logs
from cards.models import Card, Deck, ReviewLog

pytestmark = pytest.mark.django_db

MOMENTS = [
    datetime(2024, 3, 31, 1, 59, 59, 999000, tzinfo=UTC),
    datetime(2024, 10, 27, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(1999, 12, 31, 23, 0, 0, 1000, tzinfo=ZoneInfo("Pacific/Auckland")),
    datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=123_456_789),
]


def values(user, card, i: int, token: str) -> dict:
    at = MOMENTS[i % len(MOMENTS)]
    first = i == 0
    return {
        "user_id": user.pk,
        "card_id": card.pk,
        "deck_id": card.deck_id,
        "rating": 1 + i % 4,
        "rating_scale": "four",
        "grade": 1 + i % 4,
        "reviewed_at": at,
        "duration_ms": 2**31 - 1 if i == 1 else i * 1000,
        "review_token": token,
        "fuzz_seed": f"{card.pk}:{i}",
        "state_before": 0 if first else 2,
        "before": {"exists": False}
        if first
        else {
            "exists": True,
            "state": 2,
            "step": None,
            "stability": 1.2345,
            "difficulty": 5.5,
            "due": at.isoformat(),
            "last_review": at.isoformat(),
            "reps": i,
            "lapses": 0,
            "note": 'ünïcode \\ "quoted"\ttab\nline',
        },  # fmt: skip
        "elapsed_days": i,
        "retrievability": None if first else 0.9 - i / 100,
        "state_after": 2,
        "stability_after": 3.25 + i,
        "difficulty_after": 4.125,
        "due_after": at + timedelta(days=i, seconds=1),
    }


def raw_rows(tokens_like: str) -> list[tuple]:
    table = connection.ops.quote_name(ReviewLog._meta.db_table)
    names = [f.column for f in ReviewLog._meta.concrete_fields if f.attname in COLUMNS]
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quoted} FROM {table} WHERE review_token LIKE %s ORDER BY id", [tokens_like]
        )
        return cursor.fetchall()


def test_bulk_logs_equal_orm_logs(django_user_model):
    user = django_user_model.objects.create_user("bulk")
    deck = Deck.objects.create(owner=user, name="d")
    card = Card.objects.create(deck=deck, question="q", answer="a")
    count = 9
    insert_logs([NewLog(**values(user, card, i, f"bulk:{i}")) for i in range(count)])
    ReviewLog.objects.bulk_create(
        [ReviewLog(**values(user, card, i, f"orm:{i}")) for i in range(count)]
    )
    bulk, orm = raw_rows("bulk:%"), raw_rows("orm:%")
    assert len(bulk) == len(orm) == count
    token = [f.attname for f in ReviewLog._meta.concrete_fields if f.attname in COLUMNS].index(
        "review_token"
    )
    for a, b in zip(bulk, orm, strict=True):
        assert a[:token] + a[token + 1 :] == b[:token] + b[token + 1 :]
    # and the ORM reads them back as given
    for i, log in enumerate(
        ReviewLog.objects.filter(review_token__startswith="bulk:").order_by("id")
    ):
        expected = values(user, card, i, f"bulk:{i}")
        for name in ("reviewed_at", "due_after"):  # an ambiguous local time equals no UTC one
            expected[name] = expected[name].astimezone(UTC)
        assert {name: getattr(log, name) for name in COLUMNS} == expected


def test_each_batch_finds_its_cards_logs_by_index(tmp_path, django_user_model, settings):
    """The history phase looks up each batch's earlier logs by (user, card): a plan that scans
    all the user's logs made a 100,000-card import quadratic (SQLite picked the time index)."""
    pytest.importorskip("anki", reason="the package is made by the `anki` package (dev extra)")
    from django.test.utils import CaptureQueriesContext

    from cards.anki.importer import import_package
    from cards.anki.package import open_package

    from .builders import build_big_package

    settings.IMPORT_BATCH_CARDS = 500  # the default: the IN list size swayed the plan
    path = build_big_package(tmp_path, cards=1_000, reviews=3_000)
    user = django_user_model.objects.create_user("plan")
    package = open_package(path, path.name)
    try:
        with CaptureQueriesContext(connection) as queries:
            import_package(package, user)
    finally:
        package.close()
    table = ReviewLog._meta.db_table
    lookups = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and table in q["sql"]]
    assert len(lookups) == 3  # one per batch of 500 cards (1,000 and the studied one)
    assert ReviewLog.objects.filter(user=user).count() >= 3_000
    if connection.vendor != "sqlite":
        return
    # Re-plan the captured query with the table full of this user's logs.
    sql = lookups[0]  # a full batch
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "reviewlog_user_card_time" in plan, plan
