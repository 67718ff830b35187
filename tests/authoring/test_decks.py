from django.urls import reverse

from cards.models import Card, Deck, MemoryState, ReviewLog

from .conftest import add_cards, review


def test_it_creates_a_private_deck(owner_client, owner):
    response = owner_client.post(reverse("deck_create"), {"name": " Spanish ", "description": ""})
    deck = Deck.objects.get(owner=owner)
    assert (deck.name, deck.is_public) == ("Spanish", False)
    assert response["Location"] == reverse("card_create", args=[deck.pk])


def test_a_learner_cannot_make_a_deck_public(owner_client, owner):
    owner_client.post(reverse("deck_create"), {"name": "Mine", "is_public": "on"})
    assert Deck.objects.get(owner=owner).is_public is False


def test_it_refuses_a_duplicate_name(owner_client, own_deck):
    response = owner_client.post(reverse("deck_create"), {"name": own_deck.name})
    assert response.status_code == 200
    assert "You already have a deck with this name." in response.content.decode()


def test_it_renames_a_deck(owner_client, own_deck):
    url = reverse("deck_edit", args=[own_deck.pk])
    owner_client.post(url, {"name": "Renamed", "description": "New words"})
    own_deck.refresh_from_db()
    assert (own_deck.name, own_deck.description) == ("Renamed", "New words")


def test_delete_asks_first_then_deletes(owner_client, own_deck, other):
    review(other, own_deck.cards.first())
    url = reverse("deck_delete", args=[own_deck.pk])
    page = owner_client.get(url)
    assert b"Delete the deck" in page.content and page.context["learners"] == 1
    assert Deck.objects.filter(pk=own_deck.pk).exists()
    assert owner_client.post(url)["Location"] == reverse("dashboard")
    assert not Deck.objects.filter(pk=own_deck.pk).exists()
    assert not Card.objects.filter(deck_id=own_deck.pk).exists()


def test_copy_makes_a_private_copy_without_history(owner_client, owner, public_deck, other):
    review(other, public_deck.cards.get())
    response = owner_client.post(reverse("deck_copy", args=[public_deck.pk]))
    copy = Deck.objects.get(owner=owner)
    assert response["Location"] == copy.get_absolute_url()
    assert (copy.name, copy.is_public) == ("Bob's public deck", False)
    assert list(copy.cards.values_list("question", "answer")) == [("Public Q", "Public A")]
    assert copy.cards.get().answer_html == public_deck.cards.get().answer_html
    assert not MemoryState.objects.filter(deck=copy).exists()
    assert not ReviewLog.objects.filter(deck=copy).exists()
    owner_client.post(reverse("deck_copy", args=[public_deck.pk]))
    assert Deck.objects.filter(owner=owner, name="Bob's public deck (copy)").exists()


def test_copy_query_count_does_not_grow(owner_client, public_deck, django_assert_num_queries):
    url = reverse("deck_copy", args=[public_deck.pk])
    # Expect 14: session, user, deck, its card count and the user's deck count (limits),
    # taken names, insert deck, its images, a batch of cards (one while a deck fits in a
    # batch), savepoint, the batch's notes, insert their copies, insert cards, release.
    with django_assert_num_queries(14) as few:
        owner_client.post(url)
    add_cards(public_deck, 50)
    with django_assert_num_queries(len(few.captured_queries)):
        owner_client.post(url)


def test_needs_answer_query_count_does_not_grow(owner_client, own_deck, django_assert_num_queries):
    url = reverse("needs_answer")
    owner_client.get(url)
    # Expect 3: session, user, blank cards with their decks.
    with django_assert_num_queries(3):
        owner_client.get(url)
    Card.objects.bulk_create(
        Card(deck=own_deck, question=f"Blank {i}", answer="", position=10 + i) for i in range(40)
    )
    with django_assert_num_queries(3):
        response = owner_client.get(url)
    assert len(response.context["cards"]) == 41


def test_deck_page_shows_edit_controls_only_to_editors(owner_client, own_deck, public_deck):
    mine = owner_client.get(own_deck.get_absolute_url()).content.decode()
    assert reverse("deck_delete", args=[own_deck.pk]) in mine
    assert reverse("card_answer", args=[own_deck.cards.first().pk]) in mine
    theirs = owner_client.get(public_deck.get_absolute_url()).content.decode()
    assert reverse("deck_delete", args=[public_deck.pk]) not in theirs
    assert reverse("card_answer", args=[public_deck.cards.get().pk]) not in theirs
    assert reverse("deck_copy", args=[public_deck.pk]) in theirs


def test_deck_page_query_count_does_not_grow(owner_client, own_deck, django_assert_num_queries):
    url = own_deck.get_absolute_url()
    owner_client.get(url)
    # At most 8: session, user, deck, card count, needing-answer count, the study queue's
    # snapshot, cards in learning (the deck's figures, issue 15), a page of cards.
    with django_assert_num_queries(8, exact=False) as few:
        owner_client.get(url)
    add_cards(own_deck, 50)
    with django_assert_num_queries(len(few.captured_queries)):
        owner_client.get(url)
