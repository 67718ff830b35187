"""Migration 0007 adds check constraints; rows an import could store before it (issue 13) are
mended first, so the upgrade never fails on them."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("cards", "0006_memorystate_studyable")]
AFTER = [("cards", "0007_field_validators")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_mends_what_the_new_constraints_refuse():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        apps = migrate(BEFORE)
        User = apps.get_model("auth", "User")
        Deck, Card = apps.get_model("cards", "Deck"), apps.get_model("cards", "Card")
        StudySettings = apps.get_model("cards", "StudySettings")
        MemoryState = apps.get_model("cards", "MemoryState")
        ReviewLog = apps.get_model("cards", "ReviewLog")
        user = User.objects.create(username="mallory")
        deck = Deck.objects.create(owner=user, name="D")
        cards = [Card.objects.create(deck=deck, question=f"Q{i}", answer="A") for i in range(3)]
        StudySettings.objects.create(
            user=user, day_start_hour=99, desired_retention=5.0, maximum_interval=0,
            learning_steps=[60], relearning_steps=[600], fsrs_parameters=[],
        )  # fmt: skip
        when = datetime(2026, 1, 1, tzinfo=UTC)
        MemoryState.objects.create(user=user, card=cards[0], deck=deck, state=99, due=when)
        MemoryState.objects.create(user=user, card=cards[1], deck=deck, state=2, due=when)
        log = {"user": user, "deck": deck, "reviewed_at": when, "due_after": when,
               "state_before": 0, "state_after": 1, "rating": 3, "grade": 3}  # fmt: skip
        ReviewLog.objects.create(card=cards[0], **{**log, "grade": 0})
        ReviewLog.objects.create(card=cards[1], **{**log, "rating": 9})
        ReviewLog.objects.create(card=cards[2], **{**log, "state_after": 99})
        ReviewLog.objects.create(card=cards[2], **log)

        apps = migrate(AFTER)

        settings = apps.get_model("cards", "StudySettings").objects.get()
        assert (settings.day_start_hour, settings.desired_retention) == (4, 0.9)
        assert settings.maximum_interval == 36500
        states = apps.get_model("cards", "MemoryState").objects.values_list("state", flat=True)
        assert list(states) == [2]
        logs = apps.get_model("cards", "ReviewLog").objects.values_list("grade", "rating")
        assert list(logs) == [(3, 3)]
    finally:
        migrate(latest)
