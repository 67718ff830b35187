"""The undo kinds of the browser's add tags, remove tags and move (services/content_undo)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cards", "0014_search_speed")]

    operations = [
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
                    ("tag_add", "Add tags"),
                    ("tag_remove", "Remove tags"),
                    ("move", "Change deck"),
                ],
                max_length=10,
            ),
        ),
    ]
