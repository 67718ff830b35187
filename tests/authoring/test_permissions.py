"""Every authoring view: owner, another user (404), anonymous (login), staff, wrong method."""

import pytest
from django.urls import reverse

from cards.models import Card, Deck

# (name, uses a card rather than a deck, method that works, a method that is refused)
VIEWS = [
    ("deck_edit", False, "get", "put"),
    ("deck_delete", False, "get", "put"),
    ("deck_export_csv", False, "get", "post"),
    ("deck_copy", False, "post", "get"),
    ("card_create", False, "get", "put"),
    ("card_edit", True, "get", "put"),
    ("card_answer", True, "get", "put"),
    ("card_delete", True, "get", "put"),
    ("card_item", True, "get", "post"),
]
PLAIN = [
    ("deck_create", "get", "put"),
    ("deck_import", "get", "put"),
    ("needs_answer", "get", "post"),
    ("data_page", "get", "post"),
    ("data_export", "get", "post"),
    ("data_import", "post", "get"),
]
EDIT_ONLY = {"deck_edit", "deck_delete", "card_create", "card_edit", "card_answer", "card_delete"}


def url_for(name, uses_card, deck):
    target = deck.cards.order_by("position").first() if uses_card else deck
    return reverse(name, args=[target.pk])


@pytest.mark.parametrize(("name", "uses_card", "method", "_wrong"), VIEWS)
def test_owner_may_use_it(owner_client, own_deck, name, uses_card, method, _wrong):
    response = getattr(owner_client, method)(url_for(name, uses_card, own_deck))
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(("name", "uses_card", "method", "_wrong"), VIEWS)
def test_another_user_gets_404_on_a_private_deck(
    other_client, own_deck, name, uses_card, method, _wrong
):
    response = getattr(other_client, method)(url_for(name, uses_card, own_deck))
    assert response.status_code == 404
    assert Deck.objects.filter(owner__username="bob").count() == 0


@pytest.mark.parametrize(("name", "uses_card", "method", "_wrong"), VIEWS)
def test_anonymous_is_sent_to_log_in(client, own_deck, name, uses_card, method, _wrong):
    response = getattr(client, method)(url_for(name, uses_card, own_deck))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "uses_card", "method", "_wrong"), VIEWS)
def test_staff_may_edit_public_decks(client, staff, public_deck, name, uses_card, method, _wrong):
    client.force_login(staff)
    response = getattr(client, method)(url_for(name, uses_card, public_deck))
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(("name", "uses_card", "_method", "wrong"), VIEWS)
def test_it_rejects_the_wrong_method(owner_client, own_deck, name, uses_card, _method, wrong):
    assert getattr(owner_client, wrong)(url_for(name, uses_card, own_deck)).status_code == 405


@pytest.mark.parametrize("name", sorted(EDIT_ONLY))
def test_editing_a_public_deck_as_a_non_owner_is_refused(owner_client, public_deck, name):
    uses_card = name.startswith("card_") and name != "card_create"
    url = url_for(name, uses_card, public_deck)
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, {"answer": "x", "question": "x", "name": "x"}).status_code == 404
    card = public_deck.cards.get()
    assert (card.question, card.answer) == ("Public Q", "Public A")
    assert Deck.objects.filter(pk=public_deck.pk, name="Bob's public deck").exists()


def test_a_non_owner_may_read_export_and_copy_a_public_deck(owner_client, public_deck):
    assert owner_client.get(reverse("deck_export_csv", args=[public_deck.pk])).status_code == 200
    card = public_deck.cards.get()
    assert (
        owner_client.get(
            reverse("card_item", args=[card.pk]), headers={"HX-Request": "true"}
        ).status_code
        == 200
    )
    assert owner_client.post(reverse("deck_copy", args=[public_deck.pk])).status_code == 302


@pytest.mark.parametrize(("name", "method", "_wrong"), PLAIN)
def test_account_pages_need_a_login(client, db, name, method, _wrong):
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "_method", "wrong"), PLAIN)
def test_account_pages_reject_the_wrong_method(owner_client, name, _method, wrong):
    assert getattr(owner_client, wrong)(reverse(name)).status_code == 405


@pytest.mark.parametrize(("name", "method", "_wrong"), [p for p in PLAIN if p[1] == "get"])
def test_account_pages_open_for_owner_and_staff(client, owner, staff, name, method, _wrong):
    for user in (owner, staff):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 200


def test_needs_answer_lists_only_ones_own_blank_cards(owner_client, own_deck, public_deck):
    Card.objects.create(deck=public_deck, question="Bob's blank", answer="")
    response = owner_client.get(reverse("needs_answer"))
    assert [c.question for c in response.context["cards"]] == ["Blank one"]
    assert b"Bob&#x27;s blank" not in response.content


@pytest.mark.parametrize(
    ("name", "uses_card"),
    [("deck_edit", False), ("deck_delete", False), ("card_edit", True), ("card_delete", True),
     ("card_answer", True)],
)  # fmt: skip
def test_edit_pages_make_the_same_queries_with_few_and_many_cards(
    owner_client, own_deck, name, uses_card, django_assert_num_queries
):
    from .conftest import add_cards

    url = url_for(name, uses_card, own_deck)
    # Expect 3 to 5: session, user, the deck or card (visible decks as a subquery); the deck's
    # delete page adds a count of its cards and one of its other learners.
    with django_assert_num_queries(5, exact=False) as few:
        owner_client.get(url)
    add_cards(own_deck, 60)
    with django_assert_num_queries(len(few.captured_queries)):
        owner_client.get(url)
