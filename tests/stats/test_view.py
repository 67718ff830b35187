"""The /stats/ view: access, methods, the htmx path and a query count that ignores history size."""

import html as html_lib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings

pytestmark = pytest.mark.django_db
URL = "/stats/"


def test_the_url_is_named():
    assert reverse("stats") == URL


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_rejects_post(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_shows_every_section(owner_client, history):
    response = owner_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="stats-heatmap"' in html
    for name in [
        "forecast",
        "retention-weekly",
        "retention-monthly",
        "mastery",
        "stability",
        "difficulty",
        "calibration",
    ]:
        assert f'<canvas data-chart="{name}"' in html
    assert '<div id="stats-data" hidden data-stats="{&quot;' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/stats.js" in html
    assert 'style="' not in html
    assert html.count('class="hm hm-') == 370
    data = response.context["chart_data"]
    assert data["forecast"]["counts"][:4] == [3, 0, 1, 1]
    assert data["mastery"]["labels"] == ["Alpha", "Beta"]


def test_another_users_data_never_appears(owner_client, history):
    html = owner_client.get(URL).content.decode()
    assert "Bob&#x27;s secret deck" not in html and "Bob's secret deck" not in html
    payload = json.loads(html_lib.unescape(html.split('data-stats="')[1].split('"')[0]))
    assert payload["mastery"]["labels"] == ["Alpha", "Beta"]
    assert "<dd>9</dd>" in html  # alice's 9 reviews, not bob's 18


def test_another_users_private_deck_is_a_404(owner_client, history):
    assert owner_client.get(URL, {"deck": history["bobs"].pk}).status_code == 404
    assert owner_client.get(URL, {"deck": "nope"}).status_code == 404
    assert owner_client.get(URL, {"deck": 999999}).status_code == 404


def test_a_public_deck_is_a_filter(owner_client, history):
    response = owner_client.get(URL, {"deck": history["beta"].pk})
    assert response.status_code == 200
    assert response.context["stats"].totals["reviews"] == 1


def test_htmx_gets_only_the_body(owner_client, history):
    response = owner_client.get(URL, {"deck": history["alpha"].pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Deck <strong>Alpha" in html
    assert '<div id="stats-data" hidden data-stats=' in html
    restore = owner_client.get(
        URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def make_history(user, reviews: int):
    """`reviews` reviews spread over 200 cards and the last 300 days, with memory states.

    300 days keeps the streak inside the heatmap's year: only a longer streak costs one more
    query (the study days before the window).
    """
    StudySettings.objects.create(user=user, timezone="America/New_York", day_start_hour=4)
    deck = Deck.objects.create(owner=user, name="Bulk")
    cards = Card.objects.bulk_create(
        Card(deck=deck, question=f"q{i}", answer="a", position=i) for i in range(200)
    )
    now = datetime.now(UTC)
    ReviewLog.objects.bulk_create(
        ReviewLog(
            user=user,
            card=cards[i % 200],
            deck=deck,
            rating=3,
            grade=1 + i % 4,
            reviewed_at=now - timedelta(hours=i * 300 * 24 / reviews),
            duration_ms=5000,
            state_before=i % 4,
            retrievability=(i % 100) / 100,
            elapsed_days=i % 3,
            state_after=2,
            due_after=now,
        )
        for i in range(reviews)
    )
    MemoryState.objects.bulk_create(
        MemoryState(
            user=user,
            card=card,
            deck=deck,
            state=1 + i % 3,
            stability=0.5 + i,
            difficulty=1 + i % 10,
            due=now + timedelta(days=i % 40 - 5),
            last_review=now - timedelta(days=i % 20),
        )
        for i, card in enumerate(cards[: min(200, reviews)])
    )
    return deck


@pytest.mark.parametrize("reviews", [10, 2000])
def test_query_count_does_not_grow_with_history(
    owner_client, owner, reviews, django_assert_num_queries
):
    deck = make_history(owner, reviews)
    # Expect 9 queries: session, user (with study settings); then the 6 statistics queries: reviews
    # per study day (last year), totals and calibration bins (one pass over all reviews),
    # forecast, memory states per deck, decks with answered counts, cards studied and
    # distributions; and the decks for the filter's select.
    with django_assert_num_queries(9) as captured:
        response = owner_client.get(URL)
    assert response.context["stats"].totals["reviews"] == reviews
    # SQLite groups by study day with its own date(): no Python function runs per review.
    assert not any("studyapp_study_day" in q["sql"] for q in captured.captured_queries)
    # With a deck filter: one more, the deck itself.
    with django_assert_num_queries(10):
        owner_client.get(URL, {"deck": deck.pk})


def test_a_poor_fit_with_enough_history_links_to_the_optimiser(owner_client, owner, history):
    card = history["cards"][5]
    ReviewLog.objects.bulk_create(
        ReviewLog(
            user=owner,
            card=card,
            deck=card.deck,
            rating=1,
            grade=1,
            reviewed_at=datetime(2026, 9, 1, tzinfo=UTC) + timedelta(minutes=i),
            state_before=2,
            retrievability=0.9,
            elapsed_days=3,
            state_after=2,
            due_after=datetime(2026, 9, 2, tzinfo=UTC),
        )
        for i in range(400)
    )
    html = owner_client.get(URL).content.decode()
    assert "run the optimiser" in html and f'href="{reverse("settings")}"' in html


def test_few_reviews_say_how_many_the_optimiser_needs(owner_client, history):
    html = owner_client.get(URL).content.decode()
    assert "Once you have 400 such reviews" in html and "run the optimiser" not in html
