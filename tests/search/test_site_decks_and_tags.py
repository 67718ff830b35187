"""Staff see the site's decks (no owner) in the browser and on the card and deck pages alike;
nobody else reaches them. The study page shows the card's tags, each a browser search."""

import pytest
from django.urls import reverse

from cards.models import Card, Deck


@pytest.fixture
def site_card(db):
    deck = Deck.objects.create(owner=None, name="Site only")
    return Card.objects.create(deck=deck, question="site zebra", answer="a")


def listed(client) -> list[str]:
    response = client.get(reverse("card_browser"), {"q": "zebra"})
    assert response.status_code == 200
    return [row.card.question for row in response.context["page"].rows]


def test_staff_open_the_site_deck_cards_the_browser_lists(client, staff, site_card):
    client.force_login(staff)
    assert listed(client) == ["site zebra"]
    item = reverse("card_item", args=[site_card.pk])
    assert client.get(item, headers={"HX-Request": "true"}).status_code == 200
    deck_page = client.get(item)["Location"].split("#")[0]
    assert client.get(deck_page).status_code == 200
    assert client.get(reverse("card_edit", args=[site_card.pk])).status_code == 200


def test_a_learner_neither_lists_nor_opens_a_site_deck(owner_client, site_card):
    assert listed(owner_client) == []
    item = reverse("card_item", args=[site_card.pk])
    assert owner_client.get(item, headers={"HX-Request": "true"}).status_code == 404
    assert owner_client.get(item).status_code == 404
    assert owner_client.get(site_card.deck.get_absolute_url()).status_code == 404


def test_the_study_page_links_each_tag_to_the_browser(owner_client, owner):
    deck = Deck.objects.create(owner=owner, name="Mine")
    Card.objects.create(deck=deck, question="q", answer="a", tags="verbs a::b")
    html = owner_client.get(reverse("study_deck", args=[deck.pk])).content.decode()
    browse = reverse("card_browser")
    assert f'<a href="{browse}?q=tag:verbs">verbs</a>' in html
    assert f'<a href="{browse}?q=tag:a%3A%3Ab">a::b</a>' in html
    response = owner_client.get(browse, {"q": "tag:a::b"})
    assert [row.card.question for row in response.context["page"].rows] == ["q"]
