"""Query budgets: each page makes the same number of queries with 10 and with 5,000 cards.

The collection is built the same way at both sizes (bulk_create, Markdown rendered once per
text): the user's two decks plus a public deck of someone else's, a third of the cards
reviewed (mostly due in the future, some due today, one learning card due later today), three
logs per reviewed card of which one is today's. So every page takes the same branches at both
sizes, and a count that grows is an N+1.

The counts are exact. SAVEPOINT/RELEASE pairs are counted by the test client inside the test
transaction (they are BEGIN/COMMIT in production and not counted there).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.markdown import render_markdown
from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
SIZES = [10, 5000]
HTMX = {"HTTP_HX_REQUEST": "true"}


def build(owner, n_cards: int) -> dict:
    """The owner's decks, a public deck, memory states and review logs (see the docstring)."""
    StudySettings.objects.create(user=owner, new_cards_per_day=50, reviews_per_day=500)
    other = make_user("publisher")
    decks = [
        Deck.objects.create(owner=owner, name="Mine A"),
        Deck.objects.create(owner=owner, name="Mine B"),
        Deck.objects.create(owner=other, name="Shared", is_public=True),
        Deck.objects.create(owner=other, name="Private of another"),
    ]
    q_html, a_html = render_markdown("What is **this**?"), render_markdown("That.")
    cards = [
        Card(
            deck=decks[i % 3],
            question="What is **this**?",
            answer="" if i % 17 == 5 else "That.",
            question_html=q_html,
            answer_html="" if i % 17 == 5 else a_html,
            position=i,
        )
        for i in range(n_cards)
    ] + [Card(deck=decks[3], question="Hidden", answer="x", position=0)]
    Card.objects.bulk_create(cards, batch_size=1000)
    now = timezone.now()
    last = now - timedelta(minutes=30)
    studied = [card for card in cards if card.answer][: max(6, n_cards // 3)]
    memories, logs = [], []
    for i, card in enumerate(studied):
        learning = i == 0
        due = now + timedelta(hours=2) if learning else now + timedelta(days=1 + i % 30)
        if i in (1, 2, 3):
            due = now - timedelta(days=1)  # reviews due today, one in each deck
        memories.append(
            MemoryState(
                user=owner,
                card=card,
                deck=card.deck,
                state=1 if learning else 2,
                step=0 if learning else None,
                stability=0.5 if learning else 5.0 + i % 20,
                difficulty=5.0,
                due=due,
                last_review=last,
                reps=3,
                version=3,
            )
        )
        for k, when in enumerate((now - timedelta(days=20), now - timedelta(days=9))):
            logs.append(_log(owner, card, when, state_before=0 if k == 0 else 2))
        snapshot = {"exists": True, "state": 2, "step": None, "stability": 4.0, "difficulty": 5.0}
        snapshot |= {"due": last.isoformat(), "last_review": (now - timedelta(days=9)).isoformat()}
        snapshot |= {"reps": 2, "lapses": 0, "version": 2}
        # A few reviews today (so undo has one); more would use up the daily review limit
        # and take the queue down another path than with few cards.
        when = last if i < 6 else now - timedelta(days=2)
        logs.append(_log(owner, card, when, state_before=2, before=snapshot))
    MemoryState.objects.bulk_create(memories, batch_size=1000)
    ReviewLog.objects.bulk_create(logs, batch_size=1000)
    return {"decks": decks, "cards": cards}


def _log(user, card, when, state_before, before=None):
    return ReviewLog(
        user=user,
        card=card,
        deck=card.deck,
        rating=4,
        grade=3,
        reviewed_at=when,
        duration_ms=4000,
        state_before=state_before,
        before=before or {"exists": False},
        elapsed_days=3,
        retrievability=0.9 if state_before else None,
        state_after=2,
        stability_after=5.0,
        difficulty_after=5.0,
        due_after=when + timedelta(days=3),
    )


def _token(response) -> str:
    text = response.content.decode()
    marker = 'name="token" value="'
    assert marker in text, "the study page shows no card"
    return text.split(marker, 1)[1].split('"', 1)[0]


@pytest.fixture(params=SIZES, ids=lambda n: f"{n}cards")
def collection(request, owner, owner_client):
    return build(owner, request.param)


def test_dashboard(owner_client, collection, django_assert_num_queries):
    # session, user (with study settings), decks visible with card counts (+owner), today's log
    # counts, memory-state counts grouped by deck, new-card counts grouped by deck, all decks'
    # counts as the study-all page counts them (its snapshot: issue 15).
    with django_assert_num_queries(7):
        response = owner_client.get("/")
    assert response.status_code == 200


def test_deck_page(owner_client, collection, django_assert_num_queries):
    deck = collection["decks"][0]
    # session, user, the deck (visible to the user), its cards, card count, needing-answer count,
    # the deck's study queue snapshot (due and new counts) and its cards in learning (issue 15).
    with django_assert_num_queries(8):
        response = owner_client.get(f"/decks/{deck.pk}/")
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/study/", "deck"])
def test_study_page(owner_client, collection, url, django_assert_num_queries):
    deck_url = f"/decks/{collection['decks'][0].pk}/study/"
    url = deck_url if url == "deck" else url
    # session, user (with study settings), [the deck], the queue's snapshot (today's logs,
    # learning and review cards due, new cards, the first card due: a review), that review
    # card's memory state with its card and deck.
    expected = 4 if url == "/study/" else 5
    with django_assert_num_queries(expected):
        response = owner_client.get(url)
    assert response.status_code == 200
    _token(response)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_review_post(owner_client, collection, htmx, django_assert_num_queries):
    token = _token(owner_client.get("/study/"))
    data = {"token": token, "rating": "4", "duration_ms": "3000"}
    headers = HTMX if htmx else {}
    # session, user (with study settings), the memory state with its card (visible; at the
    # token's version, so the token is unused), SAVEPOINT, memory UPDATE where the version is
    # unchanged, log INSERT, RELEASE = 7, then the plain POST redirects. htmx renders the next
    # card: the queue's snapshot, the first card due with its card and deck = 9.
    expected = 9 if htmx else 7
    with django_assert_num_queries(expected):
        response = owner_client.post("/study/review/", data, **headers)
    assert response.status_code == (200 if htmx else 302)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_undo(owner_client, collection, htmx, django_assert_num_queries):
    headers = HTMX if htmx else {}
    # session, user, the newest card action (none: Z undoes the newest of it and the last
    # review), SAVEPOINT, latest log, its memory state FOR UPDATE, log DELETE, memory UPDATE
    # (restored from the log's snapshot), RELEASE = 9, then the plain POST redirects.
    # htmx shows the undone card again: the queue's snapshot, the card (visible, studyable),
    # its memory state = 12.
    expected = 12 if htmx else 9
    with django_assert_num_queries(expected):
        response = owner_client.post("/study/undo/", **headers)
    assert response.status_code == (200 if htmx else 302)


def test_stats_page(owner_client, collection, django_assert_num_queries):
    # session, user (with study settings), reviews per study day, retention by retrievability
    # bin, memory-state summary, due forecast by day, states by deck, decks with card counts,
    # the deck picker.
    with django_assert_num_queries(9):
        response = owner_client.get("/stats/")
    assert response.status_code == 200


def test_cards_needing_an_answer_are_counted_from_their_partial_index(collection):
    """SQLite uses card_deck_needs_answer only if `answer = ''` is a literal (answer__empty)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's query plans")
    sql, params = Deck.objects.with_card_counts().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(row[3] for row in cursor.fetchall())
    assert "card_deck_needs_answer" in plan, plan
    assert Card.objects.needing_answer().count() == Card.objects.filter(answer="").count() > 0
