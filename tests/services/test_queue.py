import random
from datetime import timedelta

import pytest

from cards.models import Card, Deck, MemoryState
from cards.services.queue import (
    QueueCounts,
    StudyQueue,
    deck_queue_counts,
    next_card,
    next_due_at,
    queue_counts,
    studied_today,
)
from cards.services.settings import get_study_settings
from tests.conftest import make_user

from .conftest import answer, local, make_cards

NOW = local(2026, 6, 10, 15, 0)  # a Wednesday afternoon in New York


def memory(user, card, state, due, **fields):
    defaults = dict(step=0, stability=3.0, difficulty=5.0, last_review=due - timedelta(days=3))
    defaults["reps"] = 2
    defaults.update(fields)
    return MemoryState.objects.create(
        user=user, card=card, deck=card.deck, state=state, due=due, **defaults
    )


def drain(user, deck=None, now=NOW, limit=50):
    """Answer Good to whatever the queue offers until it is empty; the kinds and cards seen."""
    seen = []
    for _ in range(limit):
        item = next_card(user, deck, now=now)
        if item is None:
            return seen
        seen.append((item.kind, item.card.question))
        answer(user, item.card, 4, now)
    raise AssertionError("the queue never ended")


def test_order_learning_then_reviews_due_today_then_new_in_deck_order(learner, deck):
    cards = {card.question: card for card in make_cards(deck, 10)}
    memory(learner, cards["Q0"], 1, NOW - timedelta(minutes=1))  # learning, due now
    memory(learner, cards["Q1"], 3, NOW - timedelta(minutes=5))  # relearning, due earlier
    memory(learner, cards["Q2"], 1, NOW + timedelta(minutes=5))  # learning, not yet
    memory(learner, cards["Q3"], 2, local(2026, 6, 10, 4))  # review due today
    memory(learner, cards["Q4"], 2, local(2026, 6, 8, 4))  # review overdue
    memory(learner, cards["Q5"], 2, local(2026, 6, 11, 4))  # review due tomorrow
    Card.objects.filter(pk=cards["Q6"].pk).update(answer="")  # blank: never queued
    Card.objects.filter(pk=cards["Q7"].pk).update(suspended=True)  # suspended: never queued
    Card.objects.filter(pk=cards["Q9"].pk).update(position=1)  # deck order, not creation
    # Q2 is due within the learn-ahead limit (20 minutes): counted, as Anki counts it.
    assert queue_counts(learner, now=NOW) == QueueCounts(learning=3, review=2, new=2)
    settings = get_study_settings(learner)
    settings.learn_ahead_minutes = 0
    settings.save()
    assert queue_counts(learner, now=NOW) == QueueCounts(learning=2, review=2, new=2)

    assert drain(learner) == [
        ("learning", "Q1"),
        ("learning", "Q0"),
        ("review", "Q4"),
        ("review", "Q3"),
        ("new", "Q9"),
        ("new", "Q8"),
    ]
    # Q2 falls due in 5 minutes; the new cards answered Good wait for their second step.
    assert next_due_at(learner, now=NOW) == NOW + timedelta(minutes=5)
    assert studied_today(learner, now=NOW) == 6
    assert queue_counts(learner, now=NOW).total == 0


def test_learning_cards_due_within_the_learn_ahead_limit_come_last_instead_of_done(learner, deck):
    cards = {card.question: card for card in make_cards(deck, 2)}
    memory(learner, cards["Q0"], 1, NOW + timedelta(minutes=3))  # learning, due in 3 minutes
    memory(learner, cards["Q1"], 1, NOW + timedelta(minutes=25))  # beyond the limit
    assert queue_counts(learner, now=NOW) == QueueCounts(learning=1, review=0, new=0)
    assert deck_queue_counts(learner, [deck], now=NOW)[deck.pk] == queue_counts(learner, now=NOW)
    item = next_card(learner, now=NOW)
    assert (item.kind, item.card) == ("learning", cards["Q0"])  # not "All done"
    [new] = make_cards(deck, 1, start=2)
    assert next_card(learner, now=NOW).card == new  # anything else due comes first


def test_daily_limits_count_by_study_day_in_the_users_time_zone(learner, deck):
    settings = get_study_settings(learner)
    settings.learn_ahead_minutes = 0  # the drains below stop at the learning steps not yet due
    settings.new_cards_per_day = 2
    settings.reviews_per_day = 3
    settings.save()
    cards = make_cards(deck, 6)
    memory(learner, cards[0], 2, local(2026, 6, 9, 4))
    memory(learner, cards[1], 2, local(2026, 6, 9, 4), stability=4.0)
    evening = local(2026, 6, 10, 23, 30)
    # As in Anki, new cards also use up the review limit: one review slot is left for them.
    assert queue_counts(learner, now=evening) == QueueCounts(learning=0, review=2, new=1)
    assert [kind for kind, _ in drain(learner, now=evening)] == ["review", "review", "new"]
    assert queue_counts(learner, now=evening).total == 0

    # 03:30 the next morning is still the same study day: nothing new, no more reviews.
    night = local(2026, 6, 11, 3, 30)
    assert next_card(learner, now=night).kind == "learning"  # the new cards' steps are due
    drain(learner, now=night)
    assert next_card(learner, now=night) is None
    # At 04:01 a new study day begins: two more new cards.
    morning = local(2026, 6, 11, 4, 1)
    counts = queue_counts(learner, now=morning)
    assert (counts.review, counts.new) == (0, 2)
    assert next_card(learner, now=morning).card == cards[3]
    assert studied_today(learner, now=morning) == 0
    assert studied_today(learner, deck, now=evening) == 4  # 3 in the evening, 1 at night


def test_day_learning_uses_the_review_limit_and_counts_as_learning(learner, deck):
    settings = get_study_settings(learner)
    settings.learn_ahead_minutes = 0
    settings.reviews_per_day = 2
    settings.save()
    cards = make_cards(deck, 5)
    today = local(2026, 6, 10, 4)  # the study day's start: a day-learning card is due then
    memory(learner, cards[0], 1, today, step=1)  # day learning, on its last step
    memory(learner, cards[1], 2, local(2026, 6, 9, 4))
    memory(learner, cards[2], 2, local(2026, 6, 9, 4))
    memory(learner, cards[3], 1, NOW - timedelta(minutes=1))  # intraday: never limited
    # Day learning takes the first review slot (and is counted as learning), reviews the rest,
    # nothing is left for new cards (rslib decks/tree.rs NodeCountsV3::capped).
    assert queue_counts(learner, now=NOW) == QueueCounts(learning=2, review=1, new=0)
    assert deck_queue_counts(learner, [deck], now=NOW)[deck.pk] == queue_counts(learner, now=NOW)
    assert next_card(learner, now=NOW).card == cards[3]  # intraday learning comes first
    answer(learner, cards[3], 4, NOW)
    assert next_card(learner, now=NOW).card == cards[0]
    # Answering a day-learning card uses up the review limit, as a review does in Anki.
    answer(learner, cards[0], 4, NOW)
    assert queue_counts(learner, now=NOW) == QueueCounts(learning=0, review=1, new=0)
    settings.reviews_per_day = 1
    settings.save()
    assert queue_counts(learner, now=NOW) == QueueCounts(learning=0, review=0, new=0)


def test_limits_are_per_user_and_per_deck_queues_share_them(learner, deck):
    settings = get_study_settings(learner)
    settings.new_cards_per_day = 1
    settings.save()
    other_deck = Deck.objects.create(owner=learner, name="French")
    make_cards(deck, 2)
    make_cards(other_deck, 2)
    answer(learner, next_card(learner, deck, now=NOW).card, 4, NOW)
    assert next_card(learner, other_deck, now=NOW) is None  # the limit is the user's, per day
    someone = make_user("dora")
    assert next_card(someone, deck, now=NOW).kind == "new"  # another user has their own


def test_blank_card_enters_every_queue_once_answered_without_touching_states(owner, other, staff):
    deck = Deck.objects.create(owner=None, name="Site deck", is_public=True)
    first, blank = make_cards(deck, 2)
    Card.objects.filter(pk=blank.pk).update(answer="")
    for user in (owner, other):
        answer(user, first, 4, NOW)
    states = list(MemoryState.objects.order_by("pk").values())
    # Only a blank card left: the queue offers the learning card ahead (learn-ahead), no more.
    assert next_card(owner, now=NOW + timedelta(minutes=1)).card == first
    assert next_card(owner, now=NOW + timedelta(minutes=1), deck=deck).card == first
    assert queue_counts(owner, now=NOW + timedelta(minutes=1)) == QueueCounts(learning=1)

    blank.refresh_from_db()
    blank.answer = "Now answered"
    blank.save()
    for user in (owner, other):
        item = next_card(user, now=NOW + timedelta(minutes=1))
        assert (item.card, item.kind, item.memory) == (blank, "new", None)
    assert list(MemoryState.objects.order_by("pk").values()) == states


def test_other_users_states_and_private_decks_stay_out(learner, deck, other):
    make_cards(deck, 3)
    assert next_card(other, now=NOW) is None  # alice's deck is private
    public = Deck.objects.create(owner=other, name="Bob's public", is_public=True)
    [card] = make_cards(public, 1)
    memory(other, card, 1, NOW - timedelta(hours=1))
    # Bob's learning card is not alice's: for her it is a new card, after her own deck's.
    counts = deck_queue_counts(learner, [deck, public], now=NOW)
    assert counts == {
        deck.pk: QueueCounts(learning=0, review=0, new=3),
        public.pk: QueueCounts(learning=0, review=0, new=1),
    }
    assert next_card(learner, public, now=NOW).kind == "new"
    assert next_card(other, now=NOW).kind == "learning"


def test_deck_queue_counts_apply_the_daily_limits_to_each_deck(learner, deck):
    settings = get_study_settings(learner)
    settings.new_cards_per_day = 5
    settings.save()
    other_deck = Deck.objects.create(owner=learner, name="French")
    make_cards(deck, 8)
    make_cards(other_deck, 3)
    assert deck_queue_counts(learner, [deck, other_deck], now=NOW) == {
        deck.pk: QueueCounts(new=5),
        other_deck.pk: QueueCounts(new=3),
    }
    assert deck_queue_counts(learner, [], now=NOW) == {}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_study_pages_sql_counts_what_the_dashboards_querysets_count(learner, deck, other, seed):
    """StudyQueue's snapshot and deck_queue_counts' per-deck statements count the queue in two
    ways; on a mixed collection they agree for every deck and for all decks together."""
    rng = random.Random(seed)
    settings = get_study_settings(learner)
    settings.new_cards_per_day = 1000  # no limit hides a difference
    settings.save()
    public = Deck.objects.create(owner=other, name="Bob's public", is_public=True)
    private = Deck.objects.create(owner=other, name="Bob's private")
    decks = [deck, Deck.objects.create(owner=learner, name="French"), public, private]
    for target in decks:
        for card in make_cards(target, 30):
            Card.objects.filter(pk=card.pk).update(
                answer="" if rng.random() < 0.1 else card.answer,
                suspended=rng.random() < 0.1,
            )
            for user in (learner, other):
                state = rng.choice([None, None, 0, 1, 2, 2, 3])
                if state is not None:
                    due = NOW + timedelta(hours=rng.randint(-72, 72))
                    memory(user, card, state, due)
    visible = decks[:3]
    by_deck = deck_queue_counts(learner, visible, now=NOW)
    for target in visible:
        assert StudyQueue(learner, target, now=NOW).counts() == by_deck[target.pk], target
    total = StudyQueue(learner, now=NOW).counts()
    assert total.learning == sum(counts.learning for counts in by_deck.values())
    assert total.review == sum(counts.review for counts in by_deck.values())
    assert total.new == sum(counts.new for counts in by_deck.values())
    assert total.total > 0


@pytest.fixture
def sized_queue(learner, deck, request):
    """`request.param` cards, a third of them with memory states not due, plus one of each kind
    of due card, all made with bulk_create."""
    size = request.param
    cards = make_cards(deck, size)
    not_due = NOW + timedelta(days=5)
    MemoryState.objects.bulk_create(
        MemoryState(
            user=learner,
            card=card,
            deck=deck,
            state=2,
            due=not_due,
            stability=9.0,
            difficulty=5.0,
            last_review=NOW - timedelta(days=3),
            reps=3,
        )
        for card in cards[3::3]
    )
    return cards


CASES = [pytest.param(n, id=f"{n}-cards") for n in (10, 5000)]


@pytest.mark.parametrize("sized_queue", CASES, indirect=True)
def test_next_card_query_count_does_not_grow_with_cards(
    learner, deck, sized_queue, django_assert_num_queries
):
    get_study_settings(learner)  # cached on the user object, as within one request
    # 1. the queue's snapshot (today's logs, due and new counts, first cards due: none),
    # 2. the first new card (NOT EXISTS), 3. that card with its deck.
    with django_assert_num_queries(3):
        assert next_card(learner, now=NOW).kind == "new"
    with django_assert_num_queries(3):
        assert next_card(learner, deck, now=NOW).kind == "new"
    # A review card due today: 1. the snapshot names it, 2. it, with its card and deck.
    MemoryState.objects.filter(card=sized_queue[3]).update(due=NOW - timedelta(hours=1))
    with django_assert_num_queries(2):
        assert next_card(learner, now=NOW).kind == "review"
    # A learning card due: the same two.
    MemoryState.objects.filter(card=sized_queue[6]).update(state=1, due=NOW)
    with django_assert_num_queries(2):
        assert next_card(learner, now=NOW).kind == "learning"
    # queue_counts: the snapshot.
    with django_assert_num_queries(1):
        queue_counts(learner, now=NOW)
    # deck_queue_counts: the same three queries, grouped by deck.
    with django_assert_num_queries(3):
        deck_queue_counts(learner, [deck], now=NOW)
    with django_assert_num_queries(1):
        next_due_at(learner, now=NOW)


@pytest.mark.parametrize("sized_queue", CASES, indirect=True)
def test_one_study_queue_answers_a_page_with_three_queries(
    learner, deck, sized_queue, django_assert_num_queries
):
    get_study_settings(learner)
    new = len(sized_queue) - len(sized_queue[3::3])  # a third have memory states
    # The next card is new: 1. the snapshot (today's logs, due and new counts, first cards
    # due: none), 2. the first new card, 3. that card with its deck.
    with django_assert_num_queries(3):
        queue = StudyQueue(learner, now=NOW)
        assert queue.next_card().kind == "new"
        assert queue.counts() == QueueCounts(learning=0, review=0, new=min(new, 20))
        assert queue.studied == 0
        assert queue.next_card() is queue.next_card()
    # A review is next: 1. the snapshot, 2. the review card's state with its card and deck.
    MemoryState.objects.filter(card=sized_queue[3]).update(due=NOW - timedelta(hours=1))
    with django_assert_num_queries(2):
        queue = StudyQueue(learner, now=NOW)
        assert queue.next_card().card == sized_queue[3]
        assert queue.counts() == QueueCounts(learning=0, review=1, new=min(new, 20))
    assert queue.counts() == queue_counts(learner, now=NOW)


@pytest.mark.parametrize("sized_queue", CASES, indirect=True)
def test_empty_queue_query_count_does_not_grow_with_cards(
    learner, deck, sized_queue, django_assert_num_queries
):
    Card.objects.filter(deck=deck).update(suspended=True)
    learner = type(learner).objects.get(pk=learner.pk)  # a fresh request: settings not cached
    # 1. settings, 2. the snapshot (nothing due, no new card).
    with django_assert_num_queries(2):
        assert next_card(learner, now=NOW) is None


BIG_TABLES = ("cards_card", "cards_memorystate", "cards_reviewlog", "c", "m", "U0")


@pytest.mark.parametrize("sized_queue", [5000], indirect=True)
def test_next_card_queries_are_index_searches(learner, deck, sized_queue):
    """On SQLite, EXPLAIN QUERY PLAN: no query of next_card reads a whole table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's query plans")
    get_study_settings(learner)
    with CaptureQueriesContext(connection) as captured:
        for user_deck in (None, deck):
            next_card(learner, user_deck, now=NOW)
    assert len(captured) == 6
    for query in captured:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            steps = [row[3] for row in cursor.fetchall()]
        for step in steps:
            # No full scan of a big table (by name or by the queue SQL's aliases); a "SCAN …
            # USING INDEX" walks an index in order and stops at the first match. Scans of
            # one-row derived tables (done, due) and of the deck list are fine.
            words = step.split()
            if words[0] == "SCAN" and words[1] in BIG_TABLES:
                assert "USING" in words and "INDEX" in words, (query["sql"], steps)
