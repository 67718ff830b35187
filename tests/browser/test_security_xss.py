"""The XSS corpus in Chromium: nothing runs, nothing loads, nothing is logged.

Every request the page makes goes through page.route: one to /xss-marker/ (where the payloads
point) or to another host is recorded and aborted. Dialogs are recorded; console errors and CSP
violations land in page_errors.
"""

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import log_in
from tests.security.xss import MARKER, PAYLOADS

pytestmark = pytest.mark.browser


@pytest.fixture
def payload_deck(db, owner, staff):
    from cards.models import Card, Deck

    deck = Deck.objects.create(owner=owner, name=PAYLOADS[0], description=PAYLOADS[2])
    for number, payload in enumerate(PAYLOADS, start=1):
        Card.objects.create(deck=deck, question=f"Q{number} {payload}",
                            answer=f"A{number} {payload}", position=number)  # fmt: skip
        Card.objects.create(deck=deck, question=f"Blank {number} {payload}", answer="",
                            position=1000 + number)  # fmt: skip
    for payload in PAYLOADS[1:12]:
        Deck.objects.create(owner=owner, name=payload[:200], description=payload)
    return deck


@pytest.fixture
def watched(page, live_server):
    """The page, with every marker or off-site request, and every dialog, recorded."""
    seen = {"requests": [], "dialogs": []}
    host = urlsplit(live_server.url).netloc

    def route(request_route):
        url = request_route.request.url
        if MARKER in url or urlsplit(url).netloc != host:
            seen["requests"].append(url)
            request_route.abort()
        else:
            request_route.continue_()

    page.route("**/*", route)
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.seen = seen
    return page


def _settle_and_check(page, page_errors, where):
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # let any hx-trigger="load" or timers fire
    assert page.seen == {"requests": [], "dialogs": []}, where
    assert page.evaluate("window.__xss") is None, where
    assert page_errors == [], f"{where}: {page_errors}"


def test_no_payload_runs_for_the_learner(watched, live_server, payload_deck, page_errors):
    log_in(watched, live_server, "alice")
    # A control: a request to the marker is seen (then the record is cleared).
    watched.evaluate("fetch('/xss-marker/control').catch(() => {})")
    watched.wait_for_timeout(200)
    assert watched.seen["requests"] == [f"{live_server.url}/xss-marker/control"]
    watched.seen["requests"].clear()
    page_errors.clear()  # the aborted fetch logs a network error
    _settle_and_check(watched, page_errors, "dashboard")
    base = f"{live_server.url}/decks/{payload_deck.pk}"
    for path in (f"{base}/", f"{base}/?show=missing", f"{live_server.url}/needs-answer/"):
        watched.goto(path)
        _settle_and_check(watched, page_errors, path)

    # The study page: reveal and rate a few cards with the keyboard, over htmx.
    watched.goto(f"{base}/study/")
    for _ in range(4):
        watched.keyboard.press("Space")
        watched.wait_for_selector("#study-answer:not([hidden])")
        _settle_and_check(watched, page_errors, "study, answer shown")
        token = watched.input_value("#study-card input[name=token]")
        watched.keyboard.press("3")
        watched.wait_for_function(
            "old => { const t = document.querySelector('#study-card input[name=token]');"
            " return !t || t.value !== old; }",
            arg=token,
        )
    _settle_and_check(watched, page_errors, "study")


def test_no_payload_runs_in_the_editor_and_the_admin(watched, live_server, payload_deck,
                                                     page_errors):  # fmt: skip
    card = payload_deck.cards.order_by("position").first()
    log_in(watched, live_server, "alice")
    for path in (f"/cards/{card.pk}/edit/", f"/decks/{payload_deck.pk}/edit/"):
        watched.goto(f"{live_server.url}{path}")
        _settle_and_check(watched, page_errors, path)

    watched.context.clear_cookies()
    log_in(watched, live_server, "carol")
    for path in ("/admin/cards/card/fill-answers/", "/admin/cards/card/",
                 f"/admin/cards/card/{card.pk}/change/", "/admin/cards/deck/"):  # fmt: skip
        response = watched.goto(f"{live_server.url}{path}")
        assert (response.status, response.url) == (200, f"{live_server.url}{path}")
        _settle_and_check(watched, page_errors, path)
    # Typing a payload as an answer: the htmx preview renders it sanitised too.
    watched.goto(f"{live_server.url}/admin/cards/card/fill-answers/")
    textarea = watched.locator("textarea").first
    assert textarea.count() == 1, "no answer textarea on the fill-answers page"
    for payload in PAYLOADS[:12]:
        textarea.fill(payload)
        watched.wait_for_load_state("networkidle")
    _settle_and_check(watched, page_errors, "admin preview")
