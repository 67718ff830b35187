from django.urls import reverse

from cards.models import Card, MemoryState

from .conftest import add_cards, review

HX = {"HX-Request": "true"}


def test_it_adds_a_card_at_the_end(owner_client, own_deck):
    url = reverse("card_create", args=[own_deck.pk])
    response = owner_client.post(url, {"question": "New Q", "answer": "*new*", "another": "1"})
    assert response["Location"] == url
    card = own_deck.cards.get(question="New Q")
    assert card.position == 5 and "<em>new</em>" in card.answer_html


def test_it_refuses_an_empty_question(owner_client, own_deck):
    response = owner_client.post(reverse("card_create", args=[own_deck.pk]), {"question": ""})
    assert response.status_code == 200 and response.context["form"].errors["question"]
    assert own_deck.cards.count() == 4


def test_it_edits_a_card_and_keeps_schedules(owner_client, own_deck, other):
    card = own_deck.cards.get(position=1)
    state = review(other, card)
    owner_client.post(reverse("card_edit", args=[card.pk]), {"question": "Q1*", "answer": "A1*"})
    card.refresh_from_db()
    assert (card.question, card.answer) == ("Q1*", "A1*")
    assert MemoryState.objects.get(pk=state.pk).due == state.due


def test_delete_asks_first(owner_client, own_deck):
    card = own_deck.cards.get(position=1)
    url = reverse("card_delete", args=[card.pk])
    assert b"Delete the card" in owner_client.get(url).content
    assert Card.objects.filter(pk=card.pk).exists()
    assert owner_client.post(url)["Location"] == own_deck.get_absolute_url()
    assert not Card.objects.filter(pk=card.pk).exists()


def test_in_place_edit_gives_a_textarea_then_the_rendered_card(owner_client, own_deck):
    card = own_deck.cards.get(question="Blank one")
    url = reverse("card_answer", args=[card.pk])
    fragment = owner_client.get(url, headers=HX)
    assert fragment.templates[0].name == "cards/_answer_form.html"
    assert b"<textarea" in fragment.content and b"<html" not in fragment.content
    saved = owner_client.post(url, {"answer": "**Done**"}, headers=HX)
    assert saved.templates[0].name == "cards/_card_item.html"
    assert b"<strong>Done</strong>" in saved.content and b"hx-disable" in saved.content
    card.refresh_from_db()
    assert card.answer == "**Done**"


def test_in_place_edit_works_without_javascript(owner_client, own_deck):
    card = own_deck.cards.get(question="Blank one")
    url = reverse("card_answer", args=[card.pk])
    page = owner_client.get(url)
    assert b"<html" in page.content and b"<textarea" in page.content
    response = owner_client.post(url, {"answer": "Plain"})
    assert response["Location"] == f"{own_deck.get_absolute_url()}#card-{card.pk}"


def test_cancel_gives_the_card_back(owner_client, own_deck):
    card = own_deck.cards.get(position=1)
    response = owner_client.get(reverse("card_item", args=[card.pk]), headers=HX)
    assert response.templates[0].name == "cards/_card_item.html"
    assert owner_client.get(reverse("card_item", args=[card.pk])).status_code == 302


def test_in_place_answer_query_count(owner_client, own_deck, django_assert_num_queries):
    card = own_deck.cards.get(question="Blank one")
    url = reverse("card_answer", args=[card.pk])
    # Expect 4: session, user, the card with its deck (visible decks as a subquery), the update.
    # Answering a blank card makes it studyable: in a transaction (a savepoint pair in tests),
    # the update and the copy of the flag onto its memory states (MemoryState.studyable).
    # Plus 2: the card's note (a cloze card's text is edited through its note) and the
    # update of the Basic note's Back.
    with django_assert_num_queries(4 + 3 + 2):
        owner_client.post(url, {"answer": "One"}, headers=HX)
    add_cards(own_deck, 50)
    with django_assert_num_queries(4 + 2):
        owner_client.post(url, {"answer": "Two"}, headers=HX)


def test_card_form_query_count(owner_client, own_deck, django_assert_num_queries):
    url = reverse("card_create", args=[own_deck.pk])
    # Expect 3: session, user, deck.
    with django_assert_num_queries(3):
        owner_client.get(url)
    add_cards(own_deck, 50)
    with django_assert_num_queries(3):
        owner_client.get(url)
