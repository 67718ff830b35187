"""Indexes for the card browser's search (cards/search/schema.py holds the SQL): PostgreSQL
trigram GIN indexes on the folded text, SQLite an FTS5 trigram table kept by triggers."""

from django.db import migrations

from cards.search.schema import (
    POSTGRESQL_BACKWARDS,
    POSTGRESQL_FORWARDS,
    SQLITE_BACKWARDS,
    SQLITE_FORWARDS,
)


class VendorSQL(migrations.RunSQL):
    """RunSQL that runs only on one database vendor (a no-op elsewhere, both ways)."""

    def __init__(self, vendor, sql, reverse_sql):
        super().__init__(sql, reverse_sql)
        self.vendor = vendor

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, args, {**kwargs, "vendor": self.vendor}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("cards", "0010_study_actions")]

    operations = [
        VendorSQL("postgresql", POSTGRESQL_FORWARDS, POSTGRESQL_BACKWARDS),
        VendorSQL("sqlite", SQLITE_FORWARDS, SQLITE_BACKWARDS),
    ]
