"""Migration 0013: every card made before notes existed becomes a Basic note with its whole
history (memory states, review logs, position) untouched; and back again."""

from datetime import UTC, datetime, timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F

from cards.models import Card, MemoryState, Note, ReviewLog

BEFORE = [("cards", "0012_notes_and_media")]
AFTER = [("cards", "0013_basic_notes")]
pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def history(apps):
    Card = apps.get_model("cards", "Card")
    State = apps.get_model("cards", "MemoryState")
    Log = apps.get_model("cards", "ReviewLog")
    return (
        list(Card.objects.order_by("pk").values_list(
            "pk", "deck_id", "question", "answer", "tags", "position", "updated_at",
            "question_html", "suspended",
        )),
        list(State.objects.order_by("pk").values_list(
            "pk", "card_id", "deck_id", "state", "due", "stability", "difficulty", "reps",
        )),
        list(Log.objects.order_by("pk").values_list(
            "pk", "card_id", "rating", "reviewed_at", "state_after", "stability_after",
        )),
    )  # fmt: skip


def test_every_old_card_becomes_a_basic_note_with_its_whole_history(monkeypatch):
    target = latest()
    try:
        apps = migrate(BEFORE)
        User = apps.get_model("auth", "User")
        Deck, Card0 = apps.get_model("cards", "Deck"), apps.get_model("cards", "Card")
        State, Log = apps.get_model("cards", "MemoryState"), apps.get_model("cards", "ReviewLog")
        user = User.objects.create(username="old")
        decks = [Deck.objects.create(owner=user, name=f"D{i}") for i in range(2)]
        when = datetime(2026, 1, 1, tzinfo=UTC)
        cards = [
            Card0.objects.create(
                deck=decks[i % 2], question=f"Q{i}", answer="" if i == 3 else f"A{i}",
                tags="t1 t2" if i % 2 else "", position=100 - i, question_html=f"<p>Q{i}</p>",
            )
            for i in range(7)
        ]  # fmt: skip
        for i, card in enumerate(cards[:5]):
            State.objects.create(user=user, card=card, deck=card.deck, state=2, due=when,
                                 stability=1.5 + i, difficulty=5.0, reps=2)  # fmt: skip
            for r in range(2):
                Log.objects.create(
                    user=user, card=card, deck=card.deck, reviewed_at=when + timedelta(days=r),
                    due_after=when, state_before=0, state_after=2, rating=3, grade=3,
                    stability_after=1.0 + r,
                )  # fmt: skip
        # A note already taking a card's id (0013 re-applied after notes were made): that
        # card's batch links its notes one by one.
        Note0 = apps.get_model("cards", "Note")
        cloze = Note0.objects.create(
            pk=cards[4].pk, deck=decks[0], kind="cloze", fields={"Text": "{{c1::x}}"}
        )
        Card0.objects.create(deck=decks[0], note=cloze, ord=0, question="[...]", answer="x")
        before = history(apps)
        # Small batches, so that the test crosses batch boundaries.
        monkeypatch.setattr(import_module("cards.migrations.0013_basic_notes"), "BATCH", 3)

        apps = migrate(AFTER)

        assert history(apps) == before
        Card1, Note1 = apps.get_model("cards", "Card"), apps.get_model("cards", "Note")
        assert Note1.objects.count() == 8
        assert Card1.objects.get(question="[...]").note_id == cloze.pk
        for card in Card1.objects.exclude(note=cloze.pk).select_related("note"):
            assert card.ord == 0 and card.note.kind == "basic"
            assert card.note.deck_id == card.deck_id
            assert card.note.fields == {"Front": card.question, "Back": card.answer}
            assert card.note.tags == card.tags

        Note1.objects.create(deck_id=decks[0].pk, kind="basic", fields={})  # ids move on
        Note1.objects.filter(fields={}).delete()

        apps = migrate(BEFORE)  # reversible: the Basic notes go, the cards and history stay
        assert list(apps.get_model("cards", "Note").objects.values_list("pk", flat=True)) == [
            cloze.pk
        ]
        assert history(apps) == before
    finally:
        migrate(target)


def test_the_migration_on_the_bench_dataset():
    """bench_data writes cards without notes (raw rows); undoing 0013 and applying it again
    gives each a Basic note and leaves every review, schedule and position as it was."""
    target = latest()
    try:
        call_command(
            "bench_data", "--users", "2", "--cards", "300", "--reviews", "3000", "--seed", "3",
            stdout=StringIO(),
        )  # fmt: skip
        Card.objects.filter(note__isnull=False).update(note=None)
        Note.objects.all().delete()
        cards, states, logs = (
            Card.objects.count(),
            MemoryState.objects.count(),
            ReviewLog.objects.count(),
        )
        assert cards > 600 and states > 0 and logs > 2000
        apps = migrate(BEFORE)
        before = history(apps)

        apps = migrate(AFTER)

        assert history(apps) == before
        Card1 = apps.get_model("cards", "Card")
        assert not Card1.objects.filter(note__isnull=True).exists()
        assert apps.get_model("cards", "Note").objects.filter(kind="basic").count() == cards
        assert not Card1.objects.exclude(note__deck=F("deck")).exists()
    finally:
        migrate(target)
