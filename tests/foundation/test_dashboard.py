import re

import pytest

from cards.models import Card, Deck
from cards.services.settings import get_study_settings
from tests.conftest import start_days_far_from_now


@pytest.fixture
def private_deck(owner):
    deck = Deck.objects.create(owner=owner, name="Alice's secrets")
    Card.objects.create(deck=deck, question="Hidden?", answer="Yes", position=1)
    Card.objects.create(deck=deck, question="Blank?", answer="", position=2)
    return deck


@pytest.fixture
def public_deck(other):
    deck = Deck.objects.create(owner=other, name="Bob's shared deck", is_public=True)
    Card.objects.create(deck=deck, question="Shared?", answer="Yes", position=1)
    return deck


def test_it_lists_own_and_public_decks_with_counts(owner_client, private_deck, public_deck):
    response = owner_client.get("/")

    assert response.status_code == 200
    assert [d.name for d in response.context["own_decks"]] == ["Alice's secrets"]
    assert [d.name for d in response.context["public_decks"]] == ["Bob's shared deck"]
    own = response.context["own_decks"][0]
    assert (own.card_count, own.needs_answer_count) == (2, 1)


def test_another_users_private_deck_is_invisible(other_client, private_deck):
    response = other_client.get("/")
    assert "Alice&#x27;s secrets" not in response.content.decode()
    assert private_deck not in response.context["own_decks"] + response.context["public_decks"]


def test_another_users_private_deck_is_a_404(other_client, private_deck):
    assert other_client.get(f"/decks/{private_deck.pk}/").status_code == 404


def test_a_public_deck_is_visible_to_everyone(owner_client, public_deck):
    response = owner_client.get(f"/decks/{public_deck.pk}/")
    assert response.status_code == 200
    assert "Shared?" in response.content.decode()


def test_the_deck_page_filters_cards_needing_an_answer(owner_client, private_deck):
    response = owner_client.get(f"/decks/{private_deck.pk}/?show=missing")
    assert [c.question for c in response.context["cards"]] == ["Blank?"]


def test_dashboard_rejects_post(owner_client):
    assert owner_client.post("/").status_code == 405


def test_dashboard_query_count_does_not_grow_with_decks(
    owner_client, owner, django_assert_num_queries
):
    def add_decks(n):
        for i in range(n):
            deck = Deck.objects.create(owner=owner, name=f"Deck {Deck.objects.count()} {i}")
            Card.objects.create(deck=deck, question="Q?", answer="A", position=1)

    add_decks(2)
    get_study_settings(owner)  # created on first use; every later request reads it once
    # Expect 7 queries: session, user (with study settings), decks with their counts,
    # then deck_queue_counts: today's review counts, memory states by deck, new cards by deck;
    # then all decks' counts, as the study-all page counts them: its snapshot (issue 15).
    with django_assert_num_queries(7):
        owner_client.get("/")
    add_decks(30)
    with django_assert_num_queries(7):
        owner_client.get("/")


def test_it_shows_what_is_due_per_deck_with_study_links(owner_client, owner, private_deck):
    start_days_far_from_now(owner)  # the 1-minute step must not reach the day start
    Card.objects.create(deck=private_deck, question="Second?", answer="Yes", position=3)
    page = owner_client.get(f"/decks/{private_deck.pk}/study/")
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
    owner_client.post(f"/decks/{private_deck.pk}/study/review/", {"token": token, "rating": 1})

    response = owner_client.get("/")

    deck = response.context["own_decks"][0]
    # One card in learning (due again in a minute: within the 20-minute learn-ahead, so counted,
    # as Anki counts it), one new left, the blank one needs an answer.
    assert (deck.queue.learning + deck.queue.review, deck.queue.new) == (1, 1)
    assert (deck.in_learning, deck.needs_answer_count) == (1, 1)
    html = response.content.decode()
    assert f'href="/decks/{private_deck.pk}/study/"' in html
    assert 'href="/study/">Study all</a>' in html
