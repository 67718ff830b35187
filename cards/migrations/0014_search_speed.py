"""Search without folding at query time (cards/search/folded.py): PostgreSQL stored generated
columns of the folded text with their trigram indexes, SQLite a folded table kept by
triggers. Also the undo kinds of the browser's forget and set due date (StudyAction.kind)."""

from importlib import import_module

from django.db import migrations, models

from cards.search.folded import (
    POSTGRESQL_BACKWARDS,
    POSTGRESQL_FORWARDS,
    SQLITE_BACKWARDS,
    SQLITE_FORWARDS,
)

VendorSQL = import_module("cards.migrations.0011_card_search").VendorSQL


class Migration(migrations.Migration):
    dependencies = [("cards", "0013_basic_notes")]

    operations = [
        VendorSQL("postgresql", POSTGRESQL_FORWARDS, POSTGRESQL_BACKWARDS),
        VendorSQL("sqlite", SQLITE_FORWARDS, SQLITE_BACKWARDS),
        migrations.AlterField(
            model_name="studyaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("suspend", "Suspend"),
                    ("unsuspend", "Unsuspend"),
                    ("bury", "Bury"),
                    ("flag", "Flag"),
                    ("edit", "Edit"),
                    ("forget", "Forget"),
                    ("set_due", "Set due date"),
                ],
                max_length=10,
            ),
        ),
    ]
