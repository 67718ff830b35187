"""Card actions on the study page in Chromium: each by its key (Anki's: @ suspend, - bury,
Ctrl+1…7 flag, E edit, I info) and by its button, each undone with Z; the ? key list; the
same forms without JavaScript."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser
ITEM = "#study-card .study-item"


@pytest.fixture
def deck(db, owner):
    from cards.models import Card, Deck
    from tests.conftest import start_days_far_from_now

    start_days_far_from_now(owner)
    deck = Deck.objects.create(owner=owner, name="Actions")
    for i, (q, a) in enumerate([("First?", "One"), ("Second?", "Two"), ("Third?", "Three")]):
        Card.objects.create(deck=deck, question=q, answer=a, position=i)
    return deck


@pytest.fixture
def studying(page, live_server, owner, deck):
    log_in(page, live_server, owner.username)
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    page.wait_for_selector(ITEM)
    return page


def shown(page) -> str:
    return page.inner_text("#study-question").strip()


def wait_for_question(page, text):
    page.wait_for_function(
        "t => document.querySelector('#study-question')?.innerText.trim() === t", arg=text
    )


def marks(owner, question):
    from cards.models import MemoryState

    memory = MemoryState.objects.filter(user=owner, card__question=question).first()
    return (memory.suspended, memory.buried_until is not None, memory.flag) if memory else None


def undo_with_z(page, back_to):
    page.keyboard.press("z")
    wait_for_question(page, back_to)
    page.wait_for_function("() => document.activeElement?.closest('#study-card')")


def click_toolbar(page, selector):
    page.locator(selector).click()


@pytest.mark.parametrize("how", ["key", "button"], ids=["key", "button"])
@pytest.mark.parametrize(
    "action, key, button, expected",
    [
        ("suspend", "@", "#study-suspend", (True, False, 0)),
        ("bury", "-", "#study-bury", (False, True, 0)),
    ],
)
def test_suspend_and_bury_move_on_and_z_brings_the_card_back(
    studying, owner, page_errors, action, key, button, expected, how
):
    page = studying
    assert shown(page) == "First?"
    if how == "key":
        page.keyboard.press(key)
    else:
        click_toolbar(page, button)
    wait_for_question(page, "Second?")
    assert marks(owner, "First?") == expected
    word = "suspended" if action == "suspend" else "buried"
    assert word in page.inner_text("#study-announce")

    undo_with_z(page, "First?")
    assert marks(owner, "First?") == (False, False, 0)
    assert f"{action.title()} undone" in page.inner_text("#study-announce")
    assert page_errors == []


@pytest.mark.parametrize("how", ["key", "button"])
def test_a_flag_shows_its_colour_toggles_and_z_removes_it(studying, owner, page_errors, how):
    page = studying
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    if how == "key":
        page.keyboard.press("Control+2")
    else:
        page.click(".study-flags summary")
        page.click('.flag-button[data-flag="2"]')
    page.wait_for_selector("#study-flag")
    assert page.inner_text("#study-flag") == "Orange flag"
    assert page.get_attribute(ITEM, "data-flag") == "2"
    assert page.is_visible("#study-answer")  # still revealed
    assert marks(owner, "First?") == (False, False, 2)
    # The border shows the colour (not the page's border colour).
    border = page.eval_on_selector(ITEM, "e => getComputedStyle(e).borderLeftWidth")
    assert border == "6px"

    page.keyboard.press("Control+2")  # the same colour again removes it
    page.wait_for_selector("#study-flag", state="detached")
    assert marks(owner, "First?") == (False, False, 0)
    page.keyboard.press("Alt+7")
    page.wait_for_selector("#study-flag")
    assert page.inner_text("#study-flag") == "Purple flag"

    page.keyboard.press("z")
    page.wait_for_selector("#study-flag", state="detached")
    assert marks(owner, "First?") == (False, False, 0)
    assert page_errors == []


@pytest.mark.parametrize("how", ["key", "button"])
def test_edit_in_place_returns_to_the_card_revealed_and_z_restores_the_text(
    studying, owner, page_errors, how
):
    from cards.models import Card

    page = studying
    if how == "key":
        page.keyboard.press("e")
    else:
        page.click("#study-edit")
    page.wait_for_selector("#study-card .study-edit textarea[name=answer]")
    # Focus is in the form, so typing there does not trigger study keys.
    page.wait_for_function("() => document.activeElement?.tagName === 'TEXTAREA'")
    page.fill("textarea[name=answer]", "One, @edited - z")
    page.click("#study-edit-save")
    page.wait_for_selector("#study-answer", state="visible")
    assert page.inner_text("#study-answer-text").strip() == "One, @edited - z"
    assert shown(page) == "First?"
    assert Card.objects.get(question="First?").answer == "One, @edited - z"
    assert marks(owner, "First?") is None  # typing @ and - did nothing

    page.keyboard.press("z")
    page.wait_for_function(
        "() => document.querySelector('#study-answer-text')?.innerText.trim() === 'One'"
    )
    assert Card.objects.get(question="First?").answer == "One"
    assert page_errors == []


@pytest.mark.parametrize("how", ["escape", "button"])
def test_edit_cancel_comes_back_to_the_card_revealed(studying, page_errors, how):
    page = studying
    page.keyboard.press("E")
    page.wait_for_selector("#study-edit-cancel")
    if how == "escape":
        page.keyboard.press("Escape")  # from inside the textarea
    else:
        page.click("#study-edit-cancel")
    page.wait_for_selector("#study-answer", state="visible")
    assert shown(page) == "First?"
    assert page_errors == []


@pytest.mark.parametrize("how", ["key", "button"])
def test_card_info_opens_in_a_dialog_and_escape_closes_it(studying, page_errors, how):
    page = studying
    if how == "key":
        page.keyboard.press("i")
    else:
        page.click("#study-info")
    dialog = page.locator("#study-info-dialog")
    dialog.wait_for(state="visible")
    assert "Card info" in dialog.inner_text()
    assert "You have not reviewed this card yet." in dialog.inner_text()
    page.wait_for_function("() => document.activeElement?.id === 'study-info-heading'")
    page.keyboard.press("@")  # keys do nothing while a dialog is open
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert shown(page) == "First?"
    assert page_errors == []


def test_card_info_lists_reviews(page, live_server, owner, deck, page_errors):
    from datetime import timedelta

    from django.utils import timezone

    from cards.models import Card, MemoryState, ReviewLog

    card = Card.objects.get(question="Second?")
    now = timezone.now()
    ReviewLog.objects.create(
        user=owner, card=card, deck=deck, rating=4, grade=3, reviewed_at=now - timedelta(days=3),
        state_before=0, state_after=2, stability_after=2.5, difficulty_after=4.25,
        due_after=now - timedelta(hours=1),
    )  # fmt: skip
    MemoryState.objects.create(
        user=owner, card=card, deck=deck, state=2, stability=2.5, difficulty=4.25, reps=1,
        due=now - timedelta(hours=1), last_review=now - timedelta(days=3),
    )  # fmt: skip
    log_in(page, live_server, owner.username)
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    wait_for_question(page, "Second?")  # the review comes before new cards
    page.keyboard.press("Control+1")
    page.wait_for_selector("#study-flag")
    page.keyboard.press("i")
    dialog = page.locator("#study-info-dialog")
    dialog.wait_for(state="visible")
    rows = dialog.locator(".study-history tbody tr")
    assert rows.count() == 1
    assert "4 (Good)" in rows.inner_text() and "2.50" in rows.inner_text()
    text = dialog.inner_text()
    assert "Retrievability now" in text and "Red" in text
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page_errors == []


@pytest.mark.parametrize("how", ["key", "button"])
def test_question_mark_lists_every_key(studying, page_errors, how):
    page = studying
    if how == "key":
        page.keyboard.press("?")
    else:
        page.click("#study-help-open")
    dialog = page.locator("#study-help")
    dialog.wait_for(state="visible")
    text = dialog.inner_text()
    for words in ["Show the answer", "Undo", "Edit", "Card info", "Suspend", "Bury", "Flag"]:
        assert words in text
    assert page.evaluate("document.getElementById('study-help').open")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.keyboard.press("?")
    dialog.wait_for(state="visible")
    page.click("#study-help button:has-text('Close')")
    dialog.wait_for(state="hidden")
    assert page_errors == []


def test_the_toolbar_fits_a_phone_in_dark_mode(mobile_page, live_server, owner, deck, page_errors):
    page = mobile_page
    page.emulate_media(color_scheme="dark")
    log_in(page, live_server, owner.username)
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/?card=&reveal=0")
    page.wait_for_selector(ITEM)
    page.click("#study-reveal")
    page.click(".study-flags summary")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert page.is_visible('.flag-button[data-flag="7"]')
    assert page_errors == []


def test_actions_work_without_javascript(browser, live_server, owner, deck):
    from tests.browser.conftest import PASSWORD

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", owner.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
        page.click("#study-reveal")
        page.click(".study-flags summary")
        page.click('.flag-button[data-flag="3"]')
        assert "Flag: green." in page.inner_text("main")
        assert page.inner_text("#study-flag") == "Green flag"
        assert page.is_visible("#study-answer")  # back on the card, revealed
        page.click("#study-suspend")
        assert "Card suspended." in page.inner_text("main")
        assert shown(page) == "Second?"
        page.click("#study-undo")
        assert shown(page) == "First?"
        page.click("#study-info")
        assert "Card info" in page.inner_text("main")
        page.click("text=Back to the card")
        page.click("#study-edit")
        page.fill("textarea[name=answer]", "Uno")
        page.click("#study-edit-save")
        assert page.inner_text("#study-answer-text").strip() == "Uno"
    finally:
        context.close()
