"""The /stats/ view: access, methods, the htmx path and a query count that ignores history size."""

import html as html_lib
import json
import re
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


def test_it_shows_every_section(owner_client, history, stats_at_now):
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


def test_every_chart_has_a_table_with_its_numbers(owner_client, history, stats_at_now):
    """Without JavaScript (or a screen) each chart's figures are readable in a table."""
    html = owner_client.get(URL).content.decode()
    sections = {}  # heading id -> {"chart": bool, "tables": [[[cell, ...], ...], ...]}
    for part in html.split('<section class="stats-section" aria-labelledby="')[1:]:
        name, body = part.split('"', 1)
        body = body.split("</section>", 1)[0]
        tables = [
            [
                [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in cells]
                for cells in (
                    re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
                    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
                )
            ]
            for table in re.findall(r"<table[^>]*>(.*?)</table>", body, re.S)
        ]
        sections[name] = {"chart": "<canvas" in body or "<svg" in body, "tables": tables}

    assert set(sections) == {
        "stats-heatmap-h",
        "stats-forecast-h",
        "stats-retention-h",
        "stats-mastery-h",
        "stats-memory-h",
        "stats-calibration-h",
    }
    for name, section in sections.items():
        assert section["chart"], name
        assert section["tables"] and all(len(t) > 1 for t in section["tables"]), name

    def rows(name, table=0):
        return sections[name]["tables"][table][1:]  # without the header row

    # Reviews per study day in Berlin: only the days with reviews.
    assert rows("stats-heatmap-h") == [
        ["Sat 10 Oct 2026", "2"],
        ["Tue 24 Nov 2026", "1"],
        ["Thu 26 Nov 2026", "1"],
        ["Fri 27 Nov 2026", "2"],
        ["Sat 28 Nov 2026", "2"],
    ]
    forecast = rows("stats-forecast-h")
    assert len(forecast) == 30
    assert forecast[:4] == [
        ["Sat 28 Nov", "3"],  # A2 overdue, A3 and A4
        ["Sun 29 Nov", "0"],
        ["Mon 30 Nov", "1"],
        ["Tue 1 Dec", "1"],
    ]
    assert sum(int(n) for _, n in forecast) == 5

    weekly, monthly = rows("stats-retention-h", 0), rows("stats-retention-h", 1)
    assert len(weekly) == 26 and len(monthly) == 12
    assert weekly[-1] == ["Nov 23", "4", "3", "75.0%"]
    assert ["Oct 5", "1", "0", "0.0%"] in weekly
    assert monthly[-2:] == [["Oct 2026", "1", "0", "0.0%"], ["Nov 2026", "4", "3", "75.0%"]]
    assert monthly[0] == ["Dec 2025", "0", "0", "–"]

    assert rows("stats-mastery-h") == [
        ["Alpha", "60% (3 of 5)", "1", "2", "2"],
        ["Beta", "50% (1 of 2)", "1", "0", "1"],
    ]

    stability, difficulty = rows("stats-memory-h", 0), rows("stats-memory-h", 1)
    assert [n for _, n in stability] == ["1", "1", "1", "1", "0", "0", "0", "0", "1", "0"]
    assert stability[0] == ["under 1 day", "1"] and stability[8] == ["1–2 years", "1"]
    assert [n for _, n in difficulty] == ["1", "1", "0", "0", "1", "0", "1", "0", "1"]
    assert difficulty[-1] == ["9–10", "1"]

    assert rows("stats-calibration-h") == [
        ["0.3–0.4", "1", "35.0%", "100.0%"],
        ["0.5–0.6", "1", "55.0%", "0.0%"],
        ["0.7–0.8", "1", "75.0%", "100.0%"],
        ["0.8–0.9", "1", "85.0%", "0.0%"],
        ["0.9–1.0", "2", "93.5%", "100.0%"],
    ]
