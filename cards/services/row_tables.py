"""Rows of a model as plain JSON, and back into the database as they were: what a delete
removed, kept for its undo (services/card_trash).

Why not Django's serializers and bulk_create: at 20,000 cards with two learners' history, the
serializer, bulk_create's statements of 60 rows (SQLite's 999 parameters) and the bulk_update
that puts back the times auto_now overwrote took 28 s to restore on SQLite, 6 s this way (on
a loaded machine; figures relative). Here a table is its
column names and value lists (times as ISO text to the microsecond, which DjangoJSONEncoder
would round to milliseconds), read with values_list and written back with one executemany
INSERT per model: the same ids, the same times, every value as read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connections, models, router

CHUNK = 500  # ids per IN (...) list, under SQLite's 999 bound parameters


def chunks(ids: list):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _plain(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


@dataclass
class Table:
    model: type[models.Model]
    columns: list[str]
    rows: list[list]

    @classmethod
    def read(cls, queryset) -> Table:
        """The rows of a queryset, every concrete column (attnames: deck_id, not deck)."""
        model = queryset.model
        columns = [field.attname for field in model._meta.concrete_fields]
        rows = [[_plain(value) for value in row] for row in queryset.values_list(*columns)]
        return cls(model, columns, rows)

    @classmethod
    def of_json(cls, data: dict) -> Table:
        return cls(apps.get_model(data["model"]), data["columns"], data["rows"])

    def as_json(self) -> dict:
        return {"model": self.model._meta.label_lower, "columns": self.columns, "rows": self.rows}

    def values(self, column: str) -> list:
        at = self.columns.index(column)
        return [row[at] for row in self.rows]

    def ids(self) -> list[int]:
        return self.values(self.model._meta.pk.attname)

    def foreign_keys(self, to_users: bool) -> list[models.ForeignKey]:
        """The foreign keys the table has a column of: those to users, or the others."""
        user_model = get_user_model()
        return [
            field
            for field in self.model._meta.concrete_fields
            if field.is_relation
            and field.attname in self.columns
            and (field.related_model is user_model) == to_users
        ]

    def insert(self) -> None:
        """INSERT the rows as they are, one executemany. A column the model has lost since is
        left out; one it has gained gets its default (or the database's)."""
        if not self.rows:
            return
        fields = {field.attname: field for field in self.model._meta.concrete_fields}
        kept = [(at, fields[name]) for at, name in enumerate(self.columns) if name in fields]
        added = [
            (field, field.get_default())
            for name, field in fields.items()
            if name not in self.columns and field.has_default()
        ]
        names = [field.column for _, field in kept] + [field.column for field, _ in added]
        db = connections[router.db_for_write(self.model)]
        quote = db.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.model._meta.db_table),
            ", ".join(quote(name) for name in names),
            ", ".join(["%s"] * len(names)),
        )
        defaults = [field.get_db_prep_save(value, db) for field, value in added]
        converters = [(at, _converter(field, db)) for at, field in kept]
        params = [
            [row[at] if convert is None else convert(row[at]) for at, convert in converters]
            + defaults
            for row in self.rows
        ]
        with db.cursor() as cursor:  # psycopg pipelines it; sqlite3 prepares it once
            cursor.executemany(sql, params)


def _converter(field, db):
    """Numbers, text and booleans go in as read (None for those); times and JSON through
    their field. Per value, so cheap: 450,000 values at 20,000 cards."""
    if isinstance(field, models.DateField):  # DateTimeField too

        def convert(value):
            return None if value is None else field.get_db_prep_save(field.to_python(value), db)

        return convert
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, db)
    return None
