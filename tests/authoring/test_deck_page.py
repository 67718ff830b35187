"""The deck page in pages of 100 cards, and deleting a big deck in short transactions."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.services.settings import get_study_settings

from .conftest import add_cards, review


def test_it_shows_a_page_of_cards_with_links_to_the_others(owner_client, own_deck):
    add_cards(own_deck, 246)  # 250 in all
    first = owner_client.get(own_deck.get_absolute_url()).content.decode()
    assert first.count('class="card-item"') == 100
    assert "Cards 1–100 of 250 · page 1 of 3" in first
    assert 'href="?show=all&amp;page=2" rel="next"' in first
    last = owner_client.get(own_deck.get_absolute_url() + "?page=3").content.decode()
    assert last.count('class="card-item"') == 50 and '<ol class="card-list" start="201">' in last
    assert 'rel="next"' not in last and 'href="?show=all&amp;page=2" rel="prev"' in last


def test_the_pages_keep_the_filter(owner_client, own_deck):
    Card.objects.bulk_create(
        Card(deck=own_deck, question=f"Blank {i}", answer="", position=10 + i) for i in range(150)
    )
    page = owner_client.get(own_deck.get_absolute_url() + "?show=missing").content.decode()
    assert page.count("Needs an answer</p>") == 100
    assert "Cards 1–100 of 151" in page
    assert 'href="?show=missing&amp;page=2" rel="next"' in page


def test_a_page_number_out_of_range_shows_the_last_page(owner_client, own_deck):
    page = owner_client.get(own_deck.get_absolute_url() + "?page=99&show=<b>").content.decode()
    assert page.count('class="card-item"') == 4 and "<b>" not in page


def test_deck_page_query_count_is_the_same_for_10_and_2000_cards(
    owner_client, owner, django_assert_num_queries
):
    small = Deck.objects.create(owner=owner, name="small")
    add_cards(small, 10)
    big = Deck.objects.create(owner=owner, name="big")
    add_cards(big, 2000)
    get_study_settings(owner)  # created on first use; every later request reads it once
    # Expect 8: session, user (with study settings), deck, its card count, its count needing
    # an answer, the study queue's snapshot (its due and new counts, issue 15), its cards in
    # learning, one page of cards.
    for deck in (small, big):
        with django_assert_num_queries(8):
            owner_client.get(deck.get_absolute_url())


def test_a_20000_card_deck_page_stays_small(owner_client, own_deck):
    add_cards(own_deck, 20_000)
    response = owner_client.get(own_deck.get_absolute_url())
    assert response.status_code == 200 and len(response.content) < 200_000


@override_settings(IMPORT_BATCH_CARDS=10)
def test_deleting_a_big_deck_goes_batch_by_batch(owner_client, own_deck, other):
    add_cards(own_deck, 36)  # 40 cards, 40 reviews by another learner
    for card in own_deck.cards.all():
        review(other, card)
    with CaptureQueriesContext(connection) as captured:
        owner_client.post(own_deck.get_absolute_url() + "delete/")
    deletes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("DELETE")]
    # 40 logs and 40 states in one batch of 40 each, 40 cards in 4 batches of 10 (each also
    # deleting what would cascade from them), then the deck.
    card_deletes = [sql for sql in deletes if 'DELETE FROM "cards_card"' in sql]
    assert len(card_deletes) == 4
    assert not Deck.objects.filter(pk=own_deck.pk).exists()
    assert not Card.objects.filter(deck_id=own_deck.pk).exists()
    assert not ReviewLog.objects.exists() and not MemoryState.objects.exists()


@pytest.mark.parametrize("show", ["all", "missing"])
def test_another_user_cannot_page_a_private_deck(other_client, own_deck, show):
    url = f"{own_deck.get_absolute_url()}?show={show}&page=2"
    assert other_client.get(url).status_code == 404
