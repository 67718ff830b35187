"""One test per limit and per path that adds decks or cards: refused with a message naming the
limit, nothing written (cards/limits.py, docs/configuration.md)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from cards.limits import LimitError, check_limits
from cards.models import Card, Deck, ImportJob

from .conftest import add_cards


def snapshot():
    return (
        list(Deck.objects.order_by("pk").values_list("pk", "name")),
        list(Card.objects.order_by("pk").values_list("pk", "question")),
        ImportJob.objects.count(),
    )


def csv_upload(count, name="deck.csv"):
    rows = "".join(f"Q{i},A{i}\n" for i in range(count))
    return SimpleUploadedFile(name, f"question,answer\n{rows}".encode(), content_type="text/csv")


def form_errors(response) -> str:
    form = response.context["form"]
    return " ".join(form.non_field_errors() + form.errors.get("file", []))


# --- IMPORT_MAX_CARDS ----------------------------------------------------------------------


@override_settings(IMPORT_MAX_CARDS=3)
def test_the_web_import_refuses_a_file_with_too_many_cards(owner_client):
    before = snapshot()
    response = owner_client.post(reverse("deck_import"), {"file": csv_upload(4)})
    assert form_errors(response) == (
        "deck.csv: the file has more than 3 cards; one import takes at most 3 (IMPORT_MAX_CARDS): "
        "split the file; nothing was imported."
    )
    assert snapshot() == before


def test_the_issues_million_row_csv_is_refused_before_it_is_parsed(owner_client):
    # The repro of issue 13: 3 MB, `q,` x 1,000,000 once made a million cards in one request.
    data = b"question,answer\n" + b"q,\n" * 1_000_000
    before = snapshot()
    upload = SimpleUploadedFile("million.csv", data, content_type="text/csv")
    response = owner_client.post(reverse("deck_import"), {"file": upload})
    assert "the file has more than 20,000 cards" in form_errors(response)
    assert "(IMPORT_MAX_CARDS)" in form_errors(response)
    assert snapshot() == before


@override_settings(IMPORT_MAX_CARDS=41)
def test_a_seed_export_with_too_many_cards_is_refused(owner_client, seed_path):
    before = snapshot()
    upload = SimpleUploadedFile("seed.txt", seed_path.read_bytes(), content_type="text/plain")
    response = owner_client.post(reverse("deck_import"), {"file": upload})
    assert "the file has more than 41 cards" in form_errors(response)
    assert snapshot() == before


@override_settings(IMPORT_MAX_CARDS=3)
def test_the_import_commands_refuse_a_file_with_too_many_cards(owner, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(csv_upload(4).read())
    before = snapshot()
    for command, options in [("import_deck", {}), ("import_cards", {"user": "alice", "deck": "B"})]:
        with pytest.raises(CommandError, match=r"IMPORT_MAX_CARDS.*nothing was imported"):
            call_command(command, str(path), **options)
    assert snapshot() == before


# --- DECK_MAX_CARDS ------------------------------------------------------------------------


@override_settings(DECK_MAX_CARDS=4)
def test_adding_a_card_to_a_full_deck_is_refused(owner_client, own_deck):
    before = snapshot()
    url = reverse("card_create", args=[own_deck.pk])
    response = owner_client.post(url, {"question": "One more", "answer": "x"})
    assert form_errors(response) == (
        'The card was not added: the deck "Alice\'s deck" has 4 cards and this would add 1; a '
        "deck holds at most 4 cards (DECK_MAX_CARDS)."
    )
    assert snapshot() == before


@override_settings(DECK_MAX_CARDS=5)
def test_importing_into_a_deck_past_its_size_is_refused(owner_client, own_deck):
    before = snapshot()
    response = owner_client.post(
        reverse("deck_import"), {"file": csv_upload(2), "deck": own_deck.pk}
    )
    assert "has 4 cards and this would add 2; a deck holds at most 5 cards (DECK_MAX_CARDS)" in (
        form_errors(response)
    )
    assert snapshot() == before


@override_settings(DECK_MAX_CARDS=5)
def test_reimporting_the_same_cards_does_not_count_them_twice(owner_client, owner):
    owner_client.post(reverse("deck_import"), {"file": csv_upload(5)})
    deck = Deck.objects.get(owner=owner)
    response = owner_client.post(reverse("deck_import"), {"file": csv_upload(5), "deck": deck.pk})
    assert response.status_code == 302 and deck.cards.count() == 5


@override_settings(DECK_MAX_CARDS=3)
def test_a_new_deck_bigger_than_a_deck_may_be_is_refused(owner_client):
    before = snapshot()
    response = owner_client.post(reverse("deck_import"), {"file": csv_upload(4)})
    assert "the new deck has 0 cards and this would add 4" in form_errors(response)
    assert "(DECK_MAX_CARDS)" in form_errors(response)
    assert snapshot() == before


@override_settings(DECK_MAX_CARDS=50)
def test_copying_a_deck_bigger_than_a_deck_may_be_is_refused(owner_client, public_deck):
    add_cards(public_deck, 50)
    before = snapshot()
    response = owner_client.post(reverse("deck_copy", args=[public_deck.pk]), follow=True)
    assert "Nothing was created: the new deck has 0 cards and this would add 51" in (
        response.content.decode()
    )
    assert snapshot() == before


# --- USER_MAX_DECKS ------------------------------------------------------------------------


@override_settings(USER_MAX_DECKS=1)
def test_creating_a_deck_past_the_limit_is_refused(owner_client, own_deck):
    before = snapshot()
    response = owner_client.post(reverse("deck_create"), {"name": "Second"})
    assert form_errors(response) == (
        "Nothing was created: you have 1 decks and this would add 1; a user may have at most 1 "
        "decks (USER_MAX_DECKS)."
    )
    assert snapshot() == before


@override_settings(USER_MAX_DECKS=1)
def test_copying_a_deck_past_the_limit_is_refused(owner_client, own_deck, public_deck):
    before = snapshot()
    response = owner_client.post(reverse("deck_copy", args=[public_deck.pk]), follow=True)
    assert "a user may have at most 1 decks (USER_MAX_DECKS)" in response.content.decode()
    assert snapshot() == before


@override_settings(USER_MAX_DECKS=1)
def test_importing_a_new_deck_past_the_limit_is_refused(owner_client, own_deck):
    before = snapshot()
    response = owner_client.post(reverse("deck_import"), {"file": csv_upload(2)})
    assert "(USER_MAX_DECKS)" in form_errors(response)
    assert snapshot() == before


@override_settings(USER_MAX_DECKS=1)
def test_importing_into_an_existing_deck_needs_no_new_deck(owner_client, own_deck):
    response = owner_client.post(
        reverse("deck_import"), {"file": csv_upload(2), "deck": own_deck.pk}
    )
    assert response.status_code == 302 and own_deck.cards.count() == 6


# --- who and how ---------------------------------------------------------------------------


@override_settings(USER_MAX_DECKS=1)
def test_staff_are_held_to_the_limits_too(client, staff):
    Deck.objects.create(owner=staff, name="Mine")
    client.force_login(staff)
    response = client.post(reverse("deck_create"), {"name": "Second"})
    assert "(USER_MAX_DECKS)" in form_errors(response)
    assert Deck.objects.filter(owner=staff).count() == 1


@override_settings(USER_MAX_DECKS=0, DECK_MAX_CARDS=10)
def test_site_decks_count_against_no_user(db):
    check_limits(None, new_decks=1, new_cards_by_deck={"site": 10})
    with pytest.raises(LimitError, match="DECK_MAX_CARDS"):
        check_limits(None, new_decks=1, new_cards_by_deck={"site": 11})


# --- the JSON data import ------------------------------------------------------------------


def data_upload(decks: int, cards_each: int = 0):
    payload = {
        "format": "studyapp.user-data", "version": 1, "settings": None,
        "decks": [
            {"name": f"D{d}", "description": "", "is_public": False, "cards": [
                {"question": f"Q{c}", "answer": "", "position": c, "external_id": "",
                 "tags": "", "suspended": False}
                for c in range(cards_each)
            ]}
            for d in range(decks)
        ],
        "shared_cards": [], "memory_states": [], "review_logs": [],
    }  # fmt: skip
    data = json.dumps(payload).encode()
    return SimpleUploadedFile("data.json", data, content_type="application/json")


@pytest.mark.parametrize(
    ("limits", "decks", "cards_each", "named"),
    [
        # The issue's repro had 10,000 decks in one file (24 s in one transaction).
        ({"USER_MAX_DECKS": 500}, 501, 0, "a user may have at most 500 decks (USER_MAX_DECKS)"),
        ({"DECK_MAX_CARDS": 3}, 1, 4, "a deck holds at most 3 cards (DECK_MAX_CARDS)"),
        ({"IMPORT_MAX_CARDS": 5}, 2, 3, "one import takes at most 5 (IMPORT_MAX_CARDS)"),
    ],
    ids=["decks", "deck-size", "import-size"],
)
def test_the_data_import_is_held_to_the_limits(owner_client, limits, decks, cards_each, named):
    before = snapshot()
    with override_settings(**limits):
        response = owner_client.post(
            reverse("data_import"), {"file": data_upload(decks, cards_each)}
        )
    assert named in form_errors(response)
    assert "Nothing was imported." in form_errors(response)
    assert snapshot() == before


# --- CARD_TEXT_MAX_CHARS -------------------------------------------------------------------


@override_settings(CARD_TEXT_MAX_CHARS=50)
def test_a_card_longer_than_the_limit_is_refused_by_the_editor(owner_client, own_deck):
    before = snapshot()
    url = reverse("card_create", args=[own_deck.pk])
    response = owner_client.post(url, {"question": "q" * 51, "answer": "a"})
    errors = response.context["form"].errors["question"]
    assert errors == ["must be at most 50 characters (CARD_TEXT_MAX_CHARS; it has 51)"]
    assert snapshot() == before


@override_settings(CARD_TEXT_MAX_CHARS=50)
def test_a_card_longer_than_the_limit_is_refused_by_the_import(owner_client):
    before = snapshot()
    data = b"question,answer\nshort,fine\nlong," + b"a" * 51 + b"\n"
    upload = SimpleUploadedFile("deck.csv", data, content_type="text/csv")
    response = owner_client.post(reverse("deck_import"), {"file": upload})
    assert "row 3" in form_errors(response)
    assert "CARD_TEXT_MAX_CHARS" in form_errors(response)
    assert snapshot() == before
