"""Importing packages the real Anki backend wrote: note types, notes, cards, decks, tags and
media, in every package format, compared with what Anki itself reports and renders."""

import html
import re

import pytest

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from cards.models import Card, Deck, MediaFile, Note, NoteKind, NoteType  # noqa: E402

from .builders import (  # noqa: E402
    CUSTOM_FIELDS,
    CUSTOM_NOTETYPE,
    CUSTOM_TEMPLATES,
    FILTERED_DECK,
    FORMATS,
    IMAGE_NAME,
    SOUND_NAME,
    build_collection,
    build_packages,
    expected_content,
    export_apkg,
    import_file,
)

KINDS = {
    "Basic": NoteKind.BASIC,
    "Basic (and reversed card)": NoteKind.REVERSED,
    "Basic (optional reversed card)": NoteKind.OPTIONAL_REVERSED,
    "Cloze": NoteKind.CLOZE,
    CUSTOM_NOTETYPE: NoteKind.ANKI,
}


def visible_text(fragment: str) -> str:
    fragment = re.sub(r"<(style|script)\b.*?</\1>", "", fragment, flags=re.S | re.I)
    fragment = re.sub(r"<br\s*/?>|<hr[^>]*>|</div>|</summary>|</p>", " ", fragment, flags=re.I)
    fragment = re.sub(r"\[(?:sound:|anki:play:)[^\]]*\]", "", fragment)  # sound: skipped
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return build_packages(tmp_path_factory.mktemp("anki-import"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """An open collection (for Anki's own rendering) and its .apkg."""
    folder = tmp_path_factory.mktemp("anki-live")
    col = build_collection(folder)
    path = export_apkg(col, folder / "live.apkg", legacy=False)
    yield col, path
    col.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("learner", password="pw")


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_imports_the_same_content(made, user, fmt):
    expected, paths = made
    summary = import_file(paths[fmt], user)
    notetype_of = {n["id"]: name for name, n in expected.notetypes.items()}
    assert notetype_of  # the builder's note types
    assert Note.objects.count() == len(expected.notes)
    assert Card.objects.count() == len(expected.cards)
    assert summary.cards_created == len(expected.cards) and not summary.cards_skipped
    for note_id, anki_note in expected.notes.items():
        note = Note.objects.get(guid=anki_note["guid"])
        assert note.kind == KINDS[anki_note["notetype"]]
        assert note.tags.split() == anki_note["tags"]
        ords = sorted(c["ord"] for c in expected.cards.values() if c["note_id"] == note_id)
        assert sorted(note.cards.values_list("ord", flat=True)) == ords
    # One deck per Anki deck holding cards, full path names; the filtered deck is not made.
    homes = {expected.decks[c["deck_id"]] for c in expected.cards.values()}
    assert set(Deck.objects.filter(owner=user).values_list("name", flat=True)) == homes
    assert not Deck.objects.filter(name=FILTERED_DECK).exists()
    assert {d.name for d in summary.decks} == homes


@pytest.mark.django_db
def test_cards_read_as_anki_renders_them(live, user):
    col, path = live
    import_file(path, user)
    for card_id in col.find_cards(""):
        anki_card = col.get_card(card_id)
        note = Note.objects.get(guid=anki_card.note().guid)
        card = note.cards.get(ord=anki_card.ord)
        assert visible_text(card.question_html) == visible_text(anki_card.question())
        answer = anki_card.answer()
        if note.kind != NoteKind.ANKI:
            # Our pages show the question above the answer: a stock back is what follows
            # Anki's {{FrontSide}}<hr id=answer>.
            answer = answer.split("<hr id=answer>", 1)[-1]
        assert visible_text(card.answer_html) == visible_text(answer)
        assert card.deck.name == col.decks.name(anki_card.odid or anki_card.did)


@pytest.mark.django_db
def test_custom_note_type_is_kept_with_its_templates(live, user):
    col, path = live
    import_file(path, user)
    row = NoteType.objects.get(owner=user)
    model = col.models.by_name(CUSTOM_NOTETYPE)
    assert (row.name, row.anki_id, row.is_cloze) == (CUSTOM_NOTETYPE, model["id"], False)
    assert row.field_names == list(CUSTOM_FIELDS)
    assert [(t["name"], t["front"], t["back"]) for t in row.templates] == list(CUSTOM_TEMPLATES)
    assert row.css == model["css"]
    notes = Note.objects.filter(note_type=row)
    assert notes.count() == 2 and {n.kind for n in notes} == {NoteKind.ANKI}
    # Its fields stay Anki's HTML; the note can be edited, its cards follow.
    from cards.services.notes import update_note

    note = notes.get(fields__Word="le chat")
    update_note(note, {**note.fields, "Meaning": "the <b>big</b> cat"})
    back = note.cards.get(ord=0).answer_html
    assert "<b>big</b>" in back and "le chat" in back


@pytest.mark.django_db
def test_stock_fields_become_markdown_and_keep_what_anki_had(live, user):
    _, path = live
    summary = import_file(path, user)
    note = Note.objects.get(fields__Front="hablar")
    media = MediaFile.objects.get()
    url = f"/decks/{media.deck_id}/media/{media.sha256}.{media.extension}"
    assert note.fields["Back"] == f"to speak ![]({url})"
    card = note.cards.get()
    assert f'<img src="{url}"' in card.answer_html
    assert card.imported_answer.startswith("to speak <img src=")  # the field as Anki had it
    assert media.deck == note.deck and media.original_name == IMAGE_NAME
    assert summary.images == 1
    # Sound is not kept: listed as skipped, its reference gone from the text.
    assert summary.media_skipped == [SOUND_NAME]
    eat = Note.objects.get(fields__Front="comer")
    assert eat.fields["Back"] == "to eat"
    assert not Card.objects.filter(answer__contains="[sound:").exists()


@pytest.mark.django_db
def test_cloze_and_optional_reverse(live, user):
    _, path = live
    import_file(path, user)
    cloze = Note.objects.get(kind=NoteKind.CLOZE)
    assert cloze.fields == {"Text": "{{c1::Madrid::capital}} is in {{c2::Spain}}",
                            "Back Extra": "geo"}  # fmt: skip
    first = cloze.cards.get(ord=0)
    assert '<span class="cloze">[capital]</span>' in first.question_html
    optional = Note.objects.filter(kind=NoteKind.OPTIONAL_REVERSED)
    assert {n.fields["Front"]: n.cards.count() for n in optional} == {"vivir": 2, "parler": 1}


@pytest.mark.django_db
def test_site_and_public_decks(live, user):
    _, path = live
    user.is_staff = True
    user.save()
    summary = import_file(path, user, site=True, public=True)
    assert summary.decks and all(d.owner_id is None and d.is_public for d in summary.decks)
    assert NoteType.objects.get().owner is None


@pytest.mark.django_db
def test_notes_of_two_users_stay_apart(live, user, django_user_model):
    _, path = live
    other = django_user_model.objects.create_user("other")
    import_file(path, user)
    import_file(path, other)
    assert Deck.objects.filter(owner=user).count() == Deck.objects.filter(owner=other).count()
    assert Note.objects.filter(deck__owner=other).count() == len(
        expected_content(live[0], media=False).notes
    )


@pytest.mark.django_db
def test_an_imported_note_is_edited_through_its_own_fields(live, user, client):
    from django.urls import reverse

    _, path = live
    import_file(path, user)
    note = Note.objects.get(kind=NoteKind.ANKI, fields__Word="le chien")
    card = note.cards.get(ord=0)
    client.force_login(user)
    response = client.post(
        reverse("card_edit", args=[card.pk]),
        {
            "kind": "anki",
            "anki_0": "le chien",
            "anki_1": "the <i>dog</i>",
            "anki_2": "Wouf.",
            "tags": "custom",
        },  # fmt: skip
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    note.refresh_from_db()
    assert note.fields == {"Word": "le chien", "Meaning": "the <i>dog</i>", "Example": "Wouf."}
    card.refresh_from_db()
    assert "Wouf." in card.question_html  # {{#Example}} now shows it
    assert "<i>dog</i>" in card.answer_html


def test_only_the_stock_shape_maps_to_our_kinds():
    from cards.anki.collection import AnkiNotetype, AnkiTemplate
    from cards.anki.importer_records import kind_of

    stock_back = "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"

    def notetype(name, fields, front, back):
        return AnkiNotetype(1, name, False, fields, [AnkiTemplate("C", front, back)])

    basic = notetype("Mine", ["Front", "Back"], "{{Front}}", stock_back)
    assert kind_of(basic) == NoteKind.BASIC  # by shape, whatever the name
    custom_back = notetype("Basic", ["Front", "Back"], "{{Front}}", "{{Back}} {{hint:Front}}")
    assert kind_of(custom_back) == NoteKind.ANKI  # its own back would be lost as Basic
    extra_field = notetype("Basic", ["Front", "Back", "Notes"], "{{Front}}", stock_back)
    assert kind_of(extra_field) == NoteKind.ANKI
