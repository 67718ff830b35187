"""The card browser in Chromium: typing a query updates the results and the URL, the back
button brings the previous search back, a bulk suspend, the narrow (360 px) layout."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def learner():
    from cards.models import Card, Deck

    user = make_user("dana")
    french = Deck.objects.create(owner=user, name="French")
    german = Deck.objects.create(owner=user, name="German")
    Card.objects.bulk_create(
        [Card(deck=french, question=f"Le chat {i}", answer="the cat", position=i) for i in range(3)]
        + [Card(deck=german, question=f"Die Katze {i}", answer="the cat", position=i, tags="noun")
           for i in range(2)]
    )  # fmt: skip
    return user


def results(page):
    return page.locator("#browser-results tbody tr")


def query_of(page):
    return parse_qs(urlparse(page.url).query).get("q", [""])[0]


def test_typing_a_query_updates_results_url_and_history(page, live_server, learner, page_errors):
    log_in(page, live_server, "dana")
    page.goto(f"{live_server.url}/cards/")
    assert results(page).count() == 5
    page.fill("#browser-q", "deck:french")
    expect(results(page)).to_have_count(3)
    page.wait_for_url(re.compile(r".*q=deck%3Afrench.*"))
    assert query_of(page) == "deck:french"
    page.fill("#browser-q", "tag:noun katze")
    page.wait_for_url(re.compile(r".*q=tag%3Anoun.*"))
    expect(results(page)).to_have_count(2)
    page.fill("#browser-q", "flag:9")
    page.wait_for_selector("#browser-results [role=alert] mark")
    assert "0–7" in page.inner_text("#browser-results")
    # Back: the previous search, its results and its text, come back.
    page.go_back()
    page.wait_for_url(re.compile(r".*q=tag%3Anoun.*"))
    expect(results(page)).to_have_count(2)
    assert page.input_value("#browser-q") == "tag:noun katze"
    page.go_back()
    page.wait_for_url(re.compile(r".*q=deck%3Afrench.*"))
    expect(results(page)).to_have_count(3)
    assert page_errors == []


def test_sorting_by_a_column_header(page, live_server, learner, page_errors):
    log_in(page, live_server, "dana")
    page.goto(f"{live_server.url}/cards/?q=cat")
    page.click("#browser-results th a:text('Question')")
    page.wait_for_url(re.compile(r".*sort=question.*"))
    first = page.locator("#browser-results tbody tr").first.inner_text()
    assert "Die Katze 0" in first
    # Typing keeps the sort the header chose.
    page.fill("#browser-q", "chat")
    page.wait_for_url(re.compile(r".*q=chat.*"))
    expect(results(page)).to_have_count(3)
    assert "sort=question" in page.url
    assert "Le chat 0" in page.locator("#browser-results tbody tr").first.inner_text()
    assert page_errors == []


def test_bulk_suspend_of_every_result(page, live_server, learner, page_errors):
    from cards.models import MemoryState

    log_in(page, live_server, "dana")
    page.goto(f"{live_server.url}/cards/")
    page.fill("#browser-q", "deck:german")
    expect(results(page)).to_have_count(2)
    page.click(".browser-bulk summary")
    page.select_option("#id_action", "suspend")
    page.check("input[name=scope][value=all]")
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "Suspend: 2 cards changed." in page.inner_text(".messages")
    assert query_of(page) == "deck:german"
    assert MemoryState.objects.filter(user=learner, suspended=True).count() == 2
    page.fill("#browser-q", "is:suspended")
    expect(results(page)).to_have_count(2)
    assert page_errors == []


def test_bulk_suspend_of_ticked_cards_without_javascript(
    browser, live_server, learner, page_errors
):
    from cards.models import MemoryState

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "dana")
        page.goto(f"{live_server.url}/cards/?q=deck%3Afrench")
        assert results(page).count() == 3
        page.locator("#browser-results tbody input[type=checkbox]").first.check()
        page.click(".browser-bulk summary")  # <details> opens without JavaScript
        page.select_option("#id_action", "suspend")
        page.click("#bulk-form button[type=submit]")
        assert "Suspend: 1 card changed." in page.inner_text(".messages")
        assert MemoryState.objects.filter(user=learner, suspended=True).count() == 1
    finally:
        context.close()


def test_narrow_screen_has_no_horizontal_scroll(mobile_page, live_server, learner, page_errors):
    log_in(mobile_page, live_server, "dana")
    mobile_page.goto(f"{live_server.url}/cards/")
    width = mobile_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert page_errors == []


def test_tag_rename_then_search_by_the_new_name(page, live_server, learner, page_errors):
    log_in(page, live_server, "dana")
    page.goto(f"{live_server.url}/cards/")
    page.click("a:text('Tags')")
    page.fill("input[name=new][value=noun]", "grammar::noun")
    page.click("form.tag-rename button")
    assert "Renamed noun to grammar::noun on 2 cards." in page.inner_text(".messages")
    page.click("a:text('grammar::noun')")
    expect(results(page)).to_have_count(2)
    assert query_of(page) == 'tag:"grammar::noun"'
    page.fill("#browser-q", "tag:grammar")
    page.wait_for_url(re.compile(r".*q=tag%3Agrammar$|.*q=tag%3Agrammar&.*"))
    expect(results(page)).to_have_count(2)
    assert page_errors == []


def test_delete_a_selection_then_undo_brings_the_rows_back(page, live_server, learner, page_errors):
    from cards.models import Card, MemoryState

    french = list(Card.objects.filter(deck__name="French").order_by("pk"))
    MemoryState.objects.create(user=learner, card=french[0], deck=french[0].deck, state=0,
                               due=french[0].created_at, flag=3)  # fmt: skip
    log_in(page, live_server, "dana")
    page.goto(f"{live_server.url}/cards/?q=deck%3Afrench")
    expect(results(page)).to_have_count(3)
    boxes = page.locator("#browser-results tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click(".browser-bulk summary")
    page.select_option("#id_action", "delete")
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "2 cards deleted. Undo puts them back." in page.inner_text(".messages")
    expect(results(page)).to_have_count(1)
    page.click(".browser-bulk summary")
    page.click("form.browser-undo button")
    page.wait_for_selector(".messages")
    assert "Undid delete: 2 cards restored." in page.inner_text(".messages")
    expect(results(page)).to_have_count(3)
    assert query_of(page) == "deck:french"
    assert sorted(Card.objects.filter(deck__name="French").values_list("pk", flat=True)) == [
        card.pk for card in french
    ]
    assert MemoryState.objects.get(card=french[0]).flag == 3
    assert page_errors == []
