"""Every card made before notes existed becomes a Basic note of its own: Front = question,
Back = answer, the card's tags, ord 0. Only Card.note and Card.ord are written (queryset
updates, which run no auto_now), so positions, updated_at, memory states and review logs are
untouched.
Batched by card id, so that a large table neither holds every card in memory nor runs one
statement per card; progress is printed for large tables."""

import sys

from django.core.management.color import no_style
from django.db import migrations
from django.db.models import F

BATCH = 2000
REPORT_EVERY = 50_000


def cards_to_notes(apps, schema_editor):
    Card = apps.get_model("cards", "Card")
    Note = apps.get_model("cards", "Note")
    db = schema_editor.connection.alias
    pending = Card.objects.using(db).filter(note__isnull=True)
    total = pending.count()
    done, last_id, reported, explicit_ids = 0, 0, 0, False
    while True:
        batch = list(
            pending.filter(pk__gt=last_id)
            .order_by("pk")
            .only("pk", "deck_id", "question", "answer", "tags")[:BATCH]
        )
        if not batch:
            break
        ids = [card.pk for card in batch]
        # Fast path: each note takes its card's id (free unless notes were made after this
        # migration and it is being re-applied), so one UPDATE links the whole batch.
        same_ids = not Note.objects.using(db).filter(pk__in=ids).exists()
        if not same_ids:
            _move_sequence_on(schema_editor, Note)  # past any id given explicitly
        notes = Note.objects.using(db).bulk_create(
            Note(
                pk=card.pk if same_ids else None,
                deck_id=card.deck_id,
                kind="basic",
                fields={"Front": card.question, "Back": card.answer},
                tags=card.tags,
            )
            for card in batch
        )
        if same_ids:
            Card.objects.using(db).filter(pk__in=ids).update(note=F("pk"), ord=0)
            explicit_ids = True
        else:
            for card, note in zip(batch, notes, strict=True):
                card.note_id, card.ord = note.pk, 0
            Card.objects.using(db).bulk_update(batch, ["note", "ord"], batch_size=500)
        done += len(batch)
        last_id = batch[-1].pk
        if total >= REPORT_EVERY and done - reported >= REPORT_EVERY:
            reported = done
            sys.stdout.write(f"\n  Basic notes: {done:,} of {total:,} cards")
            sys.stdout.flush()
    if explicit_ids:
        _move_sequence_on(schema_editor, Note)


def _move_sequence_on(schema_editor, model):
    """PostgreSQL's id sequence past the ids given explicitly (nothing to do on SQLite)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def notes_to_cards(apps, schema_editor):
    """Back to cards without notes: unlink and delete the Basic notes; other kinds (made after
    this migration) keep their notes, which 0012 already knows."""
    Card = apps.get_model("cards", "Card")
    Note = apps.get_model("cards", "Note")
    db = schema_editor.connection.alias
    basic = Note.objects.using(db).filter(kind="basic")
    Card.objects.using(db).filter(note__in=basic).update(note=None, ord=0)
    while True:
        ids = list(basic.values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        Note.objects.using(db).filter(pk__in=ids).delete()


class Migration(migrations.Migration):
    dependencies = [("cards", "0012_notes_and_media")]

    operations = [migrations.RunPython(cards_to_notes, notes_to_cards, elidable=True)]
