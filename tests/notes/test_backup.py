"""The JSON backup carries notes (kind, fields, tags, guid) and each card's ord; a file written
before notes existed still imports, each card becoming a Basic note."""

import json

import pytest

from cards.forms_authoring import AnswerForm, CardForm
from cards.models import Card, Deck, Note
from cards.services.notes import create_note
from cards.services.transfer import export_user_data, import_user_data, parse_user_data
from cards.services.user_data import TransferError
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def deck(owner):
    return Deck.objects.create(owner=owner, name="Mine")


def notes_of(user):
    return sorted(
        (n.deck.name, n.kind, json.dumps(n.fields), n.tags, n.guid,
         sorted(n.cards.values_list("ord", "question", "answer", "question_html", "answer_html")))
        for n in Note.objects.filter(deck__owner=user).select_related("deck")
    )  # fmt: skip


def test_notes_travel_and_export_import_export_gives_the_same_file(owner, deck):
    create_note(deck, "reversed", {"Front": "perro", "Back": "dog"}, tags="es")
    create_note(deck, "cloze", {"Text": "{{c1::a}} and {{c3::b::hint}}", "Back Extra": "x"})
    note = create_note(deck, "basic", {"Front": "q", "Back": "a"})
    Note.objects.filter(pk=note.pk).update(guid="anki-guid-1")
    Card.objects.create(deck=deck, question="plain", answer="card")
    data = export_user_data(owner)
    rows = data["decks"][0]
    assert [n["kind"] for n in rows["notes"]] == ["reversed", "cloze", "basic"]
    assert rows["notes"][2]["guid"] == "anki-guid-1"
    assert [(c.get("note"), c.get("ord")) for c in rows["cards"]] == [
        (None, None),
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 2),
        (2, 0),
    ]  # fmt: skip (the plain card is at position 0)

    newcomer = make_user("dora")
    import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))

    assert notes_of(newcomer) == notes_of(owner)
    again = export_user_data(newcomer)
    assert again["decks"] == data["decks"]


def test_a_collection_of_basic_cards_exports_as_before_notes(owner, deck):
    Card.objects.create(deck=deck, question="q", answer="a")
    data = export_user_data(owner)
    assert "notes" not in data["decks"][0]
    assert set(data["decks"][0]["cards"][0]) == {
        "question", "answer", "position", "external_id", "tags", "suspended",
        "imported_question", "imported_answer",
    }  # fmt: skip


def test_a_file_from_before_notes_imports_each_card_as_a_basic_note(owner):
    old = {
        "format": "studyapp.user-data", "version": 1, "exported_at": "2026-01-01T00:00:00+00:00",
        "settings": None, "shared_cards": [], "memory_states": [], "review_logs": [],
        "decks": [{"name": "Old", "description": "", "is_public": False, "cards": [
            {"question": "Q1", "answer": "A1", "position": 1, "external_id": "", "tags": "t",
             "suspended": False},
            {"question": "Q2", "answer": "", "position": 2, "external_id": "", "tags": "",
             "suspended": False},
        ]}],
    }  # fmt: skip
    import_user_data(owner, parse_user_data(json.dumps(old).encode()))
    cards = list(Card.objects.filter(deck__owner=owner).select_related("note"))
    assert len(cards) == 2
    for card in cards:
        assert card.note.kind == "basic" and card.ord == 0
        assert card.note.fields == {"Front": card.question, "Back": card.answer}
        assert card.note.tags == card.tags


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda d: d["notes"][0]["fields"].update(Text="{{c1::open"),
            "decks[0].notes[0].fields.Text",
        ),
        (lambda d: d["notes"][0].update(kind="weird"), "decks[0].notes[0].kind"),
        (lambda d: d["cards"][0].update(note=7), "decks[0].cards[0].note"),
        (lambda d: d["cards"][0].update(ord=5), "decks[0].cards[0].ord"),
        (lambda d: d["cards"][1].update(ord=0), "decks[0].cards[1].ord"),
        (lambda d: d["notes"][0].update(guid="x\x00"), "decks[0].notes[0].guid"),
    ],
)
def test_a_bad_note_in_a_file_is_named_and_nothing_is_imported(owner, deck, change, where):
    create_note(deck, "cloze", {"Text": "{{c1::a}} {{c2::b}}"})
    data = export_user_data(owner)
    change(data["decks"][0])
    newcomer = make_user("dora")
    with pytest.raises(TransferError) as caught:
        import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))
    assert where in str(caught.value)
    assert not Deck.objects.filter(owner=newcomer).exists()


def test_the_card_forms_refuse_a_cloze_cards_text(deck):
    card = create_note(deck, "cloze", {"Text": "{{c1::x}} y"}).cards.get()
    for form in (
        CardForm({"question": "q", "answer": "a", "tags": ""}, instance=card),
        AnswerForm({"answer": "a"}, instance=card),
    ):
        assert not form.is_valid()
        assert "This is a cloze card" in str(form.non_field_errors())
