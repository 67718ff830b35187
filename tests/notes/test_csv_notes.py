"""Notes in the deck CSV (cards/importers/csvnotes.py): reversed, optional-reversed and cloze
notes export with the note columns and import back to the same notes, cards and ords; plain
files import as before; a re-import changes a reversed or cloze card through its note."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cards.importers.errors import ImportFileError
from cards.importers.load import parse_deck_file, save_deck
from cards.models import Card, Deck, ImportJob, MemoryState, Note, NoteKind
from cards.scheduling import State
from cards.services.notes import create_note
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CLOZE = "The {{c1::heart}} pumps **blood** to the {{c2::lungs::organ}}; `{{c1::x}}` too"


@pytest.fixture
def deck(owner):
    deck = Deck.objects.create(owner=owner, name="Mixed")
    create_note(deck, NoteKind.BASIC, {"Front": "Plain?", "Back": "Yes, plain"}, "a")
    create_note(deck, NoteKind.REVERSED, {"Front": "chien", "Back": "dog"}, "fr")
    create_note(deck, NoteKind.OPTIONAL_REVERSED,
                {"Front": "chat", "Back": "cat", "Add Reverse": "y"}, "fr")  # fmt: skip
    create_note(deck, NoteKind.OPTIONAL_REVERSED, {"Front": "oiseau", "Back": "bird"}, "")
    create_note(deck, NoteKind.CLOZE, {"Text": CLOZE, "Back Extra": "Anatomy, *101*"}, "bio")
    return deck


def shape(deck):
    """Notes and cards as a user sees them, without ids."""
    return [
        (n.kind, n.fields, n.tags,
         [(c.ord, c.question, c.answer, c.question_html, c.answer_html, c.tags)
          for c in n.cards.order_by("ord")])
        for n in Note.objects.filter(deck=deck).order_by("pk")
    ]  # fmt: skip


def remember(user, card, stability):
    return MemoryState.objects.create(
        user=user, card=card, deck=card.deck, state=State.REVIEW,
        stability=stability, difficulty=5.0, due=timezone.now(), reps=1,
    )  # fmt: skip


def export(client, deck) -> bytes:
    response = client.get(reverse("deck_export_csv", args=[deck.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _bob():
    bob = make_user("bob")
    client = Client()
    client.force_login(bob)
    return bob, client


def test_notes_round_trip_through_the_csv_into_another_account(owner_client, deck):
    data = export(owner_client, deck)
    lines = data.decode().splitlines()
    assert lines[0] == "question,answer,id,tags,note,kind,ord,text,back extra,add reverse"
    assert lines[1] == 'Plain?,"Yes, plain",,a,n1,basic,0,,,'
    assert lines[2:4] == ["chien,dog,,fr,n2,reversed,0,,,", "dog,chien,,fr,n2,reversed,1,,,"]
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert len(rows) == 1 + 1 + 2 + 2 + 1 + 2
    assert rows[-1][4:8] == ["n5", "cloze", "1", CLOZE]

    bob, client = _bob()
    response = client.post(reverse("deck_import"), {"file": SimpleUploadedFile("m.csv", data)})
    assert response.status_code == 302, response.content[:800]
    job = ImportJob.objects.get(user=bob)
    assert job.status == ImportJob.Status.DONE, job.message
    copy = Deck.objects.get(owner=bob)
    assert shape(copy) == shape(deck)
    assert [c.ord for c in copy.cards.order_by("position", "pk")] == [0, 0, 1, 0, 1, 0, 0, 1]
    assert export(client, copy) == data  # and it exports to the same file

    # Importing the same file again changes nothing.
    result = save_deck(parse_deck_file(data, "m.csv"), owner=bob, deck=copy)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 8)
    assert shape(copy) == shape(deck)


def test_a_deck_of_basic_notes_exports_the_old_columns(owner_client, owner):
    deck = Deck.objects.create(owner=owner, name="Old")
    Card.objects.create(deck=deck, question="Q", answer="A", tags="t")
    assert export(owner_client, deck) == b"question,answer,id,tags\nQ,A,,t\n"


def test_an_old_csv_imports_as_before(owner):
    parsed = parse_deck_file(b"question,answer,tags\nQ1,A1,x\nQ2,A2,\n", "old.csv")
    result = save_deck(parsed, owner=owner)
    assert result.created == 2
    notes = Note.objects.filter(deck=result.deck).order_by("pk")
    assert [(n.kind, n.fields) for n in notes] == [
        ("basic", {"Front": "Q1", "Back": "A1"}),
        ("basic", {"Front": "Q2", "Back": "A2"}),
    ]


def test_a_hand_written_cloze_row_makes_one_card_per_number(owner):
    text = 'question,answer,kind,text\n"x","y",cloze,"{{c1::a}} and {{c2::b}} and {{c1::c}}"\n'
    result = save_deck(parse_deck_file(text.encode(), "c.csv"), owner=owner)
    note = Note.objects.get(deck=result.deck)
    assert note.kind == "cloze" and result.created == 2
    assert list(note.cards.order_by("ord").values_list("ord", "question")) == [
        (0, "[...] and b and [...]"),
        (1, "a and [...] and c"),
    ]


@pytest.mark.parametrize("body, message", [
    ("Q,A,n1,sideways,0,", "row 2: unknown kind 'sideways'"),
    ("Q,A,n1,reversed,x,", "row 2: the ord must be a number"),
    ("Q,A,n1,cloze,0,no deletion", "needs at least one cloze deletion"),
    ("Q,A,n1,basic,0,\nR,B,n1,basic,0,", "note 'n1' is Basic, which has one card"),
    ("Q,A,n1,reversed,0,\nR,B,n1,cloze,0,{{c1::x}}", "row 3: note 'n1' is reversed on row 2"),
])  # fmt: skip
def test_bad_note_rows_are_named(body, message):
    data = f"question,answer,note,kind,ord,text\n{body}\n".encode()
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_deck_file(data, "bad.csv")


def test_a_reimport_changes_a_reversed_card_through_its_note(owner):
    deck = Deck.objects.create(owner=owner, name="Words")
    note = create_note(deck, NoteKind.REVERSED, {"Front": "chien", "Back": "dog"})
    front, back = note.cards.order_by("ord")
    remember(owner, back, 3.0)
    Card.objects.filter(pk=back.pk).update(external_id="b1")
    # A plain CSV (or seed) row names the reverse card by its id with new text.
    parsed = parse_deck_file(b"question,answer,id,tags\nhound,chien,b1,pets\n", "w.csv")
    result = save_deck(parsed, owner=owner, deck=deck)
    assert result.updated == 1
    note.refresh_from_db()
    assert note.fields == {"Front": "chien", "Back": "hound"} and note.tags == "pets"
    front.refresh_from_db()
    back.refresh_from_db()
    assert (front.question, front.answer, front.tags) == ("chien", "hound", "pets")
    assert (back.question, back.answer, back.external_id) == ("hound", "chien", "b1")
    assert "hound" in front.answer_html and "hound" in back.question_html
    assert MemoryState.objects.get(card=back).stability == 3.0  # history kept


def test_a_reimport_of_a_cloze_note_updates_the_note_and_its_cards(owner, owner_client):
    deck = Deck.objects.create(owner=owner, name="Cloze")
    note = create_note(deck, NoteKind.CLOZE, {"Text": "{{c1::a}} {{c2::b}}", "Back Extra": ""})
    first = note.cards.get(ord=0)
    remember(owner, first, 2.0)
    data = export(owner_client, deck).decode().replace("{{c2::b}}", "{{c3::b}}")
    result = save_deck(parse_deck_file(data.encode(), "c.csv"), owner=owner, deck=deck)
    assert (result.created, result.updated) == (1, 1)
    assert sorted(note.cards.values_list("ord", flat=True)) == [0, 2]
    assert MemoryState.objects.get(card__note=note).card_id == first.pk

    # A plain row for a cloze card cannot rewrite the Text: the card keeps it, takes the tags.
    plain = f"question,answer,tags\n{first.question},new answer,t\n".encode()
    save_deck(parse_deck_file(plain, "p.csv"), owner=owner, deck=deck)
    note.refresh_from_db()
    first.refresh_from_db()
    assert note.fields["Text"] == "{{c1::a}} {{c3::b}}" and note.tags == "t"
    assert first.answer == "a b" and first.tags == "t"


def test_another_users_deck_csv_is_a_404(owner_client, deck):
    bob, client = _bob()
    assert client.get(reverse("deck_export_csv", args=[deck.pk])).status_code == 404


def test_the_note_columns_export_takes_a_fixed_number_of_queries(
    owner_client, deck, django_assert_num_queries
):
    url = reverse("deck_export_csv", args=[deck.pk])
    # session, user, deck, "has reversed or cloze notes", the cards with their notes (joined)
    with django_assert_num_queries(5):
        b"".join(owner_client.get(url).streaming_content)
    for i in range(20):
        create_note(deck, NoteKind.CLOZE, {"Text": f"{{{{c1::{i}}}}} {{{{c2::x}}}}"})
    with django_assert_num_queries(5):
        b"".join(owner_client.get(url).streaming_content)


def test_a_reimport_never_changes_a_notes_kind(owner):
    from cards.importers.load import ImportAborted

    deck = Deck.objects.create(owner=owner, name="Kinds")
    note = create_note(deck, NoteKind.REVERSED, {"Front": "chien", "Back": "dog"})
    Card.objects.filter(note=note, ord=0).update(external_id="c1")
    data = b"question,answer,id,note,kind,ord,text\nx,y,new,n9,cloze,0,{{c1::z}}\n"
    data += b"[...],chien,c1,n1,cloze,0,{{c1::chien}}\n"
    with pytest.raises(ImportAborted, match="reversed.*delete it first"):
        save_deck(parse_deck_file(data, "k.csv"), owner=owner, deck=deck)
    assert Note.objects.filter(deck=deck).count() == 1  # the new cloze note was removed again
    assert sorted(deck.cards.values_list("ord", "question")) == [(0, "chien"), (1, "dog")]
