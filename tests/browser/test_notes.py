"""Notes in Chromium: a cloze note made in the note editor (with its live preview) is studied
card by card on two study days (its second card is buried after the first is answered); a
reversed note, with new-sibling burying turned off on the settings page, is studied both ways."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser
ITEM = "#study-card .study-item"


@pytest.fixture
def deck(db, owner):
    from cards.models import Deck
    from tests.conftest import start_days_far_from_now

    start_days_far_from_now(owner)
    return Deck.objects.create(owner=owner, name="Notes")


def question(page) -> str:
    return page.inner_text("#study-question").strip()


def wait_for_question(page, text):
    page.wait_for_function(
        "t => document.querySelector('#study-question')?.innerText.trim() === t", arg=text
    )


def reveal_and_rate(page, rating: str):
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer-text", state="visible")
    answer = page.inner_text("#study-answer-text").strip()
    page.keyboard.press(rating)
    return answer


def new_note(page, live_server, deck, kind: str):
    page.goto(f"{live_server.url}/decks/{deck.pk}/cards/new/")
    page.check(f"input[name=kind][value={kind}]")


def test_a_cloze_note_from_the_editor_is_studied_on_two_days(page, live_server, owner, deck):
    from django.utils import timezone

    from cards.models import MemoryState, Note
    from cards.scheduling import State

    log_in(page, live_server, owner.username)
    new_note(page, live_server, deck, "cloze")
    assert page.is_hidden("#id_front") and page.is_visible("#id_text")
    page.fill("#id_text", "{{c1::Lima}} is the capital of {{c2::Peru::country}}.")
    # The live preview (htmx): each card's question as it will be studied.
    page.wait_for_selector(".note-preview-card[data-card='2']")
    previews = page.locator(".note-preview-question").all_inner_texts()
    assert [text.strip() for text in previews] == [
        "[...] is the capital of Peru.",
        "Lima is the capital of [country].",
    ]
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/decks/{deck.pk}/#card-*")
    assert page.locator(".badge-note").count() == 2

    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    page.wait_for_selector(ITEM)
    assert question(page) == "[...] is the capital of Peru."
    assert page.inner_text("#study-question .cloze").strip() == "[...]"
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer-text .cloze")
    assert page.inner_text("#study-answer-text .cloze").strip() == "Lima"
    page.keyboard.press("5")  # Easy: a review card, not due again today
    # The sibling is buried for the rest of the study day: nothing left today.
    page.wait_for_selector("#study-question", state="detached")
    note = Note.objects.get(deck=deck, kind="cloze")
    second = note.cards.get(ord=1)
    assert MemoryState.objects.get(user=owner, card=second).buried_until > timezone.now()

    # The next study day (the burying ends with the day): the second card.
    MemoryState.objects.filter(card=second).update(buried_until=timezone.now())
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    wait_for_question(page, "Lima is the capital of [country].")
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer-text .cloze")
    assert page.inner_text("#study-answer-text .cloze").strip() == "Peru"
    page.keyboard.press("5")
    page.wait_for_selector("#study-question", state="detached")
    states = MemoryState.objects.filter(user=owner, card__note=note)
    assert sorted(states.values_list("state", flat=True)) == [State.REVIEW, State.REVIEW]
    assert len({memory.pk for memory in states}) == 2


def test_a_reversed_note_is_studied_both_ways(page, live_server, owner, deck, page_errors):
    from cards.models import MemoryState

    log_in(page, live_server, owner.username)
    page.goto(f"{live_server.url}/settings/")
    page.uncheck("#id_bury_new_siblings")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector(".settings-saved")
    owner.study_settings.refresh_from_db()
    assert owner.study_settings.bury_new_siblings is False

    new_note(page, live_server, deck, "reversed")
    assert page.is_hidden("#id_text") and page.is_hidden("#id_add_reverse")
    page.fill("#id_front", "perro")
    page.fill("#id_back", "dog")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/decks/{deck.pk}/#card-*")

    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    wait_for_question(page, "perro")
    assert reveal_and_rate(page, "5") == "dog"
    wait_for_question(page, "dog")
    assert reveal_and_rate(page, "5") == "perro"
    page.wait_for_selector("#study-question", state="detached")
    assert MemoryState.objects.filter(user=owner, card__deck=deck, reps=1).count() == 2
    assert page_errors == []


def test_the_note_editor_fits_a_360px_phone(mobile_page, live_server, owner, deck):
    page = mobile_page
    log_in(page, live_server, owner.username)
    new_note(page, live_server, deck, "cloze")
    page.fill("#id_text", "A long {{c1::" + "unbroken" * 20 + "}} deletion {{c2::two::a hint}}")
    page.wait_for_selector(".note-preview-card[data-card='2']")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Without JavaScript the Preview button shows the same cards under the form.
    page.click("#note-preview-button")
    page.wait_for_selector(".note-preview-card[data-card='2']")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
