"""The benchmark's data generator (cards/management/commands/bench_data.py) on a small scale."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.services.queue import StudyQueue
from cards.services.reviews import card_state

pytestmark = pytest.mark.django_db(transaction=True)

ARGS = ["--users", "3", "--cards", "400", "--reviews", "6000", "--seed", "7"]


def generate(*extra) -> str:
    out = StringIO()
    call_command("bench_data", *ARGS, *extra, stdout=out)
    return out.getvalue()


def fingerprint() -> list:
    logs = ReviewLog.objects.order_by("pk").values_list(
        "user_id", "card_id", "rating", "reviewed_at", "state_after", "stability_after"
    )
    cards = Card.objects.order_by("pk").values_list("deck_id", "question", "answer", "suspended")
    return [list(logs), list(cards)]


def wipe():
    get_user_model().objects.all().delete()
    Deck.objects.all().delete()


def test_it_builds_the_dataset_it_reports_and_the_same_again_from_the_same_seed():
    output = generate()
    users = get_user_model().objects.filter(username__startswith="bench")
    assert users.count() == 3
    reviews = ReviewLog.objects.count()
    assert 5900 <= reviews <= 6000  # the simulation meets the budget to within a few days' work
    assert Card.objects.filter(deck__owner__isnull=False).count() == 3 * 400
    assert Deck.objects.filter(is_public=True).count() == 1
    assert Deck.objects.filter(owner=users[0]).count() == 5
    assert Card.objects.filter(answer="").exists() and Card.objects.filter(suspended=True).exists()
    assert "Done: 3 users" in output and f"{reviews:,} reviews" in output  # progress is printed
    first = fingerprint()

    wipe()
    generate()
    assert fingerprint() == first


def test_every_memory_state_is_the_state_after_its_cards_last_review():
    generate()
    latest = {}
    for log in ReviewLog.objects.order_by("reviewed_at", "pk"):
        latest[(log.user_id, log.card_id)] = log
    memories = list(MemoryState.objects.all())
    assert len(memories) == len(latest)
    for memory in memories:
        log = latest[(memory.user_id, memory.card_id)]
        assert (memory.state, memory.due) == (log.state_after, log.due_after)
        assert memory.stability == pytest.approx(log.stability_after)
        assert (
            card_state(memory).reps
            == ReviewLog.objects.filter(user_id=memory.user_id, card_id=memory.card_id).count()
        )


def test_the_history_stops_before_a_break_so_users_come_back_to_a_backlog():
    generate("--break-days", "14")
    day_start_of_today = timezone.now() - timedelta(hours=4)
    last = ReviewLog.objects.order_by("-reviewed_at").first().reviewed_at
    assert last < day_start_of_today - timedelta(days=13)
    for user in get_user_model().objects.filter(username__startswith="bench"):
        queue = StudyQueue(user)
        assert queue.counts().review > 0 and queue.next_card() is not None


def test_it_refuses_a_database_that_has_bench_users_and_bad_numbers():
    generate()
    with pytest.raises(CommandError, match="exist already"):
        generate()
    with pytest.raises(CommandError, match="--break-days must not be negative"):
        call_command("bench_data", *ARGS, "--break-days", "-1", stdout=StringIO())
