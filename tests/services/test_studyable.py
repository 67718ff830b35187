"""MemoryState.studyable stays a true copy of its card (answered, not suspended) on every path
that changes a card or creates a memory state; the queue reads only the copy."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from cards.importers.revlog import import_revlog
from cards.models import Card, Deck, MemoryState, sync_studyable
from cards.services.curation import answer_card, merge_cards, set_suspended
from cards.services.queue import queue_counts
from cards.services.rebuild import rebuild_states
from cards.services.reviews import issue_review_token, record_review, undo_last_review
from cards.services.transfer import export_user_data, import_user_data
from tests.conftest import make_user

from .conftest import answer, local, make_cards

NOW = local(2026, 6, 10, 15, 0)


def mismatches() -> list[tuple[int, bool]]:
    """Memory states whose flag differs from their card: (card id, stored flag)."""
    return [
        (memory.card_id, memory.studyable)
        for memory in MemoryState.objects.select_related("card")
        if memory.studyable != memory.card.is_studyable
    ]


def due(user, when=NOW) -> int:
    counts = queue_counts(user, now=when)
    return counts.learning + counts.review


def flag(user, card) -> bool:
    return MemoryState.objects.get(user=user, card=card).studyable


@pytest.fixture
def studied(learner, deck):
    """Four cards, each reviewed once 40 days ago: all due now."""
    cards = make_cards(deck, 4)
    for card in cards:
        answer(learner, card, 4, NOW - timedelta(days=40))
    return cards


def test_suspending_and_blanking_through_the_queryset(learner, studied):
    first, second, third, _ = studied
    assert due(learner) == 4

    set_suspended(Card.objects.filter(pk=first.pk), True)  # the admin action
    Card.objects.filter(pk=second.pk).update(answer="")
    assert not flag(learner, first) and not flag(learner, second)
    assert due(learner) == 2

    set_suspended(Card.objects.filter(pk__in=[first.pk, second.pk]), False)
    assert flag(learner, first) and not flag(learner, second)  # still blank

    third.suspended = True
    Card.objects.bulk_update([third], ["suspended"])
    assert not flag(learner, third)
    assert mismatches() == []
    assert due(learner) == 2


def test_saving_a_card_copies_its_flag_only_when_it_changes(
    learner, studied, django_assert_num_queries
):
    card = Card.objects.get(pk=studied[0].pk)
    card.answer = ""
    card.save()
    assert not flag(learner, card)
    answer_card(card, "Filled again")  # the admin's fill-and-next
    assert flag(learner, card)
    card.suspended = True
    card.save(update_fields=["suspended"])
    assert not flag(learner, card)

    card = Card.objects.get(pk=card.pk)
    card.question = "Reworded"
    with django_assert_num_queries(1):  # the card's UPDATE alone: still suspended
        card.save()
    card.suspended = False  # not saved: update_fields leaves it out
    card.save(update_fields=["question"])
    assert not flag(learner, card)
    assert mismatches() == []

    created = Card.objects.create(deck=card.deck, question="New", answer="A")
    created.question = "New, reworded"
    # Known studyable since it was created: the card's UPDATE, and its Basic note's Front.
    with django_assert_num_queries(2):
        created.save()


def test_a_first_review_of_a_card_suspended_meanwhile_stores_it_unstudyable(learner, deck):
    (card,) = make_cards(deck, 1)
    token = issue_review_token(learner, card, None)
    Card.objects.filter(pk=card.pk).update(suspended=True)
    record_review(learner, token, 4, 1000, now=NOW)
    assert not flag(learner, card)
    assert due(learner, NOW + timedelta(days=30)) == 0

    undo_last_review(learner)  # keeps the row, in state NEW
    assert mismatches() == []


def test_merging_moves_states_onto_the_kept_cards_flag(learner, deck):
    kept, removed = make_cards(deck, 2)
    answer(learner, removed, 4, NOW)
    Card.objects.filter(pk=kept.pk).update(suspended=True)
    merge_cards(Card.objects.get(pk=kept.pk), Card.objects.get(pk=removed.pk))
    assert not flag(learner, kept)

    # A blank card that takes the removed card's answer becomes studyable, states and all.
    blank, other = make_cards(deck, 2, start=10)
    answer(learner, blank, 4, NOW)
    Card.objects.filter(pk=blank.pk).update(answer="")
    assert not flag(learner, blank)
    merge_cards(Card.objects.get(pk=blank.pk), Card.objects.get(pk=other.pk))
    assert flag(learner, blank)
    assert mismatches() == []


def test_imports_and_rebuilds_give_new_states_their_cards_flag(learner, deck, studied):
    Card.objects.filter(pk=studied[0].pk).update(suspended=True)

    # JSON import into another account: the suspended card comes with its state.
    other = make_user("dora")
    import_user_data(other, export_user_data(learner))
    copied = MemoryState.objects.filter(user=other).select_related("card")
    assert sorted(m.studyable for m in copied) == [False, True, True, True]

    # Revlog import onto a suspended card with no state yet.
    (fresh,) = make_cards(deck, 1, start=20, external_id="x1")
    Card.objects.filter(pk=fresh.pk).update(suspended=True)
    text = "card_id,review_time,review_rating,review_state,review_duration\n"
    text += "x1,1700000000000,3,0,5\n"
    import_revlog(text, learner, Deck.objects.get(pk=deck.pk))
    assert not flag(learner, fresh)

    # rebuild_states recreates a missing state from the logs.
    MemoryState.objects.filter(user=learner, card=fresh).delete()
    rebuild_states(learner)
    assert not flag(learner, fresh)
    assert mismatches() == []


def test_sync_and_the_migration_mend_stale_flags(learner, studied):
    Card.objects.filter(pk__in=[c.pk for c in studied[:2]]).update(suspended=True)
    MemoryState.objects.update(studyable=True)  # as if written behind the models' back
    assert len(mismatches()) == 2
    assert sync_studyable([studied[0].pk]) == 1
    assert len(mismatches()) == 1
    migration = importlib.import_module("cards.migrations.0006_memorystate_studyable")
    migration.copy_from_cards(apps, None)
    assert mismatches() == []
    MemoryState.objects.update(studyable=True)
    sync_studyable()
    assert mismatches() == []
