"""The study page's layout in Chromium (issue 15, items 1 and 9): the rating bar stays in view
after a long answer is revealed, the question stays on screen, every rating is labelled, and
the page works from the keyboard, at 360 px and in dark mode.

The longest answer of the seed deck (card 13, about 3,700 px tall on a phone) is the test case.
"""

import re

import pytest

from tests.browser.conftest import _new_page, _screenshot_on_failure, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
# The colours of app.css (light, dark): the bar must take the card's surface in each scheme.
SURFACE = {"light": "rgb(255, 255, 255)", "dark": "rgb(30, 33, 39)"}


@pytest.fixture
def seed_deck(db, seed_path):
    from django.core.management import call_command

    from cards.models import Deck

    call_command("import_deck", str(seed_path), "--public")
    return Deck.objects.get(name="Generative AI Flashcards")


@pytest.fixture
def longest_card(seed_deck):
    card = seed_deck.cards.get(external_id="13")
    assert len(card.answer) > 3000  # the seed's longest answer
    return card


@pytest.fixture
def open_page(browser, request, page_errors, live_server):
    """A page factory: viewport and colour scheme per test; screenshots on failure."""
    opened = []

    def open_(viewport, scheme="light", **options):
        mobile = viewport["width"] < 500
        context, page = _new_page(
            browser,
            request,
            page_errors,
            viewport=viewport,
            color_scheme=scheme,
            is_mobile=mobile,
            has_touch=mobile,
            **options,
        )
        opened.append((context, page))
        return page

    yield open_
    for context, page in opened:
        _screenshot_on_failure(request, page)
        context.close()


def boxes(page, selector) -> list[dict]:
    return page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map(e => {"
        " const r = e.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })",
        selector,
    )


def in_viewport(page, box) -> bool:
    width, height = page.evaluate("[innerWidth, innerHeight]")
    return (
        box["top"] >= 0 and box["left"] >= 0 and box["bottom"] <= height and box["right"] <= width
    )


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


RATING_BUTTONS = "#study-answer .rating-buttons button"


def assert_bar_in_view(page):
    buttons = boxes(page, RATING_BUTTONS)
    assert len(buttons) == 5
    assert all(in_viewport(page, box) for box in buttons), buttons


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360x740", "1280x800"])
def test_after_revealing_the_longest_answer_every_rating_button_is_in_view(
    open_page, live_server, owner, longest_card, page_errors, viewport, scheme
):
    page = open_page(viewport, scheme)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{longest_card.deck_id}/study/?card={longest_card.pk}")
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    assert page.evaluate("document.documentElement.scrollHeight") > viewport["height"] * 2

    # At once, with no scrolling by the learner: all five buttons, and the question too.
    assert_bar_in_view(page)
    question = boxes(page, "#study-question")[0]
    assert question["bottom"] > 0 and question["top"] < viewport["height"] / 2
    assert no_horizontal_scroll(page)

    # Halfway down the answer, the bar and the question are still there.
    page.mouse.wheel(0, 1200)
    page.wait_for_function("() => scrollY > 600")
    assert_bar_in_view(page)
    question = boxes(page, "#study-question")[0]
    assert question["top"] >= 0 and question["top"] < 40  # pinned at the top

    # At the very end, the answer's last line sits above the bar, not under it.
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(100)
    assert_bar_in_view(page)
    last_line = boxes(page, "#study-answer-text > :last-child")[0]
    bar = boxes(page, ".study-rate")[0]
    assert last_line["bottom"] <= bar["top"] + 1

    # The bar is opaque, in the colours of the scheme.
    colour = page.eval_on_selector(".study-rate", "e => getComputedStyle(e).backgroundColor")
    assert colour == SURFACE[scheme]
    assert no_horizontal_scroll(page)
    assert page_errors == []


def test_without_javascript_the_revealed_page_opens_with_the_bar_in_view(
    open_page, live_server, owner, longest_card
):
    page = open_page(PHONE, java_script_enabled=False)
    log_in(page, live_server, "alice")
    page.goto(
        f"{live_server.url}/decks/{longest_card.deck_id}/study/?card={longest_card.pk}&reveal=1"
    )
    assert page.is_visible("#study-answer")
    assert_bar_in_view(page)
    assert no_horizontal_scroll(page)


def test_every_rating_is_labelled_with_its_meaning_and_interval(
    open_page, live_server, owner, longest_card, page_errors
):
    page = open_page(PHONE)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{longest_card.deck_id}/study/?card={longest_card.pk}")
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    labels = page.locator(f"{RATING_BUTTONS} .rating-label").all_inner_texts()
    assert labels == ["Not at all", "Not really", "With effort", "Well", "Perfectly"]
    intervals = page.locator(f"{RATING_BUTTONS} .rating-interval").all_inner_texts()
    assert all(re.fullmatch(r"\d+(\.\d)?(m|h|d|mo|y)", text) for text in intervals), intervals
    # "2" is a fail, scheduled like "1": the same interval, and the button says so.
    assert intervals[0] == intervals[1]
    names = [b.get_attribute("aria-label") for b in page.locator(RATING_BUTTONS).all()]
    assert names[1].startswith("2 Not really (counts as forgotten): next in ")
    assert names[4].startswith("5 Perfectly: next in ")
    # Each label fits its button: nothing spills over a neighbour at 360 px.
    for box in page.locator(RATING_BUTTONS).all():
        assert box.evaluate("b => b.scrollWidth <= b.clientWidth")
    assert page_errors == []


def test_the_four_grade_bar_is_labelled_again_hard_good_easy(
    open_page, live_server, owner, longest_card, page_errors
):
    from cards.services.settings import get_study_settings

    settings = get_study_settings(owner)
    settings.rating_scale = "four"
    settings.save()
    page = open_page(PHONE)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{longest_card.deck_id}/study/?card={longest_card.pk}")
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    buttons = page.locator("#study-answer .rating-buttons button")
    assert buttons.locator(".rating-num").all_inner_texts() == ["Again", "Hard", "Good", "Easy"]
    for box in boxes(page, "#study-answer .rating-buttons button"):
        assert in_viewport(page, box)
    assert page_errors == []


def focus_ring(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement, s = getComputedStyle(e);"
        " const r = e.getBoundingClientRect();"
        " return {id: e.id, rating: e.dataset.rating || null, style: s.outlineStyle,"
        " width: parseFloat(s.outlineWidth), top: r.top, bottom: r.bottom,"
        " left: r.left, right: r.right}; }"
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360x740", "1280x800"])
def test_the_study_page_works_from_the_keyboard_alone_with_focus_in_sight(
    open_page, live_server, owner, longest_card, page_errors, viewport
):
    from cards.models import ReviewLog

    page = open_page(viewport)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{longest_card.deck_id}/study/?card={longest_card.pk}")

    # Tab from the top of the page reaches Show answer; Enter on it reveals.
    for _ in range(30):
        page.keyboard.press("Tab")
        if focus_ring(page)["id"] == "study-reveal":
            break
    ring = focus_ring(page)
    assert ring["id"] == "study-reveal"
    assert ring["style"] != "none" and ring["width"] >= 2 and in_viewport(page, ring)
    page.keyboard.press("Enter")
    page.wait_for_selector("#study-answer", state="visible")

    # Tab walks the rating buttons in order, each one visibly focused and not under the bar.
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        ring = focus_ring(page)
        if ring["rating"]:
            assert ring["style"] != "none" and ring["width"] >= 2
            assert in_viewport(page, ring)
            seen.append(ring["rating"])
            if ring["rating"] == "5":
                break
    assert seen == ["1", "2", "3", "4", "5"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focus_ring(page)["rating"] == "3"
    token = page.input_value("#study-card input[name=token]")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(old) => document.querySelector('#study-card input[name=token]')?.value !== old",
        arg=token,
    )
    assert ReviewLog.objects.get(user=owner).rating == 3
    page.wait_for_function("() => document.activeElement?.id === 'study-reveal'")
    assert page_errors == []


def test_links_in_a_long_answer_are_not_hidden_under_the_bar_when_tabbed_to(
    open_page, live_server, owner, page_errors
):
    """A learner tabbing through the links of an answer sees each focused link."""
    from cards.models import Card, Deck

    deck = Deck.objects.create(owner=owner, name="Links")
    lines = [f"Paragraph {i}: [link {i}](https://example.org/{i}) and text." for i in range(40)]
    card = Card.objects.create(deck=deck, question="Where?", answer="\n\n".join(lines), position=1)
    page = open_page(PHONE)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/?card={card.pk}")
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    links = 0
    for _ in range(25):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") != "A":
            continue
        links += 1
        ring = focus_ring(page)
        assert ring["bottom"] <= boxes(page, ".study-rate")[0]["top"] + 1, ring
        assert ring["top"] >= boxes(page, "#study-question")[0]["bottom"] - 1, ring
    assert links >= 20
    assert page_errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_new_elements_take_the_colours_of_the_scheme(
    open_page, live_server, owner, longest_card, page_errors, scheme
):
    page = open_page(PHONE, scheme)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{longest_card.deck_id}/study/?card={longest_card.pk}")
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    page.mouse.wheel(0, 1200)
    page.wait_for_function("() => scrollY > 600")
    colours = page.evaluate(
        "() => [document.querySelector('#study-question'), document.querySelector('.study-rate'),"
        " ...document.querySelectorAll('.rating-buttons button')]"
        ".map(e => getComputedStyle(e).backgroundColor)"
    )
    # The pinned question and the bar are opaque surfaces; the buttons are never white on dark.
    assert colours[0] == colours[1] == SURFACE[scheme]
    assert all(c == SURFACE[scheme] for c in colours[2:]), colours
    ratios = page.evaluate(
        """() => {
          const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const lum = c => { const v = rgb(c).map(x => x / 255).map(x =>
            x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
            return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
          const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
            return (x + 0.05) / (y + 0.05); };
          return [...document.querySelectorAll(
            '.rating-buttons .rating-num, .rating-buttons .rating-label,'
            + ' .rating-buttons .rating-interval, .study-rate legend')]
            .map(e => ratio(getComputedStyle(e).color,
                            getComputedStyle(e.closest('button, .study-rate')).backgroundColor));
        }"""
    )
    assert min(ratios) >= 4.5, ratios  # WCAG AA for small text
    assert page_errors == []
