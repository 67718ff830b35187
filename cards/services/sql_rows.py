"""Model instances from hand-written SQL, for the reads every step of the review loop makes.

On the benchmark's data (docs/performance.md), building a queryset with select_related cost
Django 0.6-1 ms and running it 0.05 ms. The study page's read of the next card (memory state,
card, deck), the review POST's read of the card being answered (both in queue_sql) and every
request's read of the user with their study settings (user_with_settings, for cards.security)
were 26% of the review loop's instructions. These helpers write the column lists from the
models' fields and turn a row back into instances with the converters the ORM applies (SQLite's
datetimes as aware datetimes, JSON decoded, booleans), so that what comes back is what the
equivalent queryset returns (tests/services/test_sql_rows.py compares them field by field, on
both databases).
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model

from cards.models import StudySettings


@cache
def _fields(model: type[Model]):
    return tuple(model._meta.concrete_fields)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in _fields(model)]


@cache
def columns(model: type[Model], alias: str) -> str:
    """`alias.column, ...` for every concrete field of `model`, in field order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _fields(model))


@cache
def _converters(model: type[Model], alias: str):
    """For each field, the functions the ORM runs on a value read from this database. They
    depend on the database's settings only (its vendor, its time zone), not on which thread's
    connection asks, so they are worked out once per process."""
    result = []
    for field in _fields(model):
        column = field.get_col(model._meta.db_table)
        result.append(
            (
                column,
                connection.ops.get_db_converters(column) + field.get_db_converters(connection),
            )
        )
    return tuple(result)


def instance(model: type[Model], row: tuple, start: int = 0) -> Model:
    """The `model` instance whose fields are `row[start:]` (as selected by `columns`)."""
    values = []
    for value, (column, converters) in zip(
        row[start : start + width(model)], _converters(model, connection.alias), strict=True
    ):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, _attnames(model), values)


def width(model: type[Model]) -> int:
    """How many columns `columns(model, ...)` selects."""
    return len(_fields(model))


def user_with_settings(user_id):
    """The user with this id and their study settings (if they have any yet), or None."""
    user_model = get_user_model()
    users, settings = user_model._meta.db_table, StudySettings._meta.db_table
    sql = f"""
        SELECT {columns(user_model, "u")}, {columns(StudySettings, "s")}
        FROM {users} u LEFT JOIN {settings} s ON s.user_id = u.id
        WHERE u.id = %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    user = instance(user_model, row)
    settings = None
    if row[width(user_model)] is not None:
        settings = instance(StudySettings, row, width(user_model))
        settings.user = user
    # As select_related does: with no settings row, user.study_settings raises at once.
    user_model.study_settings.related.set_cached_value(user, settings)
    return user
