"""MemoryState.studyable: whether the card is answered and not suspended, copied from the card
so that the queue's due counts read no card rows."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def copy_from_cards(apps, schema_editor):
    Card = apps.get_model("cards", "Card")
    MemoryState = apps.get_model("cards", "MemoryState")
    studyable = Card.objects.filter(pk=OuterRef("card_id"), suspended=False).exclude(answer="")
    MemoryState.objects.update(studyable=Exists(studyable))


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0005_reviewlog_fuzz_seed"),
    ]

    operations = [
        migrations.AddField(
            model_name="memorystate",
            name="studyable",
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.RunPython(copy_from_cards, migrations.RunPython.noop),
    ]
