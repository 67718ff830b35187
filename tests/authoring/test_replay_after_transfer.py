"""Schedules survive a move to new card ids: a JSON import into another account, a merge.

The interval fuzz is seeded by "card id:reviews before" when a review is recorded; each log keeps
its seed (ReviewLog.fuzz_seed), so rebuild_states replays to the stored states even after the
cards got new ids. Without it, the replay rewrote the due dates of nearly every imported card.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.services.curation import merge_cards
from cards.services.rebuild import rebuild_states
from cards.services.reviews import issue_review_token, record_review
from cards.services.transfer import (
    TransferError,
    export_user_data,
    import_user_data,
    parse_user_data,
)
from tests.conftest import make_user

FIELDS = ("state", "stability", "difficulty", "due", "last_review", "reps", "lapses")


def study(user, cards, ratings=(4, 1, 4, 3, 4, 4)):
    """Each card reviewed through the service, each time when it falls due: long intervals,
    so the fuzz moves due dates by days."""
    for card in cards:
        when = timezone.now() - timedelta(days=400)
        for rating in ratings:
            memory = MemoryState.objects.filter(user=user, card=card).first()
            result = record_review(user, issue_review_token(user, card, memory), rating, 900, when)
            when = result.memory.due + timedelta(hours=1)


def states(user):
    rows = MemoryState.objects.filter(user=user).select_related("card").order_by("card__position")
    return [tuple(getattr(row, name) for name in FIELDS) for row in rows]


def test_a_json_import_replays_to_the_same_schedules(owner):
    deck = Deck.objects.create(owner=owner, name="Long intervals")
    cards = [
        Card.objects.create(deck=deck, question=f"Q{i}", answer="A", position=i) for i in range(12)
    ]
    study(owner, cards)
    assert rebuild_states(owner, dry_run=True) == 0

    newcomer = make_user("zed")
    payload = parse_user_data(json.dumps(export_user_data(owner), default=str).encode())
    import_user_data(newcomer, payload)
    assert set(Card.objects.filter(deck__owner=newcomer).values_list("pk", flat=True)).isdisjoint(
        card.pk for card in cards
    )
    assert states(newcomer) == states(owner)
    assert rebuild_states(newcomer, dry_run=True) == 0


def test_a_file_from_before_fuzz_seeds_still_imports(owner):
    deck = Deck.objects.create(owner=owner, name="Old file")
    study(owner, [Card.objects.create(deck=deck, question="Q", answer="A", position=0)])
    data = export_user_data(owner)
    for log in data["review_logs"]:
        del log["fuzz_seed"]
    newcomer = make_user("zed")
    import_user_data(newcomer, parse_user_data(json.dumps(data, default=str).encode()))
    assert ReviewLog.objects.filter(user=newcomer, fuzz_seed="").count() == 6


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (7, "review_logs[0].fuzz_seed: expected text, found 7"),
        ("9" * 65, "review_logs[0].fuzz_seed: longer than 64 characters"),
    ],
)
def test_a_bad_fuzz_seed_is_named_and_nothing_is_imported(owner, seed, message):
    deck = Deck.objects.create(owner=owner, name="Bad seed")
    study(owner, [Card.objects.create(deck=deck, question="Q", answer="A", position=0)])
    data = export_user_data(owner)
    data["review_logs"][0]["fuzz_seed"] = seed
    newcomer = make_user("zed")
    with pytest.raises(TransferError) as error:
        import_user_data(newcomer, parse_user_data(json.dumps(data, default=str).encode()))
    assert str(error.value) == message
    assert not Deck.objects.filter(owner=newcomer).exists()
    assert not MemoryState.objects.filter(user=newcomer).exists()
    assert not ReviewLog.objects.filter(user=newcomer).exists()


def test_a_merge_replays_to_the_same_schedules(owner, staff):
    deck = Deck.objects.create(owner=None, name="Site deck", is_public=True)
    pairs = [
        (
            Card.objects.create(deck=deck, question=f"Kept {i}", answer="A", position=2 * i),
            Card.objects.create(deck=deck, question=f"Copy {i}", answer="A", position=2 * i + 1),
        )
        for i in range(6)
    ]
    study(owner, [removed for _, removed in pairs])  # the history is on the copies
    before = states(owner)
    for kept, removed in pairs:
        merge_cards(kept, removed)
    assert states(owner) == before
    assert rebuild_states(owner, dry_run=True) == 0
