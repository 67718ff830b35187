"""Export a deck as an Anki package (.apkg) that Anki opens with the same notes, cards, review
history and images.

The package is the legacy "Legacy2" layout: `collection.anki21` (an SQLite collection in
schema 11) and a JSON media map. Every Anki 2.1.x and AnkiDroid imports it, and Anki 2.1.50+
upgrades it to its current schema on import, keeping the FSRS memory stored in card.data.
The newer `collection.anki21b` (schema 18) would gain nothing Anki needs here and would mean
writing its protobuf note types, decks and options by hand.

Nothing is held whole: notes, cards and reviews are read in chunks and written straight into
the SQLite file, so a deck with a million reviews exports in bounded memory. The only writes
to our database happen first, in short transactions: a card without a note gets its Basic note
(services/notes.ensure_note) and a note without a GUID gets a new Anki GUID, kept so that a
later export (or an import back) recognises the same notes.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from django.db import connection, transaction
from django.utils import timezone

from cards.anki import export_schema as schema
from cards.anki.export_schedule import ScheduleMapper
from cards.markdown import render_markdown
from cards.models import NOTE_FIELDS, Card, Deck, MediaFile, Note, NoteKind, NoteType
from cards.services.notes import ensure_note
from cards.services.settings import get_study_settings

CHUNK = 2000
FORMAT = "apkg: collection.anki21 (schema 11) with a JSON media map"
# An <img> whose src is one of our images (rendered Markdown, or the HTML of an imported note
# type's field), and the attributes only our pages need.
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_OUR_SRC = re.compile(
    r"""\bsrc\s*=\s*(["']?)/decks/\d+/media/([0-9a-f]{64})\.(?:jpg|png|gif|webp)\1"""
)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LAZY = re.compile(r' (?:loading="lazy"|decoding="async")')
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\\/:*?"<>|&\']')
# Text Markdown would only wrap in a paragraph: one line that starts with a letter and holds
# letters, digits, spaces and punctuation that is neither Markdown syntax nor escaped in HTML.
# Most fields of a vocabulary deck are such text, and the renderer costs ~0.3 ms a field.
PLAIN_TEXT = re.compile(r"[^\W\d_](?:[^\W_]|[ ,.;:?!()'\-])*")


class ExportError(Exception):
    """The deck cannot be exported; str() names what and where."""


@dataclass
class ExportSummary:
    deck: str
    decks: list[str] = field(default_factory=list)  # the deck and its subdecks exported
    notes: int = 0
    cards: int = 0
    reviews: int = 0
    media: int = 0  # image files in the package
    missing_media: list[str] = field(default_factory=list)  # shown images these decks lack
    guids_assigned: int = 0  # notes given a GUID now (written to our database)
    with_history: bool = False
    format: str = FORMAT


def export_deck(
    deck: Deck, user, out: BinaryIO, *, with_history: bool, with_media: bool = True
) -> ExportSummary:
    """Write `deck` and its subdecks to `out` as an .apkg; `with_history` adds `user`'s
    schedule, marks and review history (without it every card is new). The caller checks
    that `user` may see the deck."""
    summary = ExportSummary(deck=deck.name, with_history=with_history)
    decks = with_subdecks(deck, user)
    deck_ids = [d.pk for d in decks]
    summary.decks = [d.name for d in decks]
    summary.guids_assigned = _prepare_notes(deck_ids)
    with tempfile.TemporaryDirectory(prefix="apkg-export-") as tmp:
        path = Path(tmp) / "collection.anki21"
        media = _Media(deck_ids)
        _write_collection(path, decks, user, with_history, media, summary)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki21")
            shipped = media.used if with_media else []
            archive.writestr("media", json.dumps({str(i): n for i, (n, _) in enumerate(shipped)}))
            for index, (_, stored) in enumerate(shipped):
                with stored.file.open("rb") as src, archive.open(str(index), "w") as dst:
                    shutil.copyfileobj(src, dst)
        summary.media = len(shipped)
        summary.missing_media = sorted(media.missing)
    return summary


def with_subdecks(deck: Deck, user) -> list[Deck]:
    """The deck and, as Anki exports a deck, its subdecks: the decks named "<name>::…" of the
    same owner that `user` may see."""
    subdecks = Deck.objects.visible_to(user).filter(
        owner_id=deck.owner_id, name__startswith=f"{deck.name}::"
    )
    return [deck, *subdecks.order_by("name", "pk")]


def _chunks(iterable, size=CHUNK):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _prepare_notes(deck_ids: list[int]) -> int:
    """Give every card a note and every note a GUID; returns the number of GUIDs assigned.
    One short transaction per chunk, so other writers never wait long on SQLite: a GUID
    given before a failure is simply kept, as any later export would give one."""
    cards = Card.objects.filter(deck__in=deck_ids)
    for pk in list(cards.filter(note__isnull=True).values_list("pk", flat=True)):
        with transaction.atomic():
            ensure_note(Card.objects.get(pk=pk))
    notes = Note.objects.filter(pk__in=cards.values("note_id"), guid="")
    ids = list(notes.values_list("pk", flat=True))
    # One prepared UPDATE per note: bulk_update's CASE over 2,000 ids took 6 s for 20,000.
    table, quote = Note._meta.db_table, connection.ops.quote_name
    sql = f"UPDATE {quote(table)} SET {quote('guid')} = %s WHERE {quote('id')} = %s"
    for chunk in _chunks(ids):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(schema.new_guid(), pk) for pk in chunk])
    return len(ids)


class _Media:
    """The decks' images, named in the package by their original names (made safe and
    unique) in the order cards first show them."""

    def __init__(self, deck_ids: list[int]):
        self.by_hash = {m.sha256: m for m in MediaFile.objects.filter(deck__in=deck_ids)}
        self.names: dict[str, str] = {}
        self.taken: set[str] = set()
        self.used: list[tuple[str, MediaFile]] = []
        self.missing: set[str] = set()

    def rewrite(self, field_html: str) -> str:
        """Point each of our images at its package name; an image these decks do not hold
        becomes its alt text (and is reported)."""
        return _IMG.sub(self._replace, field_html) if "<img" in field_html.lower() else field_html

    def _replace(self, match: re.Match) -> str:
        tag = match[0]
        src = _OUR_SRC.search(tag)
        if src is None:  # not one of our images: Anki resolves it (or not) itself
            return tag
        stored = self.by_hash.get(src[2])
        if stored is None:
            self.missing.add(src[0].split("=", 1)[1].strip("\"' "))
            alt = _ALT.search(tag)
            return html.escape(html.unescape(alt[1] or alt[2] or ""), quote=False) if alt else ""
        if stored.sha256 not in self.names:
            name = self._unique(_safe_name(stored))
            self.names[stored.sha256] = name
            self.used.append((name, stored))
        renamed = f'{tag[: src.start()]}src="{self.names[stored.sha256]}"{tag[src.end() :]}'
        return _LAZY.sub("", renamed)

    def _unique(self, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        candidate, n = name, 1
        while candidate.lower() in self.taken:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        self.taken.add(candidate.lower())
        return candidate


def _safe_name(stored: MediaFile) -> str:
    """A file name Anki accepts (no path, no reserved characters, NFC) with the extension of
    the stored format."""
    original = unicodedata.normalize("NFC", stored.original_name.rsplit("/", 1)[-1])
    stem = original.rpartition(".")[0] if "." in original else original
    stem = _UNSAFE_NAME.sub("_", stem).strip(" .")[:100] or stored.sha256[:16]
    ext = original.rpartition(".")[2].lower() if "." in original else ""
    if ext not in ({stored.extension} | ({"jpeg"} if stored.extension == "jpg" else set())):
        ext = stored.extension
    return f"{stem}.{ext}"


def _field_html(markdown: str, media: _Media) -> str:
    """A field of a stock kind as the HTML Anki shows: our Markdown rendered, a lone paragraph
    unwrapped (Anki's own fields have none), images pointing at the package's media names."""
    if PLAIN_TEXT.fullmatch(text := markdown.strip()):
        return text
    rendered = render_markdown(markdown).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return media.rewrite(rendered)


def _anki_deck_ids(decks: list[Deck]) -> dict[int, int]:
    """Our deck ids -> the package's: creation times in milliseconds, as Anki's are."""
    ids, last = {}, 1
    for deck in decks:
        last = max(last + 1, int(deck.created_at.timestamp() * 1000))
        ids[deck.pk] = last
    return ids


def _write_collection(path, decks, user, with_history, media, summary) -> None:
    settings = get_study_settings(user)
    deck_ids = [d.pk for d in decks]
    anki_decks = _anki_deck_ids(decks)
    mapper = ScheduleMapper(deck_ids, user, settings, with_history, timezone.now())
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + schema.SCHEMA_SQL)
        models, note_ids = _write_notes(db, deck_ids, media, summary)
        card_ids = _write_cards(db, deck_ids, anki_decks, note_ids, mapper, summary)
        if with_history:
            summary.reviews = mapper.write_revlog(db, card_ids)
        _write_col_row(db, decks, anki_decks, settings, models, mapper)
        db.commit()
    finally:
        db.close()


def _write_notes(db, deck_ids, media, summary) -> tuple[dict, dict[int, int]]:
    """Insert the decks' notes; returns the note types used (id -> JSON) and our note ids
    mapped to the package's."""
    notes = Note.objects.filter(pk__in=Card.objects.filter(deck__in=deck_ids).values("note_id"))
    types = {t.pk: t for t in NoteType.objects.filter(pk__in=notes.values("note_type_id"))}
    models: dict[int, dict] = {}
    note_ids: dict[int, int] = {}
    last_id = 0
    rows = notes.order_by("pk").values_list(
        "pk", "kind", "note_type_id", "fields", "tags", "guid", "created_at", "updated_at"
    )
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
        batch = []
        for pk, kind, type_id, fields, tags, guid, created, updated in chunk:
            if kind == NoteKind.ANKI:
                note_type = types.get(type_id)
                if note_type is None:
                    raise ExportError(f"Note {pk}: an Anki-type note without its note type.")
                mid, names = schema.notetype_id(note_type), note_type.field_names
                if mid not in models:
                    models[mid] = schema.custom_notetype(note_type)
            else:
                mid, names = schema.STOCK_IDS[kind], NOTE_FIELDS[kind]
                if mid not in models:
                    models[mid] = schema.stock_notetype(kind)
            texts = [str((fields or {}).get(name, "")) for name in names]
            if kind == NoteKind.ANKI:  # the importer kept Anki's HTML (cards/anki/importer.py)
                values = [media.rewrite(text) for text in texts]
            else:
                values = [_field_html(text, media) for text in texts]
            last_id = max(last_id + 1, int(created.timestamp() * 1000))
            note_ids[pk] = last_id
            tag_text = f" {' '.join(tags.split())} " if tags.strip() else ""
            batch.append((
                last_id, guid, mid, int(updated.timestamp()), 0, tag_text, "\x1f".join(values),
                schema.plain_text(values[0]), schema.field_checksum(values[0]), 0, "",
            ))  # fmt: skip
        db.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
        summary.notes += len(batch)
    return models, note_ids


def _write_cards(db, deck_ids, anki_decks, note_ids, mapper, summary) -> dict[int, int]:
    """Insert the decks' cards in deck order, scheduled by the mapper; returns our card ids
    mapped to the package's. A new card's due is its rank (1, 2, …): Anki keeps new
    positions below 1,000,000, which a deck's `position` values need not be."""
    card_ids: dict[int, int] = {}
    last_id = 0
    rows = (
        Card.objects.filter(deck__in=deck_ids)
        .order_by("position", "pk")
        .values_list("pk", "note_id", "deck_id", "ord", "suspended", "created_at", "updated_at")
    )
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
        memories = mapper.memories([row[0] for row in chunk])
        batch = []
        for pk, note_id, deck_id, ord_, suspended, created, updated in chunk:
            last_id = max(last_id + 1, int(created.timestamp() * 1000))
            card_ids[pk] = last_id
            rank = summary.cards + len(batch) + 1
            sched = mapper.card(memories.get(pk), rank, suspended)
            batch.append((
                last_id, note_ids[note_id], anki_decks[deck_id], ord_, int(updated.timestamp()), 0,
                *sched,
            ))  # fmt: skip
        db.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
        summary.cards += len(batch)
    return card_ids


def _write_col_row(db, decks, anki_decks, settings, models, mapper) -> None:
    now = timezone.now()
    mtime = int(now.timestamp())
    conf_id = schema.STUDYAPP_CONF_ID if mapper.with_history else schema.DEFAULT_CONF_ID
    rows = {
        schema.DEFAULT_DECK_ID: schema.deck_json(
            schema.DEFAULT_DECK_ID, "Default", schema.DEFAULT_CONF_ID, 0
        )
    }
    names = {}
    for deck in decks:
        rows[anki_decks[deck.pk]] = schema.deck_json(
            anki_decks[deck.pk], deck.name, conf_id, mtime, deck.description
        )
        names[deck.name] = anki_decks[deck.pk]
    parent_id = min(anki_decks.values())
    for deck in decks:  # parents the names imply, as Anki keeps every level
        levels = deck.name.split("::")
        for depth in range(1, len(levels)):
            parent = "::".join(levels[:depth])
            if parent not in names:
                parent_id -= 1
                names[parent] = parent_id
                rows[parent_id] = schema.deck_json(parent_id, parent, conf_id, mtime)
    dconf = {schema.DEFAULT_CONF_ID: schema.deck_config(schema.DEFAULT_CONF_ID, "Default")}
    if mapper.with_history:
        dconf[conf_id] = schema.deck_config(conf_id, "Studyapp", settings)
    offset = mapper.crt_local.utcoffset() or timedelta(0)
    conf = schema.collection_config(
        settings.day_start_hour, -int(offset.total_seconds() // 60), next(iter(models), None)
    )
    db.execute(
        "INSERT INTO col VALUES (1,?,?,?,11,0,0,0,?,?,?,?,'{}')",
        (
            mapper.crt, mtime * 1000, mtime * 1000, json.dumps(conf),
            json.dumps({str(k): v for k, v in models.items()}),
            json.dumps({str(k): v for k, v in rows.items()}),
            json.dumps({str(k): v for k, v in dconf.items()}),
        ),
    )  # fmt: skip
