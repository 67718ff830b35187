"""The card browser view (/cards/): access, the htmx fragment, errors, sorting, keyset pages
and a query budget that does not grow with the collection."""

import re

import pytest
from django.urls import reverse

from cards.models import Card, Deck
from cards.search import browse
from cards.search.browse import SORTS
from tests.search.collection import build

URL = reverse("card_browser")


@pytest.fixture
def decks(owner, other):
    return {
        "mine": Deck.objects.create(owner=owner, name="Mine"),
        "public": Deck.objects.create(owner=other, name="Shared", is_public=True),
        "private": Deck.objects.create(owner=other, name="Bob only"),
    }


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_rejects_post(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_lists_own_and_public_cards_only(owner_client, decks):
    Card.objects.create(deck=decks["mine"], question="mine zebra", answer="a")
    Card.objects.create(deck=decks["public"], question="public zebra", answer="a")
    Card.objects.create(deck=decks["private"], question="private zebra", answer="a")
    for query in ("", "zebra", "deck:*", "-nothing", "deck:Bob*"):
        body = owner_client.get(URL, {"q": query}).content.decode()
        assert "private zebra" not in body
        assert "Bob only" not in body
    body = owner_client.get(URL, {"q": "zebra"}).content.decode()
    assert "mine zebra" in body and "public zebra" in body
    assert "2 cards match" in body


def test_a_malformed_query_says_where(owner_client):
    response = owner_client.get(URL, {"q": "deck:x flag:9 dog"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "flag: takes a number 0–7" in body
    assert "at character 13" in body
    assert "<mark>9</mark>" in body


def test_htmx_gets_the_results_fragment(owner_client, decks):
    Card.objects.create(deck=decks["mine"], question="fragment", answer="a")
    response = owner_client.get(URL, {"q": "fragment"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and "fragment" in body and "browser-table" in body


def test_history_restore_gets_the_whole_page(owner_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in owner_client.get(URL, {"q": "x"}, headers=headers).content.decode()


def test_the_page_works_without_javascript(owner_client):
    body = owner_client.get(URL, {"q": "x"}).content.decode()
    assert re.search(r'<form[^>]*method="get"[^>]*action="/cards/"', body)
    assert 'name="q" value="x"' in body


def test_unknown_sort_and_bad_cursor_fall_back(owner_client, decks):
    Card.objects.create(deck=decks["mine"], question="q", answer="a")
    response = owner_client.get(URL, {"sort": "nope", "dir": "up", "after": "[{"})
    assert response.status_code == 200
    assert "1 card matches" in response.content.decode()


def _walk(client, query, sort, direction):
    """Every card id over all the pages, following the Next links."""
    seen, params = [], {"q": query, "sort": sort, "dir": direction}
    for _ in range(200):
        response = client.get(URL, params, headers={"HX-Request": "true"})
        page = response.context["page"]
        seen += [row.card.pk for row in page.rows]
        if not page.next_cursor:
            return seen
        params = {**params, "after": page.next_cursor}
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_keyset_pages_cover_every_card_once(
    owner_client, owner, other, monkeypatch, sort, direction
):
    monkeypatch.setattr(browse, "PAGE_SIZE", 7)
    rows = build(owner, other, cards=80)
    seen = _walk(owner_client, "-tag:ab", sort, direction)
    expected = {row.card.pk for row in rows if "ab" not in row.card.tags.lower().split()}
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_sorted_by_due_in_order(owner_client, owner, other, monkeypatch):
    monkeypatch.setattr(browse, "PAGE_SIZE", 9)
    build(owner, other, cards=60)
    response = owner_client.get(URL, {"q": "-is:new", "sort": "due", "dir": "asc"})
    dues = [row.due for row in response.context["page"].rows]
    assert dues == sorted(dues)


@pytest.mark.parametrize("cards", [20, 200])
def test_query_count_does_not_grow_with_the_collection(
    owner_client, owner, other, django_assert_num_queries, cards, monkeypatch
):
    monkeypatch.setattr(browse, "PAGE_SIZE", 5)
    build(owner, other, cards=cards)
    # Expect 6 queries: session, user (study settings joined), the page's ids with their
    # count (one pass: the search reads tags), the page's cards (deck joined), the page's
    # memory states, the user's decks (the move action's choices). deck:* needs no list of
    # decks.
    with django_assert_num_queries(6):
        response = owner_client.get(URL, {"q": "deck:* -is:suspended or tag:verbs", "sort": "due"})
    assert response.status_code == 200
    cursor = response.context["page"].next_cursor
    # A next page (keyset): the count is its own query (the window would count what
    # follows the cursor), and the page's ids a subquery of the page's cards.
    with django_assert_num_queries(6):
        owner_client.get(
            URL, {"q": "deck:* -is:suspended or tag:verbs", "sort": "due", "after": cursor}
        )
    assert cursor and len(response.context["page"].rows) == browse.PAGE_SIZE


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize(
    "cursor",
    [
        '["x", 1]',
        "[1e400, 1]",
        '[{"t": "2020-01-01T00:00:00"}, 1]',
        '[{"t": "2020-01-01T00:00:00+00:00"}, 1]',
        "[1, 99999999999999999999999]",
        "[99999999999999999999999, 1]",
        '["a\\u0000", 1]',
        "[true, 1]",
    ],
)
def test_hand_made_cursors_never_fail(owner_client, decks, sort, cursor):
    Card.objects.create(deck=decks["mine"], question="q", answer="a")
    response = owner_client.get(URL, {"sort": sort, "after": cursor})
    assert response.status_code == 200


def test_a_nul_in_the_query_is_a_message(owner_client):
    response = owner_client.get(URL, {"q": "a\x00b"})
    assert response.status_code == 200
    assert "NUL character" in response.content.decode()


def test_the_columns_of_a_studied_card(owner_client, owner, decks):
    from datetime import timedelta

    from django.utils import timezone

    from cards.models import MemoryState
    from cards.scheduling import State
    from cards.search.browse import rows_for
    from cards.search.compiler import Context

    card = Card.objects.create(deck=decks["mine"], question="Q " * 80, answer="A " * 80)
    now = timezone.now()
    ctx = Context.of(owner, now)
    MemoryState.of(
        owner, card, state=State.REVIEW, due=ctx.day_start(5), last_review=ctx.day_start(-5)
        + timedelta(hours=2), stability=12.5, difficulty=5.5, reps=7, lapses=2,
    ).save()  # fmt: skip
    (row,) = rows_for([card], ctx)
    assert (row.interval, row.difficulty_percent, row.due_day) == (10, 50, ctx.day + timedelta(5))
    assert 0.9 < row.retrievability < 0.97
    body = owner_client.get(URL).content.decode()
    for shown in ["10d", "12.5d", "50%", '"Lapses">2<', '"Reviews">7<', "Q Q Q"]:
        assert shown in body
    assert "Q " * 60 not in body  # trimmed
