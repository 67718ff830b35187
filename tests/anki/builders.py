"""Anki packages made by the real Anki backend (the `anki` package), for the import/export tests.

`build_collection` fills a collection with every kind of content the importer maps; the
`export_*` helpers write it in each package format Anki 2.1.x produces; `expected_content`
reads the same content back out of Anki itself so the tests compare against Anki, not numbers
typed in by hand.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import zstandard
from anki.collection import (
    Collection,
    DeckIdLimit,
    ExportAnkiPackageOptions,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
)
from PIL import Image

DECK = "Lang::Spanish::Verbs"
FILTERED_DECK = "Cram"
IMAGE_NAME = "x.png"
SOUND_NAME = "hola.mp3"
# An MP3 frame header and silence: the importer only needs bytes that are not an image.
SOUND_BYTES = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(413)
CUSTOM_NOTETYPE = "Vocab (custom)"
CUSTOM_FIELDS = ("Word", "Meaning", "Example")
# Two templates using the conditional, negated, FrontSide and filter syntax the importer renders.
CUSTOM_TEMPLATES = (
    (
        "Recognise",
        "{{Word}}{{#Example}}<div class=ex>{{Example}}</div>{{/Example}}",
        "{{FrontSide}}<hr id=answer>{{Meaning}}{{^Example}}<i>no example</i>{{/Example}}",
    ),
    (
        "Recall",
        "{{text:Meaning}}<br>{{hint:Example}}",
        "{{FrontSide}}<hr id=answer>{{Word}}",
    ),
)
# Ratings given, in turn, to whatever the scheduler offers next (0 Again ... 3 Easy).
RATINGS = (2, 3, 0, 2, 2, 3, 1, 2, 0, 3, 2, 2, 2, 2, 0, 2)


def png_bytes(size: tuple[int, int] = (4, 3), colour: str = "red") -> bytes:
    """A real, small PNG made by Pillow."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _add(col: Collection, notetype: str, deck_id: int, tags: list[str], **fields) -> int:
    note = col.new_note(col.models.by_name(notetype))
    for name, value in fields.items():
        note[name] = value
    note.tags = tags
    col.add_note(note, deck_id)
    return note.id


def _custom_notetype(col: Collection) -> None:
    models = col.models
    notetype = models.new(CUSTOM_NOTETYPE)
    for name in CUSTOM_FIELDS:
        models.add_field(notetype, models.new_field(name))
    for name, front, back in CUSTOM_TEMPLATES:
        template = models.new_template(name)
        template["qfmt"], template["afmt"] = front, back
        models.add_template(notetype, template)
    notetype["css"] = ".card { font-family: serif; }\n.ex { color: grey; }"
    models.add(notetype)


def _study(col: Collection, ratings=RATINGS) -> None:
    """Answer what the real v3 scheduler offers, so revlog rows and FSRS memory exist."""
    col.decks.select(col.decks.id("Lang"))
    for step, rating in enumerate(ratings):
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            break
        card = col.get_card(queued.cards[0].card.id)
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=queued.cards[0].states, rating=rating)
        answer.milliseconds_taken = 1500 + 250 * step  # the revlog's time column, non-zero
        col.sched.answer_card(answer)


def build_collection(tmp_path: Path, name: str = "source.anki2") -> Collection:
    """A collection with each note type, cloze, nested decks, tags, media, reviews and states."""
    col = Collection(str(Path(tmp_path) / name))
    col.set_config("fsrs", True)
    col.set_config("rollover", 4)
    _custom_notetype(col)
    deck_id = col.decks.id(DECK)
    other_id = col.decks.id("Lang::French")
    image = col.media.write_data(IMAGE_NAME, png_bytes())
    sound = col.media.write_data(SOUND_NAME, SOUND_BYTES)
    _add(col, "Basic", deck_id, ["verbs", "geo::europe"],
         Front="hablar", Back=f'to speak <img src="{image}">')  # fmt: skip
    _add(col, "Basic (and reversed card)", deck_id, ["verbs"],
         Front="comer", Back=f"to eat [sound:{sound}]")  # fmt: skip
    _add(col, "Basic (optional reversed card)", deck_id, ["geo::europe::spain"],
         Front="vivir", Back="to live", **{"Add Reverse": "y"})  # fmt: skip
    _add(col, "Basic (optional reversed card)", other_id, [],
         Front="parler", Back="to speak")  # fmt: skip
    _add(col, "Cloze", deck_id, ["cloze"],
         Text="{{c1::Madrid::capital}} is in {{c2::Spain}}", **{"Back Extra": "geo"})  # fmt: skip
    _add(col, CUSTOM_NOTETYPE, other_id, ["custom"],
         Word="le chat", Meaning="the cat", Example="Le chat dort.")  # fmt: skip
    _add(col, CUSTOM_NOTETYPE, other_id, ["custom"], Word="le chien", Meaning="the dog")
    _study(col)
    _set_states(col)
    return col


def _set_states(col: Collection) -> None:
    """Suspend, bury and flag some cards; move the "custom"-tagged ones that can move (not
    suspended or buried) into a filtered deck, so they carry odid/odue."""
    cards = list(col.find_cards("", order="c.id"))
    col.sched.suspend_cards([cards[-1]])
    col.sched.bury_cards([cards[-2]], manual=True)
    for flag, card_id in enumerate(cards[:7], start=1):
        col.set_user_flag_for_cards(flag, [card_id])
    filtered = col.sched.get_or_create_filtered_deck(0)
    filtered.name = FILTERED_DECK
    filtered.config.search_terms[0].search = "tag:custom"
    filtered.config.search_terms[0].limit = 100
    col.sched.add_or_update_filtered_deck(filtered)


def export_apkg(col: Collection, path: Path, *, legacy: bool, with_scheduling: bool = True,
                with_media: bool = True, deck_id: int | None = None) -> Path:  # fmt: skip
    """A deck package: legacy writes collection.anki21 + a JSON media map, else .anki21b."""
    options = ExportAnkiPackageOptions(
        with_scheduling=with_scheduling, with_deck_configs=with_scheduling,
        with_media=with_media, legacy=legacy,
    )  # fmt: skip
    limit = DeckIdLimit(deck_id) if deck_id is not None else None
    col.export_anki_package(out_path=str(path), options=options, limit=limit)
    return Path(path)


def export_colpkg(col: Collection, path: Path, *, legacy: bool, with_media: bool = True) -> Path:
    """A whole-collection package. Anki closes the collection to write it; it is reopened."""
    col.export_collection_package(str(path), include_media=with_media, legacy=legacy)
    col.reopen(after_full_sync=False)
    return Path(path)


def as_anki2(apkg_path: Path, out_path: Path) -> Path:
    """An Anki 2.0-style package from a legacy one: collection.anki21 renamed collection.anki2,
    no `meta` file (Anki 2.1 reads such a package as its Legacy1 format)."""
    with zipfile.ZipFile(apkg_path) as source, zipfile.ZipFile(out_path, "w") as out:
        names = source.namelist()
        assert "collection.anki21" in names, f"{apkg_path} is not a legacy package: {names}"
        for name in names:
            if name in ("meta", "collection.anki2"):
                continue
            target = "collection.anki2" if name == "collection.anki21" else name
            out.writestr(target, source.read(name), zipfile.ZIP_DEFLATED)
    return Path(out_path)


def import_into_anki(package: Path, tmp_path: Path, *, with_scheduling: bool = True) -> Collection:
    """A fresh Anki collection that imported `package` (.apkg) through Anki's own importer:
    the oracle for packages we write, and for what a package holds as Anki reads it."""
    folder = Path(tempfile.mkdtemp(prefix="anki-import-", dir=tmp_path))
    col = Collection(str(folder / "imported.anki2"))
    options = ImportAnkiPackageOptions(
        with_scheduling=with_scheduling, with_deck_configs=with_scheduling, merge_notetypes=True
    )
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options))
    return col


@dataclass
class Expected:
    """A collection's content as Anki itself reports it, keyed for comparison with our reader."""

    crt: int
    rollover_hour: int
    notetypes: dict[str, dict]  # name -> is_cloze, fields, templates [(name, front, back)]
    decks: dict[int, str]  # id -> full name
    notes: dict[int, dict]  # id -> guid, notetype (name), tags, fields, modified
    cards: dict[int, dict]  # id -> the AnkiCard fields; deck_id/due are the home deck's
    reviews: list[tuple]  # (id, card_id, ease, interval, last_interval, factor, ms, type)
    media: dict[str, bytes]  # name -> bytes, the files the collection's notes use
    in_filtered: set[int]  # cards that sit in a filtered deck (their home deck is reported)


def expected_content(col: Collection, *, media: bool = True) -> Expected:
    """Read back what `col` holds through Anki's own API and database."""
    notetypes = {
        model["name"]: {
            "id": model["id"],
            "is_cloze": model["type"] == 1,
            "fields": [f["name"] for f in model["flds"]],
            "templates": [(t["name"], t["qfmt"], t["afmt"]) for t in model["tmpls"]],
        }
        for model in col.models.all()
    }
    names = {model["id"]: model["name"] for model in col.models.all()}
    decks = {d.id: d.name for d in col.decks.all_names_and_ids()}
    notes = {}
    for nid, guid, mid, mod, tags, flds in col.db.execute(
        "select id, guid, mid, mod, tags, flds from notes order by id"
    ):
        notes[nid] = {"guid": guid, "notetype": names[mid], "modified": mod,
                      "tags": tags.split(), "fields": flds.split("\x1f")}  # fmt: skip
    cards = {}
    for row in col.db.execute(
        "select id, nid, did, odid, ord, mod, type, queue, due, odue, ivl, factor, reps,"
        " lapses, left, flags, data from cards order by nid, ord"
    ):
        cid, nid, did, odid, ord_, mod, type_, queue, due, odue, *rest = row
        ivl, factor, reps, lapses, left, flags, data = rest
        cards[cid] = {
            "note_id": nid, "deck_id": odid or did, "ord": ord_, "modified": mod,
            "type": type_, "queue": queue, "due": odue if odid else due, "interval": ivl,
            "factor": factor, "reps": reps, "lapses": lapses, "left": left, "flags": flags,
            "data": json.loads(data) if data else {},
        }  # fmt: skip
        memory = col.get_card(cid).memory_state
        cards[cid]["memory"] = (memory.stability, memory.difficulty) if memory else None
    reviews = [
        tuple(row)
        for row in col.db.execute(
            "select id, cid, ease, ivl, lastIvl, factor, time, type from revlog order by cid, id"
        )
    ]
    files = {}
    if media:
        folder = Path(col.media.dir())
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    return Expected(
        crt=col.db.scalar("select crt from col"),
        rollover_hour=col.get_config("rollover", 4),
        notetypes=notetypes, decks=decks, notes=notes, cards=cards, reviews=reviews,
        media=files, in_filtered=set(col.find_cards("deck:filtered")),
    )  # fmt: skip


FORMATS = ("anki2", "apkg-legacy", "apkg-latest", "colpkg-legacy", "colpkg-latest")


def build_packages(tmp_path: Path) -> tuple[Expected, dict[str, Path]]:
    """The standard collection in every format Anki 2.1.x writes, and what Anki says it holds.

    The collection is closed afterwards; the packages stay in `tmp_path`.
    """
    tmp_path = Path(tmp_path)
    col = build_collection(tmp_path)
    try:
        expected = expected_content(col)
        paths = {
            "apkg-legacy": export_apkg(col, tmp_path / "legacy.apkg", legacy=True),
            "apkg-latest": export_apkg(col, tmp_path / "latest.apkg", legacy=False),
            "colpkg-legacy": export_colpkg(col, tmp_path / "legacy.colpkg", legacy=True),
            "colpkg-latest": export_colpkg(col, tmp_path / "latest.colpkg", legacy=False),
        }
        paths["anki2"] = as_anki2(paths["apkg-legacy"], tmp_path / "anki20.apkg")
    finally:
        col.close()
    return expected, {name: paths[name] for name in FORMATS}


def build_big_package(tmp_path: Path, *, cards: int = 100_000, reviews: int = 1_000_000,
                      legacy: bool = False) -> Path:  # fmt: skip
    """A package of `cards` Basic notes and cards and `reviews` revlog rows, for benchmarks.

    Anki writes the package of one studied note; its rows are then copied in SQL (Anki's own
    API would take minutes for a million reviews). The schema, note type and row shapes are
    Anki's; only the number of rows is ours.
    """
    tmp_path = Path(tmp_path)
    col = Collection(str(Path(tempfile.mkdtemp(prefix="big-", dir=tmp_path)) / "source.anki2"))
    col.set_config("fsrs", True)
    _add(col, "Basic", col.decks.id(DECK), ["big"], Front="front", Back="back")
    _study(col, (2,))
    small = export_apkg(col, tmp_path / "big-small.apkg", legacy=legacy, with_media=False)
    col.close()
    with zipfile.ZipFile(small) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    name = "collection.anki21" if legacy else "collection.anki21b"
    db_path = tmp_path / "big.db"
    raw = files[name]
    if not legacy:
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    db_path.write_bytes(raw)
    db = sqlite3.connect(db_path)
    seq = f"with recursive seq(i) as (select 1 union all select i + 1 from seq where i < {cards})"
    db.executescript(f"""
        {seq} insert into notes select n.id + i, n.guid || i, mid, mod, usn, tags,
            'front ' || i || char(31) || 'back ' || i, 'front ' || i, csum, flags, data
            from seq, (select * from notes) n;
        {seq} insert into cards select c.id + i, c.nid + i, did, ord, mod, usn, type, queue,
            due, ivl, factor, reps, lapses, left, odue, odid, flags, c.data
            from seq, (select * from cards) c;
        with recursive r(i) as (select 1 union all select i + 1 from r where i < {reviews})
            insert into revlog select l.id + i, l.cid + 1 + (i % {cards}), usn, 1 + i % 4,
            ivl, lastIvl, factor, time, type from r, (select * from revlog) l;
    """)  # fmt: skip
    db.commit()
    db.close()
    raw = db_path.read_bytes()
    db_path.unlink()
    packed = raw if legacy else zstandard.ZstdCompressor().compress(raw)
    files = {"meta": files["meta"], name: packed, "media": files["media"]}
    out = tmp_path / f"big-{'legacy' if legacy else 'latest'}.apkg"
    with zipfile.ZipFile(out, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return out


def import_file(path, user, **options):
    """Our side: read a package file and import it for `user` (cards.anki.importer)."""
    from cards.anki.importer import import_package
    from cards.anki.package import open_package

    with open_package(path, path.name) as package:
        return import_package(package, user, **options)
