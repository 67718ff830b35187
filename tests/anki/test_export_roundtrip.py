"""Our .apkg export against the real Anki backend, beyond one deck's content: subdecks, cards
without a note, an empty deck, a package Anki made that we import and export again, and review
due days in the learner's own time zone."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from anki.collection import Collection
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, NoteKind
from cards.scheduling.days import study_day
from cards.services.notes import create_note
from cards.services.settings import get_study_settings
from tests.anki.test_export import _export, _import, _review

MARKS = "select flags & 7, queue = -1, queue in (-2, -3) from cards"


def _stabilities(col) -> list[float]:
    cards = (col.get_card(cid) for cid in col.find_cards(""))
    return sorted(card.memory_state.stability for card in cards if card.memory_state)


def test_round_trip_anki_to_us_to_anki(owner, tmp_path):
    """A package the real Anki made, imported by us (cards/anki/importer.py) and exported
    again, gives Anki back the same notes, cards, review history and marks."""
    from cards.anki.importer import import_package
    from cards.anki.package import open_package
    from tests.anki.builders import IMAGE_NAME, build_collection, export_apkg

    source = build_collection(tmp_path)
    try:
        path = export_apkg(source, tmp_path / "source.apkg", legacy=False)
        ntypes = {source.models.get(source.get_note(n).mid)["name"] for n in source.find_notes("")}
        want_notes = source.note_count()
        want_cards = source.card_count()
        want_revlog = source.db.list("select ease from revlog where ease > 0 order by id")
        want_marks = sorted(source.db.all(MARKS))
        want_memory = _stabilities(source)
    finally:
        source.close()
    with open_package(path, "source.apkg") as package:
        imported = import_package(package, owner)
    target = Collection(str(tmp_path / "target.anki2"))
    try:
        for deck in imported.decks:
            data, _ = _export(deck, owner, with_history=True)
            _import(tmp_path, data, name=f"deck{deck.pk}", col=target)
        assert target.note_count() == want_notes
        assert target.card_count() == want_cards
        assert target.db.list("select ease from revlog order by id") == want_revlog
        assert sorted(target.db.all(MARKS)) == want_marks
        assert _stabilities(target) == pytest.approx(want_memory, rel=1e-3)
        got_types = {target.models.get(target.get_note(n).mid)["name"].rstrip("+")
                     for n in target.find_notes("")}  # fmt: skip
        assert got_types == ntypes
        assert (Path(target.media.dir()) / IMAGE_NAME).exists()
        problems, ok = target.fix_integrity()
        assert ok, problems
    finally:
        target.close()


@pytest.fixture
def local_zone():
    """Set this process's local time zone (Anki counts its days in it, as on a learner's own
    machine), restoring it afterwards."""
    before = os.environ.get("TZ")

    def use(zone):
        os.environ["TZ"] = zone
        time.tzset()

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize(
    "zone,hour", [("Asia/Tokyo", 4), ("America/New_York", 0), ("Asia/Kolkata", 23)]
)
def test_review_due_days_hold_in_the_learners_zone(owner, tmp_path, local_zone, zone, hour):
    """Due days count from crt, the start of one of the learner's study days: Anki, on a
    machine in the learner's zone with their rollover, puts each review card's due date the
    same number of days from today."""
    settings = get_study_settings(owner)
    settings.timezone, settings.day_start_hour, settings.rating_scale = zone, hour, "four"
    settings.save()
    deck = Deck.objects.create(owner=owner, name="Zones")
    for i in range(3):
        create_note(deck, NoteKind.BASIC, {"Front": f"q{i}", "Back": f"a{i}"})
    start = timezone.now() - timedelta(days=20)
    for i, card in enumerate(Card.objects.filter(deck=deck)):
        for step in range(2 + i):
            _review(owner, card, 3, start + timedelta(days=step * (i + 2), hours=5 * i), 800)
    data, _ = _export(deck, owner, with_history=True)
    local_zone(zone)
    col = Collection(str(tmp_path / "learner.anki2"))
    col.set_config("rollover", hour)  # the learner's own Anki starts days at their hour
    _import(tmp_path, data, col=col)
    try:
        today = study_day(timezone.now(), zone, hour)
        anki = {(col.get_note(c.nid).guid, c.ord): c for c in map(col.get_card, col.find_cards(""))}
        checked = 0
        for card in Card.objects.filter(deck=deck).select_related("note"):
            memory = MemoryState.objects.get(user=owner, card=card)
            if memory.state == 2:
                days = (study_day(memory.due, zone, hour) - today).days
                assert anki[(card.note.guid, card.ord)].due - col.sched.today == days
                checked += 1
        assert checked >= 2
    finally:
        col.close()


def test_a_card_without_a_note_is_exported_as_a_basic_note(owner, tmp_path):
    """Cards made by an old bulk path have no note: the export gives them their Basic note
    (a write, kept) so Anki gets a note like any other."""
    deck = Deck.objects.create(owner=owner, name="Old")
    Card.objects.bulk_create([Card(deck=deck, question="old q", answer="old a", position=1)])
    data, summary = _export(deck, owner, with_history=False)
    card = Card.objects.get(deck=deck)
    assert card.note is not None and card.note.guid
    assert summary.notes == summary.cards == 1 and summary.guids_assigned == 1
    col = _import(tmp_path, data)
    try:
        note = col.get_note(col.find_notes("")[0])
        assert (note.guid, note["Front"], note["Back"]) == (card.note.guid, "old q", "old a")
    finally:
        col.close()


def test_an_empty_deck_exports_a_package_anki_accepts(owner, tmp_path):
    deck = Deck.objects.create(owner=owner, name="Empty")
    data, summary = _export(deck, owner, with_history=True)
    assert (summary.notes, summary.cards, summary.reviews, summary.media) == (0, 0, 0, 0)
    col = _import(tmp_path, data)
    try:
        assert col.note_count() == 0 and col.card_count() == 0
    finally:
        col.close()


def test_subdecks_come_along_as_in_anki(owner, other, tmp_path):
    """Exporting "Top" takes the owner's decks named "Top::…" too, each card in its own deck
    (a level only the names imply is made too); others' decks and "Topper" stay out."""
    made = {}
    for name, user in [("Top", owner), ("Top::Sub", owner), ("Top::Gap::Leaf", owner),
                       ("Topper", owner), ("Top::Theirs", other)]:  # fmt: skip
        made[name] = Deck.objects.create(owner=user, name=name, is_public=True)
        create_note(made[name], NoteKind.REVERSED, {"Front": f"{name} q", "Back": "a"})
    data, summary = _export(made["Top"], owner, with_history=False)
    assert summary.decks == ["Top", "Top::Gap::Leaf", "Top::Sub"] and summary.cards == 6
    col = _import(tmp_path, data)
    try:
        per_deck = {}
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            per_deck.setdefault(col.decks.name(card.did), set()).add(card.note()["Front"])
        assert per_deck == {
            "Top": {"Top q"}, "Top::Sub": {"Top::Sub q"}, "Top::Gap::Leaf": {"Top::Gap::Leaf q"}
        }  # fmt: skip
        assert col.decks.id_for_name("Top::Gap") is not None
    finally:
        col.close()
