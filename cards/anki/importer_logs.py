"""Review logs and memory states of an Anki import as plain rows: a million logs are made,
replayed and written, so each is a slotted object (not a model instance, whose __init__ cost more
than the scheduler) and goes to the database in bulk: PostgreSQL's COPY, SQLite's multi-row
INSERT. Rows of cards the import made need no primary key back: an undo deletes their cards,
and the rows go with them."""

from __future__ import annotations

import json
from operator import attrgetter

from django.db import connection

from cards.models import MemoryState, ReviewLog


def _columns(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


_FIELDS = _columns(ReviewLog)
COLUMNS = [f.attname for f in _FIELDS]
_MEMORY_FIELDS = _columns(MemoryState)
# A memory state's columns start at the model's defaults (None where it has none).
_MEMORY_DEFAULTS = {f.attname: f.get_default() if f.has_default() else None
                    for f in _MEMORY_FIELDS}  # fmt: skip


class NewLog:
    """A review log about to be written: ReviewLog's columns by attribute name, so the replay
    (importers/revlog.replay_card_logs) fills it like a model instance."""

    __slots__ = (*COLUMNS, "pk")

    def __init__(self, **values):
        self.pk = None
        self.fuzz_seed, self.before = "", {}
        for name, value in values.items():
            setattr(self, name, value)


class NewMemory:
    """A memory state about to be written for a card the import made (MemoryState's columns)."""

    __slots__ = (*_MEMORY_DEFAULTS, "pk")

    def __init__(self, **values):
        self.pk = None
        for name, value in (_MEMORY_DEFAULTS | values).items():
            setattr(self, name, value)


def insert_logs(logs: list[NewLog]) -> None:
    """Write the logs (every column set by the caller and the replay)."""
    _write(ReviewLog, _FIELDS, logs)


def insert_memories(memories: list[NewMemory]) -> None:
    _write(MemoryState, _MEMORY_FIELDS, memories)


def _write(model, fields: list, rows: list) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    if connection.vendor == "postgresql":
        _copy(rows, fields, table, columns)
    else:
        _insert(rows, fields, table, columns)


def _of_kind(fields: list, kind: str) -> list[int]:
    return [i for i, f in enumerate(fields) if f.get_internal_type() == kind]


def _copy(rows: list, fields: list, table: str, columns: str) -> None:
    # psycopg adapts each value itself; a JSON value goes as its text.
    jsons, values = _of_kind(fields, "JSONField"), attrgetter(*[f.attname for f in fields])
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for item in rows:
            row = list(values(item))
            for i in jsons:
                row[i] = json.dumps(row[i])
            copy.write_row(row)


def _insert(rows: list, fields: list, table: str, columns: str) -> None:
    # One prepared statement for all rows (executemany); only datetimes and JSON need adapting
    # (bulk_create prepared every value, a third of an import's time).
    times, jsons = _of_kind(fields, "DateTimeField"), _of_kind(fields, "JSONField")
    values = attrgetter(*[f.attname for f in fields])
    tz = connection.timezone  # Django's: naive in this zone, as str()
    prepared = []
    for item in rows:
        row = list(values(item))
        for i in times:
            if row[i] is not None:
                row[i] = str(row[i].astimezone(tz).replace(tzinfo=None))
        for i in jsons:
            row[i] = json.dumps(row[i])
        prepared.append(row)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
