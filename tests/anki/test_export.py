"""Our .apkg export, checked by importing it into a fresh collection of the real Anki backend
(the `anki` package) and comparing what Anki then holds with our database."""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cards.anki.export import PLAIN_TEXT, ExportSummary, export_deck
from cards.markdown import render_markdown
from cards.models import Card, Deck, MemoryState, Note, NoteKind, NoteType, ReviewLog
from cards.scheduling.days import study_day
from cards.services import card_marks
from cards.services.media import media_url, save_media
from cards.services.notes import create_note
from cards.services.reviews import issue_review_token, record_review
from cards.services.settings import get_study_settings
from tests.media.images import image_bytes

DECK = "Lang::Export"
STOCK_KINDS = [
    ("basic", "Basic", 1), ("reversed", "Basic (and reversed card)", 2),
    ("optional", "Basic (optional reversed card)", 3), ("cloze", "Cloze", 5),
]  # fmt: skip


def _review(user, card, rating, when, duration_ms):
    memory = MemoryState.objects.filter(user=user, card=card).first()
    token = issue_review_token(user, card, memory)
    record_review(user, token, rating, duration_ms=duration_ms, now=when)


@pytest.fixture
def built(owner):
    """A deck with each note kind, cloze, an Anki note type, images, real reviews (through
    the review service), a suspended and a flagged card."""
    settings = get_study_settings(owner)
    settings.rating_scale = "four"  # ratings are then the grades Anki's revlog stores
    settings.timezone = "UTC"
    settings.save()
    deck = Deck.objects.create(owner=owner, name=DECK, description="Verbs **and** more")
    cat, _ = save_media(deck, owner, image_bytes("PNG"), "cat.png")
    other_cat, _ = save_media(deck, owner, image_bytes("PNG", color=(0, 9, 9)), "dir/cat.png")
    notes = {
        "basic": create_note(
            deck, NoteKind.BASIC,
            {"Front": "hablar **fuerte**", "Back": f"to speak ![a cat]({media_url(cat)})"},
            "verbs geo::europe",
        ),
        "reversed": create_note(
            deck, NoteKind.REVERSED,
            {"Front": "comer", "Back": f"to eat ![another]({media_url(other_cat)})"}, "verbs",
        ),
        "optional": create_note(
            deck, NoteKind.OPTIONAL_REVERSED,
            {"Front": "vivir", "Back": "to live", "Add Reverse": "y"},
        ),
        "cloze": create_note(
            deck, NoteKind.CLOZE,
            {"Text": "{{c1::Madrid::capital}} is in {{c2::Spain}}", "Back Extra": "geo"}, "cloze",
        ),
    }  # fmt: skip
    note_type = NoteType.objects.create(
        owner=owner, name="Vocab (custom)", field_names=["Word", "Meaning"],
        templates=[
            {"name": "Recognise", "front": "{{Word}}", "back": "{{FrontSide}}<hr>{{Meaning}}"},
            {"name": "Recall", "front": "{{Meaning}}", "back": "{{FrontSide}}<hr>{{Word}}"},
        ],
        css=".card { font-family: serif; }",
    )  # fmt: skip
    custom = Note.objects.create(
        deck=deck, kind=NoteKind.ANKI, note_type=note_type, tags="custom",
        fields={"Word": "le <b>chat</b>", "Meaning": f'the cat <img src="{media_url(cat)}">'},
    )  # fmt: skip
    for ord_, (question, answer) in enumerate([("le chat", "the cat"), ("the cat", "le chat")]):
        Card(deck=deck, note=custom, ord=ord_, question=question, answer=answer,
             tags="custom", position=100 + ord_).save()  # fmt: skip
    notes["custom"] = custom
    cards = list(Card.objects.filter(deck=deck).order_by("note_id", "ord"))
    start = timezone.now() - timedelta(days=30)
    ratings = [(cards[0], 3), (cards[1], 1), (cards[2], 4), (cards[0], 3), (cards[1], 3),
               (cards[0], 2), (cards[5], 3), (cards[6], 1)]  # fmt: skip
    for i, (card, rating) in enumerate(ratings):
        _review(owner, card, rating, start + timedelta(days=3 * i, minutes=i), 1000 + 100 * i)
    card_marks.suspend(owner, [cards[3]])
    card_marks.flag(owner, [cards[0]], 3)
    return {"deck": deck, "notes": notes, "cards": cards, "images": (cat, other_cat)}


def _import(tmp_path: Path, data: bytes, name="target", col: Collection | None = None):
    package = tmp_path / f"{name}.apkg"
    package.write_bytes(data)
    col = col or Collection(str(tmp_path / f"{name}.anki2"))
    options = ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True)
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options))
    return col


def _export(deck, user, **kwargs) -> tuple[bytes, ExportSummary]:
    out = io.BytesIO()
    summary = export_deck(deck, user, out, **kwargs)
    return out.getvalue(), summary


def _anki_notes(col) -> dict:
    """guid -> (note type, fields, tags, sorted card ords, cards)."""
    found = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        cards = note.cards()
        found[note.guid] = (
            note.note_type(), dict(note.items()), sorted(note.tags),
            sorted(c.ord for c in cards), cards,
        )  # fmt: skip
    return found


def test_export_with_history_opens_in_anki_with_the_same_content(built, owner, tmp_path):
    deck = built["deck"]
    data, summary = _export(deck, owner, with_history=True)
    col = _import(tmp_path, data)
    try:
        notes = Note.objects.filter(deck=deck)
        assert summary.notes == notes.count() == col.note_count() == 5
        assert summary.cards == Card.objects.filter(deck=deck).count() == col.card_count() == 9
        assert summary.guids_assigned == 5 and all(n.guid for n in notes)
        found = _anki_notes(col)
        assert set(found) == {n.guid for n in notes}
        for note in notes:
            name, _, tags, ords, cards = found[note.guid]
            assert ords == sorted(note.cards.values_list("ord", flat=True))
            assert tags == sorted(note.tags.split())
            assert {col.decks.name(c.did) for c in cards} == {DECK}
        guid = dict(notes.values_list("pk", "guid"))
        by_kind = {kind: found[guid[note.pk]] for kind, note in built["notes"].items()}
        # Anki's stock note types, named as Anki names them (Anki adds "+" to a name its
        # collection already has under another id: it matches note types by id only).
        for kind, name, stock_kind in STOCK_KINDS:
            model = by_kind[kind][0]
            assert model["name"] in (name, f"{name}+") and model["originalStockKind"] == stock_kind
            stock = col.models.by_name(name)
            assert [f["name"] for f in model["flds"]] == [f["name"] for f in stock["flds"]]
            assert [t["qfmt"] for t in model["tmpls"]] == [t["qfmt"] for t in stock["tmpls"]]
            assert [t["afmt"] for t in model["tmpls"]] == [t["afmt"] for t in stock["tmpls"]]
        assert by_kind["basic"][1]["Front"] == "hablar <strong>fuerte</strong>"
        assert by_kind["optional"][1] == {"Front": "vivir", "Back": "to live", "Add Reverse": "y"}
        assert by_kind["cloze"][1]["Text"] == "{{c1::Madrid::capital}} is in {{c2::Spain}}"
        assert by_kind["custom"][0]["name"] == "Vocab (custom)"
        # An imported note type's fields hold Anki's HTML: exported as they are.
        assert by_kind["custom"][1] == {
            "Word": "le <b>chat</b>", "Meaning": 'the cat <img src="cat.png">'
        }  # fmt: skip
        custom_type = col.models.by_name("Vocab (custom)")
        assert [t["name"] for t in custom_type["tmpls"]] == ["Recognise", "Recall"]
        assert custom_type["css"] == ".card { font-family: serif; }"
        # Anki renders the cloze card as its own cloze note type does.
        cloze_card = next(c for c in by_kind["cloze"][4] if c.ord == 0)
        assert "[capital]" in cloze_card.question() and "Spain" in cloze_card.question()
        # Images: named by their original names (the clash made unique), bytes unchanged.
        cat, other_cat = built["images"]
        assert by_kind["basic"][1]["Back"] == 'to speak <img src="cat.png" alt="a cat">'
        assert '<img src="cat-2.png" alt="another">' in by_kind["reversed"][1]["Back"]
        media_dir = Path(col.media.dir())
        for name, stored in (("cat.png", cat), ("cat-2.png", other_cat)):
            assert (media_dir / name).read_bytes() == stored.file.open("rb").read()
        assert summary.media == 2 and summary.missing_media == []
        _check_history(col, owner, deck, built)
        # The deck's options carry the learner's study settings.
        settings = get_study_settings(owner)
        conf = col.decks.config_dict_for_deck_id(col.decks.id_for_name(DECK))
        assert conf["name"] == "Studyapp"
        assert conf["new"]["delays"] == [s / 60 for s in settings.learning_steps]
        assert conf["desiredRetention"] == pytest.approx(settings.desired_retention)
        assert conf["fsrsParams6"] == pytest.approx(settings.fsrs_parameters, rel=1e-5)
        problems, ok = col.fix_integrity()
        assert ok, problems
    finally:
        col.close()


def _check_history(col, owner, deck, built):
    logs = list(ReviewLog.objects.filter(user=owner, card__deck=deck).order_by("reviewed_at"))
    revlog = col.db.all("select id, ease, time, type from revlog order by id")
    assert len(revlog) == len(logs) == 8
    assert [row[1] for row in revlog] == [log.grade for log in logs]
    assert [row[2] for row in revlog] == [log.duration_ms for log in logs]
    assert [row[0] // 1000 for row in revlog] == [int(log.reviewed_at.timestamp()) for log in logs]
    assert [row[3] for row in revlog] == [
        {0: 0, 1: 0, 2: 1, 3: 2}[log.state_before] for log in logs
    ]
    settings = get_study_settings(owner)
    today = study_day(timezone.now(), settings.timezone, settings.day_start_hour)
    guid = dict(Note.objects.filter(deck=deck).values_list("pk", "guid"))
    anki_cards = {}
    for note_guid, (_, _, _, _, cards) in _anki_notes(col).items():
        for card in cards:
            anki_cards[(note_guid, card.ord)] = card
    for card in built["cards"]:
        anki = anki_cards[(guid[card.note_id], card.ord)]
        memory = MemoryState.objects.filter(user=owner, card=card).first()
        if memory is None or memory.state == 0:
            assert anki.type == 0 and anki.memory_state is None
            assert anki.queue == (-1 if memory and memory.suspended else 0)
            continue
        assert anki.type == memory.state
        assert anki.memory_state.stability == pytest.approx(memory.stability, rel=1e-3)
        assert anki.memory_state.difficulty == pytest.approx(memory.difficulty, rel=1e-3)
        assert anki.reps == memory.reps and anki.lapses == memory.lapses
        assert anki.user_flag() == memory.flag
        if memory.state == 2:  # a review card: due the same number of days from today
            days = (study_day(memory.due, settings.timezone, settings.day_start_hour) - today).days
            assert anki.due - col.sched.today == days
    flagged = anki_cards[(guid[built["cards"][0].note_id], built["cards"][0].ord)]
    assert flagged.user_flag() == 3
    suspended = anki_cards[(guid[built["cards"][3].note_id], built["cards"][3].ord)]
    assert suspended.queue == -1


def test_export_without_history_has_new_cards_only(built, owner, tmp_path):
    data, summary = _export(built["deck"], owner, with_history=False)
    col = _import(tmp_path, data)
    try:
        assert summary.reviews == 0 and col.db.scalar("select count() from revlog") == 0
        assert col.card_count() == 9
        rows = col.db.all("select type, queue, flags, data from cards")
        assert {(t, q, f) for t, q, f, _ in rows} == {(0, 0, 0)}
        assert all(col.get_card(cid).memory_state is None for cid in col.find_cards(""))
        # New cards come in the deck's order, numbered from 1 as Anki numbers new positions.
        guid = dict(Note.objects.filter(deck=built["deck"]).values_list("pk", "guid"))
        ours = Card.objects.filter(deck=built["deck"]).order_by("position", "pk")
        anki = col.db.all("select n.guid, c.ord, c.due from cards c join notes n on n.id = c.nid")
        by_due = [(g, o) for g, o, _ in sorted(anki, key=lambda row: row[2])]
        assert by_due == [(guid[c.note_id], c.ord) for c in ours]
        assert sorted(row[2] for row in anki) == list(range(1, 10))
    finally:
        col.close()


def test_export_again_keeps_identity_in_anki(built, owner, tmp_path):
    """The GUIDs written back make a second export update Anki's notes, not duplicate them."""
    deck = built["deck"]
    first, _ = _export(deck, owner, with_history=True)
    guids = dict(Note.objects.filter(deck=deck).values_list("pk", "guid"))
    col = _import(tmp_path, first)
    try:
        second, summary = _export(deck, owner, with_history=True)
        assert summary.guids_assigned == 0
        assert dict(Note.objects.filter(deck=deck).values_list("pk", "guid")) == guids
        _import(tmp_path, second, name="again", col=col)
        assert col.note_count() == 5 and col.card_count() == 9
        assert col.db.scalar("select count() from revlog") == 8
    finally:
        col.close()


def test_package_layout_and_media_switch(built, owner):
    data, summary = _export(built["deck"], owner, with_history=False, with_media=False)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["collection.anki21", "media"]
        assert archive.read("media") == b"{}"
    assert summary.media == 0


def test_an_image_of_another_deck_is_reported_not_shipped(owner, tmp_path):
    elsewhere = Deck.objects.create(owner=owner, name="Elsewhere")
    image, _ = save_media(elsewhere, owner, image_bytes("PNG"), "far.png")
    deck = Deck.objects.create(owner=owner, name="Here")
    create_note(deck, NoteKind.BASIC, {"Front": "q", "Back": f"![far]({media_url(image)})"})
    data, summary = _export(deck, owner, with_history=False)
    assert summary.missing_media == [media_url(image)] and summary.media == 0
    col = _import(tmp_path, data)
    try:
        note = col.get_note(col.find_notes("")[0])
        assert note["Back"] == "far"
    finally:
        col.close()


def test_export_queries_do_not_grow_with_the_deck(built, owner):
    """Notes, cards, memory states and reviews are read in chunks: the same number of
    queries for a bigger deck (below one chunk), never one per card."""
    deck = built["deck"]
    _export(deck, owner, with_history=True)  # assigns the GUIDs first
    with CaptureQueriesContext(connection) as small:
        _export(deck, owner, with_history=True)
    for i in range(20):
        note = create_note(deck, NoteKind.REVERSED, {"Front": f"q{i}", "Back": f"a{i}"})
        Note.objects.filter(pk=note.pk).update(guid=f"g{i}")
        _review(owner, note.cards.first(), 3, timezone.now() - timedelta(hours=1), 500)
    with CaptureQueriesContext(connection) as big:
        _, summary = _export(deck, owner, with_history=True)
    assert summary.cards == 49 and summary.reviews == 28
    assert len(big) == len(small)


def test_tags_and_names_in_the_collection_are_as_anki_writes_them(built, owner, tmp_path):
    data, _ = _export(built["deck"], owner, with_history=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (tmp_path / "c.anki21").write_bytes(archive.read("collection.anki21"))
    db = sqlite3.connect(tmp_path / "c.anki21")
    tags = {row[0] for row in db.execute("select tags from notes")}
    assert " verbs geo::europe " in tags and "" in tags
    guids = [row[0] for row in db.execute("select guid from notes")]
    assert all(re.fullmatch(r"[!-~]{1,11}", g) for g in guids)
    db.close()


PLAIN = [
    "hablar", "to speak, quickly!", "it's (maybe) 3:00", "Café au lait", "a - b -- c", "x.y.z",
    "Über straße", "a  b", "qué?", "done: yes; no.", "été 2024", "日本語",
]  # fmt: skip
# Markdown syntax, HTML-escaped characters, several lines: never taken for plain text.
NOT_PLAIN = [
    "1. one", "- item", "# title", "a *b*", "a_b_c", "a & b", 'say "hi"', "a <b>", "x\ny",
    "~~gone~~", "5 > 4", "back\\slash", "[link](x)", "`code`", "", "a\\", "¿qué?",
]  # fmt: skip


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_skips_the_renderer_with_the_same_result(text):
    assert PLAIN_TEXT.fullmatch(text)
    assert render_markdown(text) == f"<p>{text}</p>\n"


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_markdown_syntax_is_never_taken_for_plain_text(text):
    assert not PLAIN_TEXT.fullmatch(text.strip())


class _Unseekable(io.RawIOBase):
    """A write-only stream that cannot seek, like a streamed HTTP response or a pipe."""

    def __init__(self):
        self.parts = []

    def writable(self):
        return True

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)


def test_export_streams_into_an_unseekable_output(built, owner, tmp_path):
    out = _Unseekable()
    summary = export_deck(built["deck"], owner, out, with_history=True)
    col = _import(tmp_path, b"".join(out.parts))
    try:
        assert col.card_count() == summary.cards == 9 and summary.media == 2
        assert col.db.scalar("select count() from revlog") == summary.reviews == 8
    finally:
        col.close()
