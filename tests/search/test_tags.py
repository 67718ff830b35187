"""Tags across a user's decks (/cards/tags/): counts, rename and delete with their children,
case-insensitively, only on cards the user may edit."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cards.models import Card, Deck
from cards.services.tags import TagError, delete_tag, rename_tag, tag_counts


@pytest.fixture
def decks(owner, other):
    return {
        "mine": Deck.objects.create(owner=owner, name="Mine"),
        "public": Deck.objects.create(owner=other, name="Shared", is_public=True),
        "theirs": Deck.objects.create(owner=other, name="Theirs"),
    }


@pytest.fixture
def cards(decks):
    specs = [
        ("mine", "verbs verbs::irregular x"), ("mine", "Verbs"), ("mine", "verbsy"),
        ("mine", "a_b"), ("public", "verbs"), ("theirs", "verbs"),
    ]  # fmt: skip
    return [
        Card.objects.create(deck=decks[deck], question=f"q{i}", answer="a", tags=tags)
        for i, (deck, tags) in enumerate(specs)
    ]


def tags_of(cards):
    return [Card.objects.get(pk=card.pk).tags for card in cards]


def test_counts_cover_my_editable_cards(owner, cards):
    assert tag_counts(owner) == [
        ("a_b", 1), ("verbs", 2), ("verbs::irregular", 1), ("verbsy", 1), ("x", 1),
    ]  # fmt: skip


def test_rename_takes_children_along_in_any_case(owner, cards):
    assert rename_tag(owner, "VERBS", "grammar::verbs") == 2
    assert tags_of(cards) == [
        "grammar::verbs grammar::verbs::irregular x", "grammar::verbs", "verbsy", "a_b",
        "verbs", "verbs",
    ]  # fmt: skip


def test_rename_onto_an_existing_tag_merges(owner, cards):
    assert rename_tag(owner, "verbs::irregular", "x") == 1
    assert tags_of(cards)[0] == "verbs x"


def test_wildcard_characters_in_a_tag_are_literal(owner, cards):
    assert rename_tag(owner, "a_b", "ab") == 1
    assert rename_tag(owner, "a_c", "z") == 0


def test_delete_removes_the_tag_and_its_children(owner, cards):
    assert delete_tag(owner, "verbs") == 2
    assert tags_of(cards)[:3] == ["x", "", "verbsy"]


def test_staff_also_change_public_decks_but_never_a_private_one(staff, cards):
    assert rename_tag(staff, "verbs", "v") == 1
    assert tags_of(cards)[4:] == ["v", "verbs"]


@pytest.mark.parametrize("new", ["", "two words", "a\x00"])
def test_a_bad_name_is_refused(owner, cards, new):
    with pytest.raises(TagError):
        rename_tag(owner, "verbs", new)


def test_the_page_lists_tags_with_counts_and_search_links(owner_client, cards):
    body = owner_client.get(reverse("tag_list")).content.decode()
    assert "verbs::irregular" in body
    assert "/cards/?q=tag%3A%22a%5C_b%22" in body  # tag:"a\_b"
    assert "Theirs" not in body


def test_the_page_rename_and_delete_forms(owner_client, owner, cards):
    response = owner_client.post(reverse("tag_rename"), {"tag": "verbs", "new": "v"})
    assert response["Location"] == reverse("tag_list")
    assert "Renamed verbs to v on 2 cards." in [str(m) for m in get_messages(response.wsgi_request)]
    response = owner_client.post(reverse("tag_delete"), {"tag": "v"})
    assert "Removed v from 2 cards." in [str(m) for m in get_messages(response.wsgi_request)]
    response = owner_client.post(reverse("tag_rename"), {"tag": "x", "new": "a b"})
    assert "one word" in [str(m) for m in get_messages(response.wsgi_request)][-1]


@pytest.mark.parametrize("name", ["tag_rename", "tag_delete"])
def test_the_actions_reject_get(owner_client, name):
    assert owner_client.get(reverse(name)).status_code == 405


def test_it_requires_login(client):
    assert client.get(reverse("tag_list")).status_code == 302


@pytest.mark.parametrize("count", [5, 50])
def test_query_count_is_fixed(owner_client, decks, django_assert_num_queries, count):
    Card.objects.bulk_create(
        Card(deck=decks["mine"], question=f"q{i}", answer="a", tags=f"t{i} all")
        for i in range(count)
    )
    # Expect 3 queries: session, user, the tags of the user's editable cards
    with django_assert_num_queries(3):
        owner_client.get(reverse("tag_list"))
