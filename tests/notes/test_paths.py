"""Every path that makes or edits cards works on notes: the seed and CSV imports, the card
editor, the study page's edit, the admin and "Fill missing answers", deck copies, deck
deletion."""

import pytest
from django.urls import reverse

from cards.importers.load import parse_deck_file, save_deck
from cards.models import Card, Deck, Note
from cards.services.deletion import delete_cards, delete_deck
from cards.services.imports import copy_deck
from cards.services.notes import create_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def deck(owner):
    return Deck.objects.create(owner=owner, name="Mine")


def basic_fields(card):
    return {"Front": card.question, "Back": card.answer}


def assert_basic_notes(cards):
    for card in cards:
        assert card.note.kind == "basic" and card.ord == 0, card
        assert card.note.fields == basic_fields(card)
        assert (card.note.deck_id, card.note.tags) == (card.deck_id, card.tags)


def test_the_seed_import_makes_a_basic_note_per_card(seed_path, owner):
    deck = save_deck(parse_deck_file(seed_path.read_bytes(), seed_path.name), owner=owner).deck
    cards = list(deck.cards.select_related("note"))
    assert len(cards) == 42 == Note.objects.filter(deck=deck).count()
    assert_basic_notes(cards)


def test_a_csv_import_and_its_update_keep_the_notes_in_step(owner):
    first = b"id,question,answer,tags\n1,One?,,t\n2,Two?,Deux,\n"
    deck = save_deck(parse_deck_file(first, "words.csv"), owner=owner).deck
    assert_basic_notes(deck.cards.select_related("note"))
    again = b"id,question,answer,tags\n1,One?,Un,t u\n2,Two?!,Deux,\n3,Three?,Trois,\n"
    save_deck(parse_deck_file(again, "words.csv"), owner=owner, deck=deck)
    cards = list(deck.cards.select_related("note").order_by("position"))
    assert [c.question for c in cards] == ["One?", "Two?!", "Three?"]
    assert_basic_notes(cards)
    assert Note.objects.filter(deck=deck).count() == 3


def test_the_card_editor_creates_and_edits_basic_notes(owner_client, deck):
    owner_client.post(reverse("card_create", args=[deck.pk]), {"question": "Q", "answer": "A"})
    card = deck.cards.get()
    assert_basic_notes([card])
    owner_client.post(reverse("card_edit", args=[card.pk]), {"question": "Q2", "answer": "A2"})
    card.refresh_from_db()
    assert card.note.fields == {"Front": "Q2", "Back": "A2"}
    owner_client.post(reverse("card_answer", args=[card.pk]), {"answer": "A3"})
    assert Note.objects.get(pk=card.note_id).fields == {"Front": "Q2", "Back": "A3"}


def test_the_card_editor_never_overwrites_a_cloze_cards_text(owner_client, deck):
    card = create_note(deck, "cloze", {"Text": "{{c1::x}} y"}).cards.get()
    response = owner_client.post(
        reverse("card_edit", args=[card.pk]), {"question": "hacked", "answer": "z"}
    )
    assert response.status_code == 200  # the form again, with the reason
    card.refresh_from_db()
    assert card.question == "[...] y"


def test_the_study_pages_edit_writes_the_note(owner_client, deck):
    card = Card.objects.create(deck=deck, question="Q", answer="A")
    url = reverse("study_all_edit", args=[card.pk])
    owner_client.post(url, {"question": "Q", "answer": "better", "tags": ""})
    assert Note.objects.get(pk=card.note_id).fields == {"Front": "Q", "Back": "better"}


def test_another_users_card_is_a_404_in_the_editors(other_client, deck):
    card = Card.objects.create(deck=deck, question="Q", answer="A")
    assert other_client.post(reverse("card_edit", args=[card.pk]), {}).status_code == 404
    assert other_client.post(reverse("study_all_edit", args=[card.pk]), {}).status_code == 404


def test_the_admin_change_form_and_fill_missing_answers_write_the_note(client, staff):
    client.force_login(staff)
    deck = Deck.objects.create(name="Site", is_public=True)
    card = Card.objects.create(deck=deck, question="Blank?", answer="")
    response = client.post(
        reverse("admin:cards_card_fill_answers"),
        {"card": card.pk, "deck": deck.pk, "answer": "Filled", "action": "save"},
    )
    assert response.status_code == 302
    assert Note.objects.get(pk=card.note_id).fields == {"Front": "Blank?", "Back": "Filled"}
    change = reverse("admin:cards_card_change", args=[card.pk])
    data = {"deck": deck.pk, "question": "Blank?", "answer": "Changed", "position": 0,
            "external_id": "", "tags": "x"}  # fmt: skip
    assert client.post(change, data).status_code == 302
    note = Note.objects.get(pk=card.note_id)
    assert (note.fields["Back"], note.tags) == ("Changed", "x")


def test_the_admin_shows_a_cloze_cards_text_read_only(client, staff):
    client.force_login(staff)
    deck = Deck.objects.create(name="Site", is_public=True)
    card = create_note(deck, "cloze", {"Text": "{{c1::x}} y"}).cards.get()
    page = client.get(reverse("admin:cards_card_change", args=[card.pk]))
    assert page.status_code == 200
    assert b'name="question"' not in page.content and b'name="deck"' not in page.content


def test_a_deck_copy_copies_notes_with_their_kinds_and_siblings(deck, other):
    create_note(deck, "reversed", {"Front": "perro", "Back": "dog"}, tags="es")
    create_note(deck, "cloze", {"Text": "{{c1::a}} {{c2::b}}", "Back Extra": "x"})
    Card.objects.bulk_create([Card(deck=deck, question="bare", answer="b", position=99)])
    copy = copy_deck(deck, other)
    notes = list(Note.objects.filter(deck=copy).order_by("pk"))
    assert [n.kind for n in notes] == ["reversed", "cloze", "basic"]
    assert notes[1].fields == {"Text": "{{c1::a}} {{c2::b}}", "Back Extra": "x"}
    for note in notes:
        source = Note.objects.filter(deck=deck, kind=note.kind).first()
        pairs = list(note.cards.order_by("ord").values_list("ord", "question_html", "tags"))
        if source is not None:
            assert pairs == list(
                source.cards.order_by("ord").values_list("ord", "question_html", "tags")
            )
    assert not copy.cards.filter(note__isnull=True).exists()
    assert Note.objects.filter(deck=deck).count() == 2  # the bare card's note is the copy's


def test_deleting_cards_and_decks_deletes_their_notes(deck, owner):
    note = create_note(deck, "cloze", {"Text": "{{c1::a}} {{c2::b}}"})
    kept = create_note(deck, "basic", {"Front": "q", "Back": "a"})
    delete_cards(Card.objects.filter(note=note, ord=0))
    assert Note.objects.filter(pk=note.pk).exists()
    delete_cards(Card.objects.filter(note=note))
    assert not Note.objects.filter(pk=note.pk).exists()
    assert Note.objects.filter(pk=kept.pk).exists()
    delete_deck(deck)
    assert not Note.objects.exists()
