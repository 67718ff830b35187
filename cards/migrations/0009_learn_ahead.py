# The learn-ahead limit (issue 14): learning cards due within it are counted and shown.
# And the states already stored are replayed under Anki's rules (issue 14), as
# `manage.py rebuild_states` would: afterwards `rebuild_states --check` passes.

import django.core.validators
from django.db import migrations, models

STATE_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


def replay_states(apps, schema_editor):
    # The pure core only (no service code): historical models stay valid after later changes.
    from cards.scheduling import Grade, Policy, replay

    StudySettings = apps.get_model("cards", "StudySettings")
    ReviewLog = apps.get_model("cards", "ReviewLog")
    MemoryState = apps.get_model("cards", "MemoryState")
    for user_id in ReviewLog.objects.values_list("user_id", flat=True).distinct().order_by():
        s = StudySettings.objects.filter(user_id=user_id).first()
        try:
            policy = Policy() if s is None else Policy(
                parameters=tuple(s.fsrs_parameters), desired_retention=s.desired_retention,
                learning_steps=tuple(s.learning_steps), relearning_steps=tuple(s.relearning_steps),
                maximum_interval=s.maximum_interval, timezone=s.timezone,
                day_start_hour=s.day_start_hour,
            )
        except (TypeError, ValueError):
            continue  # invalid stored settings: rebuild_states reports these users
        memories = {m.card_id: m for m in MemoryState.objects.filter(user_id=user_id)}
        by_card = {}
        logs = ReviewLog.objects.filter(user_id=user_id).order_by("card_id", "reviewed_at", "pk")
        for log in logs.iterator(chunk_size=2000):
            by_card.setdefault(log.card_id, []).append(log)
        changed = []
        for card_id, card_logs in by_card.items():
            memory = memories.get(card_id)
            if memory is None:
                continue
            reviews = [
                (Grade(log.grade), log.reviewed_at, log.fuzz_seed or f"{card_id}:{i}")
                for i, log in enumerate(card_logs)
            ]
            after = replay(reviews, policy)[-1].after
            for name in STATE_FIELDS:
                value = getattr(after, name)
                setattr(memory, name, int(value) if name == "state" else value)
            memory.version += 1  # review tokens shown before the upgrade go stale
            changed.append(memory)
        MemoryState.objects.bulk_update(changed, [*STATE_FIELDS, "version"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('cards', '0008_importjob'),
    ]

    operations = [
        migrations.AddField(
            model_name='studysettings',
            name='learn_ahead_minutes',
            field=models.PositiveSmallIntegerField(
                default=20,
                help_text='Show learning cards due within this many minutes when nothing else is due.',
                validators=[
                    django.core.validators.MinValueValidator(0, message='must be between 0 and 1440'),
                    django.core.validators.MaxValueValidator(1440, message='must be between 0 and 1440'),
                ],
            ),
        ),
        migrations.RunPython(replay_states, migrations.RunPython.noop),
    ]
