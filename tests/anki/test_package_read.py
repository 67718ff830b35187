"""Our package reader against packages the real Anki backend wrote, in every format.

Each package is made by the `anki` package from one collection (tests/anki/builders.py) and
what we read is compared with what Anki itself reports about that collection: note types,
decks, notes, cards with their scheduling and FSRS memory, the review log and media bytes.
"""

import tracemalloc
import types

import pytest

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from cards.anki.package import open_package  # noqa: E402

from .builders import (  # noqa: E402
    DECK,
    FILTERED_DECK,
    FORMATS,
    build_big_package,
    build_collection,
    build_packages,
    expected_content,
    export_apkg,
    export_colpkg,
    import_into_anki,
)

SCHEMAS = {"anki2": 11, "apkg-legacy": 11, "colpkg-legacy": 11, "apkg-latest": 18}
FILES = {
    "anki2": "collection.anki2",
    "apkg-legacy": "collection.anki21",
    "colpkg-legacy": "collection.anki21",
    "apkg-latest": "collection.anki21b",
    "colpkg-latest": "collection.anki21b",
}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return build_packages(tmp_path_factory.mktemp("anki-packages"))


@pytest.fixture(params=FORMATS)
def read(request, made):
    expected, paths = made
    package = open_package(paths[request.param], paths[request.param].name)
    yield request.param, expected, package
    package.close()


def test_the_format_and_collection_properties(read):
    kind, expected, package = read
    assert package.filename == FILES[kind]
    assert package.schema == SCHEMAS.get(kind, 18)
    assert package.crt == expected.crt
    assert package.rollover_hour == expected.rollover_hour
    assert package.note_count == len(expected.notes)
    assert package.card_count == len(expected.cards)
    assert package.review_count == len(expected.reviews)


def test_note_types_are_anki_s(read):
    _, expected, package = read
    used = {note["notetype"] for note in expected.notes.values()}
    read_types = {nt.name: nt for nt in package.notetypes.values()}
    assert used <= set(read_types)  # an .apkg carries the note types its notes use
    for name, notetype in read_types.items():
        anki = expected.notetypes[name]
        assert notetype.id == anki["id"]
        assert notetype.is_cloze == anki["is_cloze"]
        assert notetype.fields == anki["fields"]
        assert [(t.name, t.front, t.back) for t in notetype.templates] == anki["templates"]
    assert read_types["Cloze"].is_cloze and not read_types["Basic"].is_cloze


def test_decks_keep_the_hierarchy_and_filtered_kind(read):
    _, expected, package = read
    assert {d.id: d.name for d in package.decks.values()} == expected.decks
    names = {d.name: d for d in package.decks.values()}
    assert DECK in names and names[FILTERED_DECK].is_filtered
    assert not names[DECK].is_filtered


def test_notes_in_id_order_with_fields_and_tags(read):
    _, expected, package = read
    notes = package.notes()
    assert isinstance(notes, types.GeneratorType)  # lazily, from a cursor
    got = {
        n.id: {"guid": n.guid, "notetype": package.notetypes[n.notetype_id].name,
               "modified": n.modified, "tags": n.tags, "fields": n.fields}
        for n in notes
    }  # fmt: skip
    assert got == expected.notes
    assert list(got) == sorted(got)


def test_cards_with_scheduling_flags_and_memory(read):
    _, expected, package = read
    cards = list(package.cards())
    assert [c.id for c in cards] == list(expected.cards)  # note id, then ord order
    for card in cards:
        anki = dict(expected.cards[card.id])
        memory = anki.pop("memory")
        got = {k: getattr(card, k) for k in anki}
        assert got == anki, card.id
        if memory is None:
            assert card.stability is None
        else:
            assert (card.stability, card.difficulty) == pytest.approx(memory, rel=1e-4)
    queues = {c.queue for c in cards}
    assert {-3, -1} <= queues  # buried by the user, suspended
    assert {c.flag for c in cards} >= set(range(1, 8))
    assert any(c.stability is not None for c in cards)


def test_a_card_in_a_filtered_deck_reports_its_home_deck(read):
    _, expected, package = read
    assert expected.in_filtered  # Anki put some cards in the filtered deck
    filtered = {d.id for d in package.decks.values() if d.is_filtered}
    for card in package.cards():
        assert card.deck_id not in filtered
        if card.id in expected.in_filtered:
            assert package.decks[card.deck_id].name == "Lang::French"


def test_reviews_in_card_then_time_order(read):
    _, expected, package = read
    got = [
        (r.id, r.card_id, r.ease, r.interval, r.last_interval, r.factor, r.duration_ms, r.type)
        for r in package.reviews()
    ]
    assert got == expected.reviews
    assert len(got) >= 10


def test_media_names_sizes_and_bytes(read):
    _, expected, package = read
    assert {m.name: m.size for m in package.media} == {
        name: len(data) for name, data in expected.media.items()
    }
    for name, data in expected.media.items():
        assert package.media_bytes(name) == data
    with pytest.raises(KeyError):
        package.media_bytes("not-there.png")


def test_close_removes_every_extracted_file(made):
    _, paths = made
    package = open_package(paths["apkg-latest"], "latest.apkg")
    folder = package._dir
    assert (folder / "collection.sqlite").exists() and any((folder / "media").iterdir())
    package.close()
    assert not folder.exists()


def test_a_deck_without_scheduling_or_media_reads_as_anki_imports_it(tmp_path):
    """Anki's own importer is the oracle for what such a package holds."""
    col = build_collection(tmp_path)
    deck_id = col.decks.id(DECK)
    for legacy in (True, False):
        path = export_apkg(col, tmp_path / f"deck-{legacy}.apkg", legacy=legacy,
                           with_scheduling=False, with_media=False, deck_id=deck_id)  # fmt: skip
        anki = import_into_anki(path, tmp_path, with_scheduling=False)
        expected = expected_content(anki, media=False)
        anki.close()
        with open_package(path, path.name) as package:
            assert package.media == [] and list(package.reviews()) == []
            notes = {n.id: n for n in package.notes()}
            assert {n.guid: n.fields for n in notes.values()} == {
                n["guid"]: n["fields"] for n in expected.notes.values()
            }
            got = {(notes[c.note_id].guid, c.ord): (c.type, c.queue, c.interval, c.reps,
                   package.decks[c.deck_id].name) for c in package.cards()}  # fmt: skip
            want = {
                (expected.notes[c["note_id"]]["guid"], c["ord"]): (
                    c["type"], c["queue"], c["interval"], c["reps"],
                    expected.decks[c["deck_id"]],
                )
                for c in expected.cards.values()
            }  # fmt: skip
            assert got == want
            assert {name for _, _, _, _, name in got.values()} == {DECK}


def test_rows_stream_without_being_held_in_memory(tmp_path):
    """Python's own allocations stay flat however many rows pass (a list of them would not)."""
    path = build_big_package(tmp_path, cards=2_000, reviews=40_000)
    with open_package(path, path.name) as package:
        tracemalloc.start()
        try:
            counts = [sum(1 for _ in rows()) for rows in (package.notes, package.cards,
                                                          package.reviews)]  # fmt: skip
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert counts == [2_001, 2_001, 40_001]
    print(f"\nreading 44,002 rows: Python peak {peak / 1024:.0f} KB")
    assert peak < 1024 * 1024


@pytest.mark.parametrize("legacy", [True, False])
def test_a_collection_package_carries_the_rollover_hour(tmp_path, legacy):
    col = build_collection(tmp_path)
    col.set_config("rollover", 7)
    path = export_colpkg(col, tmp_path / "rollover.colpkg", legacy=legacy)
    assert col.get_config("rollover") == 7
    col.close()
    with open_package(path, path.name) as package:
        assert package.rollover_hour == 7
