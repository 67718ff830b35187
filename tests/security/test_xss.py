"""XSS: the corpus in questions, answers, deck names and descriptions, typed and imported; every
page of the project that renders them holds no script, handler or hx attribute from user text.

The pages are not listed here: every route is walked (tests/security/urlwalk.py) with its
parameters pointing at the payload deck and card, as the owner and, for the admin, as staff.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import make_user
from tests.security.conftest import PrivateWorld
from tests.security.urlwalk import all_routes, fill
from tests.security.xss import PAYLOADS, audit

ROOT = Path(__file__).resolve().parents[2]
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_corpus_is_big_and_varied():
    assert len(PAYLOADS) >= 30
    text = "\n".join(PAYLOADS)
    for kind in ("<script", "onerror", "javascript:", "<svg", "hx-get", "hx-trigger", "data-hx-",
                 "style", "hx-on", "<math"):  # fmt: skip
        assert kind in text, kind


@pytest.fixture
def xss_world(db):
    from cards.models import Card, Deck
    from cards.services.reviews import issue_review_token, record_review

    owner = make_user("alice")
    staff = make_user("carol", is_staff=True, is_superuser=True)
    deck = Deck.objects.create(owner=owner, name="XSS cards", description=PAYLOADS[0])
    cards = []
    for number, payload in enumerate(PAYLOADS, start=1):
        question, answer = f"Q{number} {payload}", f"A{number} {payload}"
        cards.append(Card.objects.create(deck=deck, question=question, answer=answer,
                                         position=number))  # fmt: skip
        Card.objects.create(deck=deck, question=f"Blank {number} {payload}", answer="",
                            position=1000 + number)  # fmt: skip
        Deck.objects.create(owner=owner, name=payload[:200], description=payload, is_public=True)
    result = record_review(owner, issue_review_token(owner, cards[0], None), 3)
    world = PrivateWorld(owner, owner, staff, deck, cards[0])
    world.ids = {"deck": deck.pk, "card": cards[0].pk, "review": result.log.pk,
                 "memory": result.memory.pk, "user": owner.pk}  # fmt: skip
    world.cards = cards
    return world


def _assert_clean(response, url):
    if "text/html" not in response.get("Content-Type", ""):
        return None
    found = audit(response.content.decode())
    assert found.problems == [], f"{url}: {found.problems[:5]}"
    return found


def test_no_page_runs_user_text(xss_world):
    """One walk over every route (building the payload world once costs more than the pages)."""
    owner, staff = Client(), Client()
    owner.force_login(xss_world.owner)
    staff.force_login(xss_world.staff)
    walked = 0
    for route in all_routes():
        if route.is_framework_admin:
            continue  # Django's own user and axes admin pages show no card or deck text
        client = staff if route.is_admin else owner
        for url in fill(route, xss_world):
            _assert_clean(client.get(url), url)
            _assert_clean(client.get(url, **HTMX), url)
            walked += 1
    assert walked > 40


def test_the_pages_with_user_text_wrap_it_in_hx_disable(xss_world):
    client = Client()
    client.force_login(xss_world.owner)
    deck_url = f"/decks/{xss_world.deck.pk}/"
    found = _assert_clean(client.get(deck_url), deck_url)
    assert found.user_content_blocks >= 2 * len(PAYLOADS)
    client.force_login(xss_world.staff)
    fill_url = "/admin/cards/card/fill-answers/"
    response = client.get(fill_url)
    assert response.status_code == 200
    assert _assert_clean(response, fill_url).user_content_blocks >= 1


def test_the_study_page_shows_each_payload_safely(xss_world):
    client = Client()
    client.force_login(xss_world.owner)
    deck_id = xss_world.deck.pk
    for card in xss_world.cards:
        url = f"/decks/{deck_id}/study/?card={card.pk}&reveal=1"
        response = client.get(url)
        assert response.status_code == 200
        found = _assert_clean(response, url)
        assert found.user_content_blocks >= 2, url  # the question and the answer
        assert card.question.split(" ", 1)[0] in response.text  # the pinned card is shown
        _assert_clean(client.get(url, **HTMX), url)


def test_imported_payloads_render_safely(owner_client, owner):
    from cards.models import Deck

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "question", "answer"])
    for number, payload in enumerate(PAYLOADS, start=1):
        writer.writerow([f"x{number}", payload, payload])
    upload = SimpleUploadedFile("xss <b>deck</b>.csv", buffer.getvalue().encode())
    response = owner_client.post("/decks/import/", {"file": upload, "name": PAYLOADS[1]})
    assert response.status_code == 302, response.content[:500]
    deck = Deck.objects.get(owner=owner)
    assert deck.cards.count() == len(PAYLOADS)
    for url in (response["Location"], "/", f"/decks/{deck.pk}/study/?reveal=1"):
        _assert_clean(owner_client.get(url, follow=True), url)


TEMPLATE_SAFE = re.compile(r"\{\{\s*([\w.]+)\|safe\s*\}\}")
# Text written by developers, not users: allowed outside hx-disable.
SAFE_FROM_CODE = {"field.help_text"}


def test_every_unescaped_template_output_sits_in_an_hx_disable_element():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for match in TEMPLATE_SAFE.finditer(text):
            if match[1] in SAFE_FROM_CODE:
                continue
            opening = text.rfind("<", 0, match.start())
            tag = text[opening : text.find(">", opening) + 1]
            if "hx-disable" not in tag:
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {match[0]} in {tag}")
    assert offenders == []


def test_the_auditor_catches_what_it_looks_for():
    """A control: the checks above would see a payload that got through."""
    bad = (
        '<div class="user-content" hx-disable><img src="/xss-marker/1" onerror="x">'
        '<p hx-get="/x">x</p><svg></svg></div><div hx-get="/xss-marker/2"></div>'
        '<script>alert(1)</script><a href="java\nscript:x">x</a><p style="color:red">x</p>'
    )
    problems = "\n".join(audit(bad).problems)
    for expected in ("<img src='/xss-marker/1'>", "onerror", "<p hx-get> is not allowed",
                     "<svg>", "hx-get='/xss-marker/2'", "inline script", "href='java\\nscript:x'",
                     "<p style>"):  # fmt: skip
        assert expected in problems, expected
    assert audit('<div hx-disable><p><a href="/ok" rel="nofollow">x</a></p></div>').problems == []
