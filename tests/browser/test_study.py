"""The study page in a real browser: keyboard only, undo, a 360 px phone, page weight.

Set SCREENSHOTS=1 to refresh docs/screenshots/study.png (light) and study-dark.png; otherwise
the screenshots go to tests/artifacts/.
"""

import os
import re
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, log_in, sign_up

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TOKEN = "#study-card input[name=token]"
PAGE_BUDGET = 100 * 1024


@pytest.fixture
def seed_deck(db, seed_path):
    from django.core.management import call_command

    from cards.models import Deck

    call_command("import_deck", str(seed_path), "--public")
    return Deck.objects.get(name="Generative AI Flashcards")


def counters(page) -> dict:
    text = page.inner_text("#study-counts")
    return {kind: int(n) for n, kind in re.findall(r"(\d+)\s+(learning|to review|new)", text)}


def studied(page) -> int:
    return int(re.match(r"(\d+) of", page.inner_text("#study-progress-text")).group(1))


def wait_for_next_card(page, old_token):
    page.wait_for_function(
        "([selector, old]) => { const t = document.querySelector(selector);"
        " return !t || t.value !== old; }",
        arg=[TOKEN, old_token],
    )


def test_a_new_user_studies_five_cards_with_the_keyboard_and_undoes_one(
    page, live_server, seed_deck, page_errors
):
    from cards.models import Card, ReviewLog

    blank_ids = set(Card.objects.needing_answer().values_list("pk", flat=True))
    assert len(blank_ids) == 18
    sign_up(page, live_server, "dana")
    deck_row = page.get_by_role("row").filter(has_text="Generative AI Flashcards")
    deck_row.get_by_role("link", name="Study", exact=True).click()
    page.wait_for_selector("#study-card .study-item")
    before = counters(page)
    assert before == {"learning": 0, "to review": 0, "new": 20}  # the daily new-card limit

    shown = []
    for rating in ["3", "4", "1", "5", "4"]:
        card_id = int(page.get_attribute("#study-card .study-item", "data-card"))
        assert page.is_hidden("#study-answer")
        page.keyboard.press("Space")
        page.wait_for_selector("#study-answer", state="visible")
        assert page.inner_text("#study-answer-text").strip()  # never a blank answer
        token = page.input_value(TOKEN)
        page.keyboard.press(rating)
        wait_for_next_card(page, token)
        shown.append(card_id)

    # Focus is back on Show answer, and screen readers heard the new card.
    page.wait_for_function("() => document.activeElement?.id === 'study-reveal'")
    assert page.inner_text("#study-announce").startswith("Next card: ")
    assert not blank_ids & set(shown)
    assert len(set(shown)) == 5
    assert studied(page) == 5
    assert counters(page)["new"] == 15
    logs = ReviewLog.objects.filter(user__username="dana").order_by("reviewed_at")
    assert [log.rating for log in logs] == [3, 4, 1, 5, 4]
    assert all(log.duration_ms > 0 for log in logs)  # measured by study.js

    token = page.input_value(TOKEN)
    page.keyboard.press("z")
    wait_for_next_card(page, token)
    # The last card is back, unanswered, and the counters moved back.
    assert int(page.get_attribute("#study-card .study-item", "data-card")) == shown[-1]
    assert page.is_hidden("#study-answer")
    assert studied(page) == 4
    assert counters(page)["new"] == 16
    assert ReviewLog.objects.filter(user__username="dana").count() == 4
    assert page_errors == []


def test_the_four_grade_scale_on_keys_1_to_4_with_enter_to_reveal(
    page, live_server, owner, seed_deck, page_errors
):
    from cards.models import ReviewLog
    from cards.services.settings import get_study_settings

    settings = get_study_settings(owner)
    settings.rating_scale = "four"
    settings.save()
    log_in(page, live_server, owner.username)
    page.goto(f"{live_server.url}/study/")
    page.wait_for_selector("#study-card .study-item")
    page.keyboard.press("Enter")
    page.wait_for_selector("#study-answer", state="visible")
    labels = page.locator("#study-answer .rating-buttons .rating-num").all_inner_texts()
    assert labels == ["Again", "Hard", "Good", "Easy"]
    for key in ["4", "1", "3", "2"]:
        page.wait_for_selector("#study-answer", state="visible")
        token = page.input_value(TOKEN)
        page.keyboard.press(key)
        wait_for_next_card(page, token)
        page.wait_for_selector("#study-card .study-item")
        page.keyboard.press("Enter")
    page.keyboard.press("5")  # not a grade on this scale: nothing is sent
    page.wait_for_timeout(300)
    logs = ReviewLog.objects.filter(user=owner).order_by("reviewed_at")
    assert [(log.rating, log.grade, log.rating_scale) for log in logs] == [
        (4, 4, "four"),
        (1, 1, "four"),
        (3, 3, "four"),
        (2, 2, "four"),
    ]
    assert page_errors == []


def test_the_study_page_fits_a_360px_phone(mobile_page, live_server, owner, seed_deck, page_errors):
    page = mobile_page
    log_in(page, live_server, "alice")

    def no_horizontal_overflow():
        return page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )

    assert no_horizontal_overflow()  # the dashboard, and its deck table needs no scrolling
    assert page.evaluate(
        "[...document.querySelectorAll('.deck-table-wrap')]"
        ".every(w => w.scrollWidth <= w.clientWidth)"
    )
    page.goto(f"{live_server.url}/decks/{seed_deck.pk}/study/")
    assert no_horizontal_overflow()
    page.get_by_role("button", name="Show answer").click()
    assert page.is_visible("#study-answer")
    assert no_horizontal_overflow()
    token = page.input_value(TOKEN)
    page.get_by_role("button", name=re.compile(r"^4 Well: next in")).click()
    wait_for_next_card(page, token)
    assert studied(page) == 1
    assert no_horizontal_overflow()
    assert page_errors == []


def test_the_study_page_weighs_under_100_kb(page, live_server, owner, seed_deck, page_errors):
    log_in(page, live_server, "alice")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # count every byte

    page.goto(f"{live_server.url}/decks/{seed_deck.pk}/study/")
    page.wait_for_load_state("load")
    entries = page.evaluate(
        "[...performance.getEntriesByType('navigation'),"
        " ...performance.getEntriesByType('resource')].map(e => [e.name, e.transferSize])"
    )
    total = sum(size for _, size in entries)
    print(f"\nstudy page: {total / 1024:.1f} KB transferred in {len(entries)} responses")
    for name, size in entries:
        print(f"  {size / 1024:6.1f} KB  {name.removeprefix(live_server.url)}")
    assert all(name.startswith(live_server.url) for name, _ in entries)  # no other hosts
    assert 0 < total < PAGE_BUDGET
    assert page_errors == []


def test_screenshots_of_a_revealed_answer_in_light_and_dark(browser, live_server, owner, seed_deck):
    folder = DOCS_SCREENSHOTS if os.environ.get("SCREENSHOTS") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    for scheme, name in [("light", "study.png"), ("dark", "study-dark.png")]:
        context = browser.new_context(viewport={"width": 900, "height": 820}, color_scheme=scheme)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        try:
            log_in(page, live_server, "alice")
            page.goto(f"{live_server.url}/decks/{seed_deck.pk}/study/")
            page.keyboard.press("Space")
            page.wait_for_selector("#study-answer", state="visible")
            # What the screen shows: a full-page capture draws the pinned rating bar mid-page.
            page.screenshot(path=str(folder / name))
            assert errors == []
        finally:
            context.close()


def test_reveal_and_rate_work_without_javascript(browser, live_server, owner, seed_deck):
    from cards.models import ReviewLog

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "alice")
        page.goto(f"{live_server.url}/decks/{seed_deck.pk}/study/")
        assert page.is_hidden("#study-answer")
        page.get_by_role("button", name="Show answer").click()
        page.wait_for_url("**reveal=1**")
        assert page.is_visible("#study-answer")
        page.get_by_role("button", name=re.compile(r"^5 Perfectly: next in")).click()
        page.wait_for_url(f"{live_server.url}/decks/{seed_deck.pk}/study/")
        assert page.inner_text("#study-progress-text").startswith("1 of")
        assert ReviewLog.objects.get().rating == 5
    finally:
        context.close()
