"""Custom study in Chromium: each mode started from the study page's All-done view and studied
to its end with the keyboard; raising today's limits; the pages at 360 px and in dark mode."""

from datetime import timedelta

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_study import TOKEN, wait_for_next_card

pytestmark = pytest.mark.browser


@pytest.fixture
def collection(db, owner):
    """Alice's deck with nothing left today (no new cards a day, the reviews not due): one
    card answered Again this morning, two due ahead, two new ones tagged web."""
    from django.utils import timezone

    from cards.models import Card, Deck, MemoryState, ReviewLog
    from cards.scheduling import State
    from cards.services.reviews import issue_review_token, record_review
    from cards.services.settings import get_study_settings
    from tests.conftest import start_days_far_from_now

    start_days_far_from_now(owner)
    settings = get_study_settings(owner)
    settings.new_cards_per_day = 0
    settings.save()
    deck = Deck.objects.create(owner=owner, name="Mine")
    cards = [
        Card.objects.create(
            deck=deck,
            question=f"Question {n}?",
            answer=f"Answer {n}",
            position=n,
            tags="web" if n >= 4 else "",
        )  # fmt: skip
        for n in range(1, 6)
    ]
    now = timezone.now()
    forgot = cards[0]
    record_review(owner, issue_review_token(owner, forgot, None), 1, now=now - timedelta(hours=1))
    MemoryState.objects.filter(card=forgot).update(due=now + timedelta(days=30))
    for days, card in ((2, cards[1]), (3, cards[2])):
        MemoryState.of(owner, card, state=State.REVIEW, stability=3.0, difficulty=5.0,
                       due=now + timedelta(days=days), last_review=now - timedelta(days=2),
                       reps=2).save()  # fmt: skip
    assert ReviewLog.objects.count() == 1
    return deck


def start_from_all_done(page, live_server, deck):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    page.wait_for_selector("#study-done-heading")
    assert "All done for now" in page.inner_text("#study-card")
    page.click("#study-custom")
    page.wait_for_selector("h1:has-text('Custom study')")


def study_with_keys(page, key="4", limit=20) -> list[int]:
    """Space reveals, `key` rates, until the session is finished: the card ids shown."""
    shown = []
    while page.query_selector("#study-card .study-item"):
        shown.append(int(page.get_attribute("#study-card .study-item", "data-card")))
        assert len(shown) <= limit
        page.keyboard.press("Space")
        page.wait_for_selector("#study-answer", state="visible")
        token = page.input_value(TOKEN)
        page.keyboard.press(key)
        wait_for_next_card(page, token)
    return shown


@pytest.mark.parametrize(
    ("mode", "amount", "expected", "reviews"),
    [
        ("forgot", "1", ["Question 1?"], 1),
        ("ahead", "7", ["Question 2?", "Question 3?"], 3),
        ("preview", "1", ["Question 4?", "Question 5?"], 1),
        ("cram", "10", None, 1),
    ],
)
def test_each_mode_from_the_all_done_page_to_its_end(
    page, live_server, collection, page_errors, mode, amount, expected, reviews
):
    from cards.models import Card, MemoryState, ReviewLog

    states = {m.card_id: (m.due, m.version) for m in MemoryState.objects.all()}
    start_from_all_done(page, live_server, collection)
    page.fill(f"#amount-{mode}", amount)
    if mode == "cram":
        page.fill("#tag-cram", "web")
    page.click(f"#start-{mode}")
    page.wait_for_selector("#study-card .study-item")
    assert "Custom study:" in page.inner_text("h1")

    shown = study_with_keys(page)

    questions = [Card.objects.get(pk=pk).question for pk in shown]
    if expected is None:  # cram: random order
        assert sorted(questions) == ["Question 4?", "Question 5?"]
    else:
        assert questions == expected
    assert "Custom study session finished" in page.inner_text("#study-card")
    assert ReviewLog.objects.count() == reviews
    after = {m.card_id: (m.due, m.version) for m in MemoryState.objects.all()}
    if mode == "ahead":
        assert all(after[pk] != states[pk] for pk in shown)  # rescheduled
    else:
        assert after == states  # nothing rescheduled, no memory state made
    assert page_errors == []


def test_again_in_a_preview_brings_the_card_back_and_z_undoes(
    page, live_server, collection, page_errors
):
    start_from_all_done(page, live_server, collection)
    page.click("#start-preview")
    page.wait_for_selector("#study-card .study-item")
    first = page.get_attribute("#study-card .study-item", "data-card")
    page.keyboard.press("Space")
    token = page.input_value(TOKEN)
    page.keyboard.press("1")  # Again: back in a minute
    wait_for_next_card(page, token)
    assert page.get_attribute("#study-card .study-item", "data-card") != first
    assert "1 learning" in " ".join(page.inner_text("#study-counts").split())

    token = page.input_value(TOKEN)
    page.keyboard.press("z")
    wait_for_next_card(page, token)
    assert page.get_attribute("#study-card .study-item", "data-card") == first
    shown = study_with_keys(page)
    assert len(shown) == 2
    assert page_errors == []


@pytest.mark.parametrize(("mode", "counter"), [("new_limit", "new"), ("review_limit", "to review")])
def test_raising_a_limit_from_the_all_done_page(
    page, live_server, collection, owner, page_errors, mode, counter
):
    from django.utils import timezone

    from cards.models import MemoryState
    from cards.services.settings import get_study_settings

    if mode == "review_limit":  # a review due today, held back by a spent limit
        settings = get_study_settings(owner)
        settings.reviews_per_day = 0
        settings.save()
        MemoryState.objects.filter(card__question="Question 2?").update(due=timezone.now())
    start_from_all_done(page, live_server, collection)
    # The card answered this morning was new: it used up one of the raised limit (as in Anki).
    page.fill(f"#amount-{mode}", "2")
    page.click(f"#start-{mode}")
    page.wait_for_selector("#study-card .study-item")

    assert "limit is raised by 2" in page.inner_text(".messages")
    assert f"1 {counter}" in " ".join(page.inner_text("#study-counts").split())
    assert len(study_with_keys(page, key="5")) == 1
    assert page_errors == []


def test_the_custom_study_pages_fit_a_phone_in_dark_mode(browser, live_server, collection):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, color_scheme="dark"
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        start_from_all_done(page, live_server, collection)
        fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(fits)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "custom-study-form-dark.png"), full_page=True)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)"  # the dark palette
        page.click("#start-cram")
        page.wait_for_selector("#study-card .study-item")
        assert page.evaluate(fits)
        page.keyboard.press("Space")
        page.wait_for_selector("#study-answer", state="visible")
        assert page.evaluate(fits)
        page.screenshot(path=str(ARTIFACTS / "custom-study-session-dark.png"))
        assert errors == []
    finally:
        context.close()
