"""The statistics page in Chromium: every chart draws, the deck filter swaps them, no JS errors.

Set SCREENSHOTS=1 to refresh docs/screenshots/stats.png; otherwise the screenshot goes to
tests/artifacts/.
"""

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CANVASES = [
    "forecast",
    "retention-weekly",
    "retention-monthly",
    "mastery",
    "stability",
    "difficulty",
    "calibration",
]


def make_history(user):
    """Three decks and ~6 months of daily study with a believable spread of outcomes."""
    from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings

    StudySettings.objects.create(user=user, timezone="Europe/Berlin", day_start_hour=4)
    now = datetime.now(UTC)
    decks = [
        Deck.objects.create(owner=user, name=name)
        for name in ("Generative AI basics", "Prompt engineering", "Transformers")
    ]
    logs, memories = [], []
    for d, deck in enumerate(decks):
        cards = Card.objects.bulk_create(
            Card(deck=deck, question=f"Question {i}", answer="Answer", position=i)
            for i in range(40 + 10 * d)
        )
        for i, card in enumerate(cards[: 30 + 5 * d]):
            stability = 0.6 * 1.35 ** (i % 22)
            memories.append(
                MemoryState(
                    user=user,
                    card=card,
                    deck=deck,
                    state=2 if i % 6 else 1,
                    stability=stability,
                    difficulty=1 + (i * 7 + d) % 90 / 10,
                    last_review=now - timedelta(days=(i * 3 + d) % 15),
                    due=now + timedelta(days=(i * 5 + d) % 33 - 2, hours=i % 7),
                )
            )
        for day in range(180):
            if (day * 7 + d) % 11 == 0:
                continue  # a few days off
            for k in range((day * 13 + d * 5) % 9 + 1):
                card = cards[(day + k) % len(cards)]
                r = 0.45 + ((day * 31 + k * 17 + d) % 55) / 100
                recalled = ((day * 7 + k * 3 + d) % 100) / 100 < r + 0.03
                logs.append(
                    ReviewLog(
                        user=user,
                        card=card,
                        deck=deck,
                        rating=4 if recalled else 1,
                        grade=3 if recalled else 1,
                        reviewed_at=now - timedelta(days=day, minutes=30 * k + 7 * d),
                        duration_ms=6000 + (k * 1500) % 9000,
                        state_before=2 if k % 4 else 1,
                        retrievability=r if k % 4 else None,
                        elapsed_days=1 + k % 5 if k % 4 else 0,
                        state_after=2,
                        due_after=now,
                    )
                )
    MemoryState.objects.bulk_create(memories)
    ReviewLog.objects.bulk_create(logs)
    return decks


def chart(name):
    return f'canvas[data-chart="{name}"]'


def wait_for_chart(page, canvas_id, timeout=10.0):
    """Poll from Python: page.wait_for_function evaluates strings in the page, which the CSP
    (script-src 'self', no eval) forbids."""
    deadline = time.monotonic() + timeout
    script = f"!!(window.Chart && Chart.getChart(document.querySelector('{chart(canvas_id)}')))"
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"{canvas_id} never drew"
        page.wait_for_timeout(50)


def canvas_sizes(page):
    return page.evaluate(
        """ids => ids.map(id => {
            const c = document.querySelector(`canvas[data-chart="${id}"]`);
            const chart = c && window.Chart && window.Chart.getChart(c);
            const points = chart ? chart.data.datasets[0].data.length : 0;
            return [id, c ? c.width : 0, c ? c.height : 0, points];
        })""",
        CANVASES,
    )


def test_every_chart_renders_and_the_deck_filter_redraws(page, live_server, owner, page_errors):
    decks = make_history(owner)
    log_in(page, live_server, "alice")
    page.click("nav >> text=Stats")
    page.wait_for_url(f"{live_server.url}/stats/")
    wait_for_chart(page, "calibration")

    for element_id, width, height, points in canvas_sizes(page):
        assert width > 0 and height > 0, element_id
        assert points > 0, element_id
    filled = page.locator("#stats-heatmap rect.hm:not(.hm-0)").count()
    assert filled > 100
    assert page.locator("#stats-heatmap rect.hm").count() >= 365

    folder = DOCS_SCREENSHOTS if os.environ.get("SCREENSHOTS") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "stats.png"), full_page=True)

    page.select_option("#stats-deck", str(decks[1].pk))
    page.wait_for_url(f"{live_server.url}/stats/?deck={decks[1].pk}")
    page.wait_for_selector("text=Deck Prompt engineering")
    wait_for_chart(page, "mastery")
    assert page.evaluate(
        "Chart.getChart(document.querySelector('canvas[data-chart=mastery]')).data.labels"
    ) == ["Prompt engineering"]
    for element_id, width, height, _ in canvas_sizes(page):
        assert width > 0 and height > 0, element_id
    assert page_errors == []


def test_the_page_works_in_dark_mode_on_a_phone(browser, live_server, owner, page_errors):
    make_history(owner)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, color_scheme="dark"
    )
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    try:
        log_in(page, live_server, "alice")
        page.goto(f"{live_server.url}/stats/")
        wait_for_chart(page, "forecast")
        # The charts took their colours from the dark palette's variables.
        color = page.evaluate("Chart.defaults.color")
        assert color == page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--muted').trim()"
        )
        assert color.lower() == "#a3a8b3"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        for element_id, width, height, _ in canvas_sizes(page):
            assert width > 0 and height > 0, element_id
        assert page_errors == []
    finally:
        context.close()
