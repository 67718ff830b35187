"""Chromium: paste an image into the card editor, then see it on the study page at 360 px."""

import base64

import pytest

from tests.browser.conftest import log_in
from tests.conftest import make_user
from tests.media.images import image_bytes

pytestmark = pytest.mark.browser

PASTE = """([b64, selector]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "image.png", { type: "image/png" }));
  const box = document.querySelector(selector);
  box.focus();
  box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true,
                                                  cancelable: true }));
}"""


def test_a_pasted_image_shows_on_the_study_page_lazily_and_within_360px(
    mobile_page, live_server, page_errors
):
    from cards.models import Deck, MediaFile

    owner = make_user("alice")
    deck = Deck.objects.create(owner=owner, name="Pictures")
    page = mobile_page
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{deck.pk}/cards/new/")
    first = "form:not([data-media-upload]) textarea >> nth=0"
    page.fill(first, "Which colour is this? ")
    page.locator(first).evaluate("box => box.setSelectionRange(box.value.length, box.value.length)")
    wide = base64.b64encode(image_bytes("PNG", size=(1200, 400), color=(0, 120, 90))).decode()
    page.evaluate(PASTE, [wide, "form:not([data-media-upload]) textarea"])
    page.wait_for_function(
        "() => document.querySelector('form:not([data-media-upload]) textarea')"
        ".value.includes('](/decks/')"
    )
    media = MediaFile.objects.get(deck=deck)
    text = page.locator(first).input_value()
    assert text == (f"Which colour is this? ![pasted](/decks/{deck.pk}/media/{media.sha256}.png)")
    assert "Added pasted.png" in page.locator(".media-upload-status").inner_text()
    # The rest of the form, then save.
    textareas = page.locator("form:not([data-media-upload]) textarea")
    textareas.nth(1).fill("Green")
    page.click("form:not([data-media-upload]) button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/decks/{deck.pk}/**")

    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    image = page.locator("#study-question img")
    assert image.get_attribute("loading") == "lazy"
    assert image.get_attribute("alt") == "pasted"
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#study-question img');"
        " return i.complete && i.naturalWidth === 1200; }"
    )
    box = image.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["height"] == pytest.approx(box["width"] / 3, abs=2)  # height:auto keeps the ratio
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page_errors == []


def test_an_image_pasted_while_editing_in_place_shows_once_saved(page, live_server, page_errors):
    """The study page's in-place editor arrives by htmx: the upload script still works there."""
    from cards.models import Card, Deck, MediaFile

    owner = make_user("alice")
    deck = Deck.objects.create(owner=owner, name="Pictures")
    Card.objects.create(deck=deck, question="Which colour?", answer="Green")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{deck.pk}/study/")
    page.click("#study-edit")
    page.wait_for_selector("#study-card .study-edit textarea[name=answer]")
    page.wait_for_function("() => window.studyappMediaUpload === true")
    page.locator("textarea[name=answer]").evaluate(
        "box => box.setSelectionRange(box.value.length, box.value.length)"
    )
    square = base64.b64encode(image_bytes("PNG", size=(50, 50))).decode()
    page.evaluate(PASTE, [square, "textarea[name=answer]"])
    page.wait_for_function(
        "() => document.querySelector('textarea[name=answer]').value.includes('](/decks/')"
    )
    media = MediaFile.objects.get(deck=deck)
    page.click("#study-edit-save")
    image = page.locator("#study-answer-text img")
    image.wait_for()
    assert image.get_attribute("src") == f"/decks/{deck.pk}/media/{media.sha256}.png"
    assert page_errors == []
