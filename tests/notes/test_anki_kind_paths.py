"""Notes of an imported Anki note type (kind "anki") on every path written before that kind
existed: a card saved directly, the "all my data" file, deck copies, deletions and the CSV.
The notes come from a package the real Anki backend wrote (tests/anki/builders.py)."""

import json

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from cards.importers.load import parse_deck_file, save_deck  # noqa: E402
from cards.models import Card, Deck, Note, NoteKind, NoteType  # noqa: E402
from cards.services.deletion import delete_deck  # noqa: E402
from cards.services.imports import copy_deck  # noqa: E402
from cards.services.transfer import export_user_data, import_user_data, parse_user_data  # noqa: E402
from cards.services.user_data import TransferError  # noqa: E402
from tests.anki.builders import (  # noqa: E402
    CUSTOM_NOTETYPE,
    build_collection,
    export_apkg,
    import_file,
)
from tests.conftest import make_user  # noqa: E402

pytestmark = pytest.mark.django_db
FRENCH = "Lang::French"  # the deck of the package's two notes of the custom note type


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("anki-kind")
    col = build_collection(folder)
    path = export_apkg(col, folder / "kinds.apkg", legacy=False)
    col.close()
    return path


@pytest.fixture
def imported(package, owner):
    import_file(package, owner)
    return Deck.objects.get(owner=owner, name=FRENCH)


def anki_cards(deck):
    return Card.objects.filter(deck=deck, note__kind=NoteKind.ANKI).order_by("note_id", "ord")


def shape(deck):
    """Each Anki note of the deck with its note type's content and its cards as shown."""
    notes = Note.objects.filter(deck=deck, kind=NoteKind.ANKI).select_related("note_type")
    return sorted(
        (json.dumps(n.fields), n.tags, n.guid, n.note_type.name, n.note_type.anki_id,
         json.dumps(n.note_type.templates), n.note_type.css, json.dumps(n.note_type.field_names),
         sorted(n.cards.values_list("ord", "question", "answer", "question_html", "answer_html")))
        for n in notes
    )  # fmt: skip


# --- Card.save ------------------------------------------------------------------------------


def test_a_card_saved_directly_keeps_its_template_html(imported):
    card = anki_cards(imported).first()
    before = (card.question, card.answer, card.question_html, card.answer_html)
    assert "<" in card.answer_html  # the template's HTML, not Markdown of the plain text
    card.question, card.answer = "typed over", "in the admin"
    card.save()
    card.refresh_from_db()
    assert (card.question, card.answer, card.question_html, card.answer_html) == before
    card = Card.objects.get(pk=card.pk)  # no note read yet
    card.answer = "another"
    card.save(update_fields=["answer"])
    card.refresh_from_db()
    assert (card.question, card.answer, card.question_html, card.answer_html) == before


def test_a_saved_card_follows_its_notes_fields(imported):
    card = anki_cards(imported).first()
    Note.objects.filter(pk=card.note_id).update(
        fields={**card.note.fields, "Word": "le <b>gros</b> chat"}
    )
    card = Card.objects.get(pk=card.pk)
    card.save()
    assert "<b>gros</b>" in card.question_html and "le gros chat" in card.question


# --- The "all my data" file -----------------------------------------------------------------


def without_time(data):
    return {key: value for key, value in data.items() if key != "exported_at"}


def test_anki_notes_and_their_note_type_round_trip(imported, owner):
    data = export_user_data(owner)
    assert [nt["name"] for nt in data["note_types"]] == [CUSTOM_NOTETYPE]
    french = next(d for d in data["decks"] if d["name"] == FRENCH)
    assert {n["note_type"] for n in french["notes"] if n["kind"] == "anki"} == {0}

    newcomer = make_user("dora")
    import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))
    copied = Deck.objects.get(owner=newcomer, name=FRENCH)
    assert shape(copied) == shape(imported) and shape(copied)
    note_type = NoteType.objects.get(owner=newcomer)
    assert note_type.pk != NoteType.objects.get(owner=owner).pk
    assert without_time(export_user_data(newcomer)) == without_time(data)

    # Imported again, the same note type serves both copies.
    import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))
    assert NoteType.objects.filter(owner=newcomer).count() == 1
    assert Note.objects.filter(deck__owner=newcomer, note_type=note_type).count() == 4


def anki_note(deck, note_type, fields):
    """A note of `note_type` with the cards its templates make (as the package import does)."""
    from cards.services.notes import generate_anki

    note = Note.objects.create(deck=deck, kind=NoteKind.ANKI, note_type=note_type, fields=fields)
    for ord_, made in generate_anki(note_type, fields, deck=deck.name).items():
        card = Card(deck=deck, note=note, ord=ord_, position=ord_ + 1)
        card.question, card.answer = made.question, made.answer
        card.question_html, card.answer_html = made.question_html, made.answer_html
        card._from_note = True
        card.save()
    return note


def test_cloze_note_types_and_emptied_cards_round_trip(owner):
    from cards.services.notes import update_note

    deck = Deck.objects.create(owner=owner, name="Own types")
    two = NoteType.objects.create(
        owner=owner,
        name="Two sides",
        field_names=["A", "B"],
        templates=[
            {"name": "one", "front": "{{A}}", "back": "{{B}}"},
            {"name": "two", "front": "{{B}}", "back": "{{A}}"},
        ],
    )
    cloze = NoteType.objects.create(owner=owner, name="My cloze", is_cloze=True, anki_id=None,
                                    field_names=["Text"], templates=[
                                        {"name": "C", "front": "{{cloze:Text}}",
                                         "back": "{{cloze:Text}}<hr>{{Deck}}"}])  # fmt: skip
    note = anki_note(deck, two, {"A": "x", "B": "y"})
    update_note(note, {"A": "x", "B": ""})  # card 2 is kept, rendered empty, as Anki keeps it
    anki_note(deck, cloze, {"Text": "{{c1::a}} and {{c3::b}}"})
    data = export_user_data(owner)
    assert len(data["note_types"]) == 2

    newcomer = make_user("dora")
    import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))
    copied = Deck.objects.get(owner=newcomer)
    assert shape(copied) == shape(deck)
    assert sorted(Card.objects.filter(deck=copied).values_list("ord", flat=True)) == [0, 0, 1, 2]
    assert "Own types" in Card.objects.get(deck=copied, ord=2).answer_html  # {{Deck}}


def test_a_file_without_anki_notes_has_no_note_types(owner):
    Card.objects.create(deck=Deck.objects.create(owner=owner, name="Plain"), question="q")
    assert "note_types" not in export_user_data(owner)


def break_template(data):
    data["note_types"][0]["templates"][1]["front"] = "{{#Meaning}} never closed"


def set_in_note_type(name, value):
    return lambda data: data["note_types"][0].update({name: value})


def in_french_notes(change):
    def apply(data):
        deck = next(d for d in data["decks"] if d["name"] == FRENCH)
        change(next(n for n in deck["notes"] if n["kind"] == "anki"))

    return apply


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (break_template, "note_types[0].templates[1].front"),
        (lambda d: d["note_types"][0]["templates"][0].pop("back"), "note_types[0].templates[0]"),
        (lambda d: d["note_types"][0]["field_names"].__setitem__(1, ""),
         "note_types[0].field_names[1]"),
        (lambda d: d["note_types"][0]["field_names"].__setitem__(2, "Word"),
         "note_types[0].field_names[2]"),
        (set_in_note_type("templates", []), "note_types[0].templates"),
        (set_in_note_type("name", 7), "note_types[0].name"),
        (set_in_note_type("css", "a\x00"), "note_types[0].css"),
        (lambda d: d.update(note_types={}), "note_types"),
        (lambda d: d.pop("note_types"), ".note_type"),
        (in_french_notes(lambda n: n.update(note_type=3)), ".note_type"),
        (in_french_notes(lambda n: n["fields"].update(Nope="x")), ".fields.Nope"),
    ],
)  # fmt: skip
def test_a_bad_note_type_is_named_and_nothing_is_imported(imported, owner, change, where):
    data = export_user_data(owner)
    change(data)
    newcomer = make_user("dora")
    with pytest.raises(TransferError) as caught:
        import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))
    assert where in str(caught.value)
    assert not Deck.objects.filter(owner=newcomer).exists()
    assert not NoteType.objects.filter(owner=newcomer).exists()


def test_a_failed_write_removes_the_note_types_it_made(imported, owner, monkeypatch):
    from cards.services import data_import

    data = export_user_data(owner)
    newcomer = make_user("dora")

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(data_import.MemoryState.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        import_user_data(newcomer, parse_user_data(json.dumps(data).encode()))
    assert not Deck.objects.filter(owner=newcomer).exists()
    assert not NoteType.objects.filter(owner=newcomer).exists()


# --- Deck copies ----------------------------------------------------------------------------


def test_a_copy_for_another_user_gets_their_own_note_type(imported, owner, other):
    source_type = NoteType.objects.get(owner=owner)
    copy = copy_deck(imported, other)
    theirs = NoteType.objects.get(owner=other)
    assert theirs.pk != source_type.pk
    assert (theirs.name, theirs.anki_id, theirs.templates, theirs.field_names, theirs.css) == (
        source_type.name, source_type.anki_id, source_type.templates, source_type.field_names,
        source_type.css,
    )  # fmt: skip
    assert shape(copy) == shape(imported)
    assert not Note.objects.filter(deck=copy, kind=NoteKind.ANKI).exclude(note_type=theirs)
    # A second copy uses the same note type; a copy for the owner shares theirs.
    copy_deck(imported, other)
    assert NoteType.objects.filter(owner=other).count() == 1
    own = copy_deck(imported, owner)
    assert set(Note.objects.filter(deck=own, kind=NoteKind.ANKI).values_list(
        "note_type", flat=True)) == {source_type.pk}  # fmt: skip
    assert NoteType.objects.filter(owner=owner).count() == 1
    # The owner changing their note type (as a re-import does) leaves the copies as they were;
    # a copy made after that gets the changed one as a note type of its own.
    source_type.templates = [{"name": "Only", "front": "{{Meaning}}", "back": "{{Word}}"}]
    source_type.save()
    assert NoteType.objects.get(pk=theirs.pk).templates == theirs.templates
    later = copy_deck(imported, other)
    assert Note.objects.filter(deck=later, note_type__templates=source_type.templates).exists()
    assert NoteType.objects.filter(owner=other).count() == 2


# --- Deletion -------------------------------------------------------------------------------


def test_deleting_the_deck_removes_its_unused_note_type(imported, owner):
    copy = copy_deck(imported, owner)  # shares the note type
    delete_deck(imported)
    assert NoteType.objects.filter(owner=owner).count() == 1  # the copy still uses it
    copy.delete()  # as the admin does it
    assert not NoteType.objects.filter(owner=owner).exists()


def test_deleting_an_account_never_hits_the_protected_note_type(imported, owner, other):
    copy = copy_deck(imported, other)
    owner.delete()
    assert not NoteType.objects.filter(owner__isnull=True).exists()
    assert NoteType.objects.filter(owner=other).count() == 1
    assert shape(copy)  # the copy's notes and note type are untouched
    other.delete()
    assert not NoteType.objects.exists()


def test_deleting_a_note_type_in_use_is_still_refused(imported, owner):
    with pytest.raises(ProtectedError):
        NoteType.objects.get(owner=owner).delete()


# --- The deck CSV ---------------------------------------------------------------------------


def test_the_csv_of_anki_notes_imports_back_without_touching_them(imported, owner, client):
    client.force_login(owner)
    body = b"".join(client.get(reverse("deck_export_csv", args=[imported.pk])).streaming_content)
    assert b",anki," in body
    before = shape(imported)
    result = save_deck(parse_deck_file(body, "french.csv"), owner=owner, deck=imported)
    assert shape(imported) == before and result.created == 0

    retagged = body.replace(b"custom", b"custom later")
    save_deck(parse_deck_file(retagged, "french.csv"), owner=owner, deck=imported)
    notes = Note.objects.filter(deck=imported, kind=NoteKind.ANKI)
    assert {n.tags for n in notes} == {"custom later"}
    assert [s[:1] + s[2:] for s in shape(imported)] == [s[:1] + s[2:] for s in before]

    # Into another deck the note type cannot come along: Basic cards of the readable text.
    elsewhere = save_deck(parse_deck_file(body, "french.csv"), owner=owner, name="Fresh").deck
    texts = {c.question: c.answer for c in anki_cards(imported)}
    made = elsewhere.cards.filter(question__in=texts).select_related("note")
    assert {c.question: c.answer for c in made} == texts
    assert {c.note.kind for c in made} == {NoteKind.BASIC}


def test_the_export_reads_note_types_in_one_query(imported, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cards.services.transfer import export_json

    with CaptureQueriesContext(connection) as first:
        export_json(owner)
    copy_deck(imported, owner)
    copy_deck(imported, owner)
    with CaptureQueriesContext(connection) as again:
        export_json(owner)
    assert len(again) == len(first)
    assert sum("cards_notetype" in q["sql"] for q in again.captured_queries) == 1


# --- The card editors -----------------------------------------------------------------------


def test_the_card_editors_send_an_anki_cards_text_to_its_note(imported, owner, client, staff):
    from cards.forms_authoring import AnswerForm, CardForm

    card = anki_cards(imported).first()
    for form in (  # the in-place answer, and the study page's edit
        AnswerForm({"answer": "typed"}, instance=card),
        CardForm({"question": "q", "answer": "a", "tags": ""}, instance=card),
    ):
        assert not form.is_valid()
        assert "edit the note instead" in str(form.non_field_errors())
    client.force_login(owner)
    page = client.get(reverse("card_edit", args=[card.pk]))
    assert page.status_code == 200 and "Word" in page.content.decode()  # the note's fields
    html = card.answer_html
    client.post(reverse("card_answer", args=[card.pk]), {"answer": "typed"})
    assert Card.objects.get(pk=card.pk).answer_html == html

    client.force_login(staff)
    page = client.get(reverse("admin:cards_card_change", args=[card.pk]))
    assert page.status_code == 200
    assert b'name="question"' not in page.content and b'name="answer"' not in page.content
