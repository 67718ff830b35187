"""The text as imported (Card.imported_question / imported_answer) survives every way a card
is carried elsewhere: the "all my data" JSON file and a copy of a public deck."""

import json

import pytest
from django.urls import reverse

from cards.models import Card, Deck
from cards.services.imports import copy_deck
from cards.services.transfer import TransferError, export_user_data, import_user_data
from tests.conftest import make_user

ORIGINAL = "wha\n\nWhat is DPO?"


@pytest.fixture
def cleaned_deck(owner):
    deck = Deck.objects.create(owner=owner, name="Imported", is_public=True)
    Card.objects.create(
        deck=deck, question="What is DPO?", answer="**Bold** here", position=1,
        external_id="19", imported_question=ORIGINAL, imported_answer="**Bold **here",
    )  # fmt: skip
    Card.objects.create(deck=deck, question="Plain?", answer="Yes", position=2)
    return deck


def test_the_data_file_carries_the_text_as_imported(owner, cleaned_deck):
    data = export_user_data(owner)
    first, second = data["decks"][0]["cards"]
    assert (first["imported_question"], first["imported_answer"]) == (ORIGINAL, "**Bold **here")
    assert (second["imported_question"], second["imported_answer"]) == ("", "")

    newcomer = make_user("zed")
    import_user_data(newcomer, data)
    card = Card.objects.get(deck__owner=newcomer, external_id="19")
    assert (card.imported_question, card.imported_answer) == (ORIGINAL, "**Bold **here")
    assert export_user_data(newcomer)["decks"][0]["cards"] == data["decks"][0]["cards"]


def test_a_data_file_from_before_the_fields_still_imports(owner, cleaned_deck):
    data = export_user_data(owner)
    for card in data["decks"][0]["cards"]:
        del card["imported_question"], card["imported_answer"]
    newcomer = make_user("zed")
    import_user_data(newcomer, data)
    card = Card.objects.get(deck__owner=newcomer, external_id="19")
    assert (card.question, card.imported_question, card.imported_answer) == ("What is DPO?", "", "")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, "decks[0].cards[0].imported_question: expected text, found 3"),
        ("a\x00b", "decks[0].cards[0].imported_question: must not contain NUL characters"),
    ],
)
def test_a_bad_text_as_imported_is_named_and_nothing_is_written(owner, cleaned_deck, value,
                                                                 message):  # fmt: skip
    data = export_user_data(owner)
    data["decks"][0]["cards"][0]["imported_question"] = value
    newcomer = make_user("zed")
    with pytest.raises(TransferError, match=message.replace("[", r"\[").replace("]", r"\]")):
        import_user_data(newcomer, data)
    assert not Deck.objects.filter(owner=newcomer).exists()


def test_the_data_file_upload_keeps_it_too(client, owner, cleaned_deck):
    client.force_login(owner)
    body = b"".join(client.get(reverse("data_export")).streaming_content)
    assert json.loads(body)["decks"][0]["cards"][0]["imported_question"] == ORIGINAL


def test_a_copy_of_a_deck_keeps_the_text_as_imported(other, cleaned_deck):
    copy = copy_deck(cleaned_deck, other)
    card = copy.cards.get(external_id="19")
    assert (card.imported_question, card.imported_answer) == (ORIGINAL, "**Bold **here")
