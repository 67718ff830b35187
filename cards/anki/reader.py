"""Reading an extracted Anki collection file (SQLite), schema 11 or 18, lazily and read-only.

package.py unzips a package into a private folder and hands the collection file here. Every
table the reader uses is checked first (a real table, with the columns, each value of the
right SQLite type), so a damaged or foreign file fails on opening with a message naming the
table, row and column, never half-way through an import. Notes, cards and reviews are
generators over cursors: a collection of a million reviews never sits in a Python list.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from google.protobuf.message import DecodeError

from cards.importers.errors import ImportFileError

from .collection import AnkiCard, AnkiDeck, AnkiNote, AnkiNotetype, AnkiReview, AnkiTemplate
from .proto import DeckKind, NotetypeConfig, TemplateConfig

DEFAULT_ROLLOVER = 4

# table -> {column: the SQLite type every value must have}
_INT, _TEXT, _BLOB = "integer", "text", "blob"
_COMMON = {
    "col": {"crt": _INT, "ver": _INT, "conf": _TEXT, "models": _TEXT, "decks": _TEXT},
    "notes": {"id": _INT, "guid": _TEXT, "mid": _INT, "mod": _INT, "tags": _TEXT, "flds": _TEXT},
    "cards": {
        **dict.fromkeys(("id", "nid", "did", "ord", "mod", "type", "queue", "due"), _INT),
        **dict.fromkeys(("ivl", "factor", "reps", "lapses", "left", "odue", "odid"), _INT),
        **{"flags": _INT, "data": _TEXT},
    },
    "revlog": dict.fromkeys(
        ("id", "cid", "ease", "ivl", "lastIvl", "factor", "time", "type"), _INT
    ),
}
_SCHEMA18 = {
    "notetypes": {"id": _INT, "name": _TEXT, "config": _BLOB},
    "fields": {"ntid": _INT, "ord": _INT, "name": _TEXT},
    "templates": {"ntid": _INT, "ord": _INT, "name": _TEXT, "config": _BLOB},
    "decks": {"id": _INT, "name": _TEXT, "kind": _BLOB},
    "config": {"KEY": _TEXT, "val": _BLOB},
}
# What Anki 2.1.x writes: schema 11 in collection.anki2/.anki21, 18 in collection.anki21b.
SCHEMA_VERSIONS = {"collection.anki2": 11, "collection.anki21": 11, "collection.anki21b": 18}


class PackageError(ImportFileError):
    """An Anki package that cannot be read; the message names the package and what is wrong."""


class CollectionFile:
    """The content of one extracted collection (see collection.AnkiCollection)."""

    def __init__(self, db_path: Path, filename: str, label: str):
        self.filename = filename  # collection.anki2 / .anki21 / .anki21b
        self.label = label  # "deck.apkg: collection.anki21b", for messages
        self.schema = SCHEMA_VERSIONS[filename]
        self._db = _connect(db_path, label)
        try:
            self._check_tables()
            self.crt, version, conf, models, decks = self._db.execute(
                "select crt, ver, conf, models, decks from col"
            ).fetchone() or self._fail("the col table has no row")
            if version != self.schema:
                self._fail(
                    f"collection schema version {version}; {filename} holds version "
                    f"{self.schema}" + (" (made by a newer Anki?)" if version > 18 else "")
                )
            if self.schema == 11:
                self.rollover_hour = _rollover(_json(conf, "col.conf", label), label)
                self.notetypes = _notetypes11(_json(models, "col.models", label), label)
                self.decks = _decks11(_json(decks, "col.decks", label), label)
            else:
                self.rollover_hour = self._rollover18()
                self.notetypes = self._notetypes18()
                self.decks = self._decks18()
            self.note_count, self.card_count, self.review_count = (
                self._db.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("notes", "cards", "revlog")
            )
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise PackageError(f"{label}: not a readable Anki collection ({error})") from error
        except BaseException:
            self._db.close()
            raise

    def _fail(self, message: str):
        raise PackageError(f"{self.label}: {message}")

    def _check_tables(self) -> None:
        tables = {**_COMMON, **(_SCHEMA18 if self.schema == 18 else {})}
        kinds = dict(self._db.execute("select name, type from sqlite_master"))
        for table, columns in tables.items():
            if kinds.get(table) != "table":
                self._fail(f"no {table} table: not an Anki collection of schema {self.schema}")
            have = {row[1] for row in self._db.execute(f'pragma table_info("{table}")')}
            missing = [c for c in columns if c not in have]
            if missing:
                self._fail(f"the {table} table lacks the column(s) {', '.join(missing)}")
            # One scan per table in SQLite finds the first value of a wrong type, if any.
            wrong = " or ".join(f"typeof(\"{c}\") <> '{t}'" for c, t in columns.items())
            key = "rowid" if table not in ("fields", "templates", "config") else "1"
            row = self._db.execute(f'select {key}, * from "{table}" where {wrong} limit 1')
            bad = row.fetchone()
            if bad is not None:
                names = [d[0] for d in row.description][1:]
                values = dict(zip(names, bad[1:], strict=True))
                column = next(c for c, t in columns.items() if _kind(values[c]) != t)
                where = f"row {bad[0]}" if key == "rowid" else "a row"
                found = _kind(values[column])
                self._fail(f"{table} {where}: {column} holds {found}, not {columns[column]}")

    def _rollover18(self) -> int:
        row = self._db.execute("select val from config where KEY = 'rollover'").fetchone()
        return DEFAULT_ROLLOVER if row is None else _rollover({"rollover": _json(
            row[0], "config rollover", self.label)}, self.label)  # fmt: skip

    def _notetypes18(self) -> dict[int, AnkiNotetype]:
        fields: dict[int, list[str]] = {}
        for ntid, name in self._db.execute("select ntid, name from fields order by ntid, ord"):
            fields.setdefault(ntid, []).append(name)
        templates: dict[int, list[AnkiTemplate]] = {}
        for ntid, name, blob in self._db.execute(
            "select ntid, name, config from templates order by ntid, ord"
        ):
            what = f"template {name!r} of note type {ntid}"
            config = self._proto(TemplateConfig, blob, what)
            templates.setdefault(ntid, []).append(
                AnkiTemplate(name=name, front=self.text(config.q_format, what),
                             back=self.text(config.a_format, what))
            )  # fmt: skip
        notetypes = {}
        for ntid, name, blob in self._db.execute("select id, name, config from notetypes"):
            what = f"note type {name!r} ({ntid})"
            config = self._proto(NotetypeConfig, blob, what)
            notetypes[ntid] = AnkiNotetype(
                id=ntid, name=name, is_cloze=config.kind == 1, fields=fields.get(ntid, []),
                templates=templates.get(ntid, []), css=self.text(config.css, what),
            )  # fmt: skip
        return notetypes

    def _decks18(self) -> dict[int, AnkiDeck]:
        decks = {}
        for did, name, blob in self._db.execute("select id, name, kind from decks"):
            kind = self._proto(DeckKind, blob, f"deck {name!r} ({did})")
            decks[did] = AnkiDeck(
                id=did, name=name.replace("\x1f", "::"), is_filtered=kind.HasField("filtered")
            )
        return decks

    def _proto(self, cls, blob: bytes, what: str):
        try:
            return cls.FromString(blob)
        except DecodeError as error:
            self._fail(f"{what}: its settings are not valid protobuf ({error})")

    def text(self, raw: bytes, what: str) -> str:
        """A protobuf string field (read as bytes), decoded."""
        try:
            return raw.decode()
        except UnicodeDecodeError as error:
            self._fail(f"{what}: a setting is not valid UTF-8 ({error})")

    def notes(self) -> Iterator[AnkiNote]:
        """In id order."""
        for nid, guid, mid, mod, tags, flds in self._db.execute(
            "select id, guid, mid, mod, tags, flds from notes order by id"
        ):
            yield AnkiNote(id=nid, guid=guid, notetype_id=mid, modified=mod,
                           tags=tags.split(), fields=flds.split("\x1f"))  # fmt: skip

    def cards(self) -> Iterator[AnkiCard]:
        """In note id, then ord order; a card in a filtered deck reports its home deck and due."""
        for row in self._db.execute(
            "select id, nid, did, odid, ord, mod, type, queue, due, odue, ivl, factor, reps,"
            " lapses, left, flags, data from cards order by nid, ord, id"
        ):
            cid, nid, did, odid, ord_, mod, type_, queue, due, odue, *rest = row
            ivl, factor, reps, lapses, left, flags, data = rest
            yield AnkiCard(
                id=cid, note_id=nid, deck_id=odid or did, ord=ord_, modified=mod, type=type_,
                queue=queue, due=odue if odid else due, interval=ivl, factor=factor, reps=reps,
                lapses=lapses, left=left, flags=flags, data=self._card_data(cid, data),
            )  # fmt: skip

    def _card_data(self, card_id: int, data: str) -> dict:
        if not data:
            return {}
        value = _json(data, f"card {card_id}'s data", self.label)
        if not isinstance(value, dict):
            self._fail(f"card {card_id}'s data is not a JSON object")
        return value

    def reviews(self) -> Iterator[AnkiReview]:
        """In card id, then review id order."""
        for row in self._db.execute(
            "select id, cid, ease, ivl, lastIvl, factor, time, type from revlog order by cid, id"
        ):
            rid, cid, ease, ivl, last_ivl, factor, ms, type_ = row
            yield AnkiReview(id=rid, card_id=cid, ease=ease, interval=ivl,
                             last_interval=last_ivl, factor=factor, duration_ms=ms,
                             type=type_)  # fmt: skip

    def close(self) -> None:
        self._db.close()


def _connect(path: Path, label: str) -> sqlite3.Connection:
    """Read-only and immutable: the file is ours alone, no journal or lock files are made."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        # A crafted file could hide SQL in views or triggers: never run schema code.
        db.execute("pragma trusted_schema = off")
        db.execute("pragma cell_size_check = on")
        db.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        db.close()
        raise PackageError(f"{label}: not an SQLite database ({error})") from error
    return db


def _kind(value) -> str:
    return {int: _INT, str: _TEXT, bytes: _BLOB, float: "real"}.get(type(value), "null")


def _json(text, where: str, label: str):
    try:
        return json.loads(text)
    except (ValueError, TypeError) as error:
        raise PackageError(f"{label}: {where} is not valid JSON ({error})") from error


def _rollover(conf, label: str) -> int:
    value = conf.get("rollover", DEFAULT_ROLLOVER) if isinstance(conf, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 23:
        raise PackageError(f"{label}: the rollover hour {value!r} is not an hour 0-23")
    return value


def _notetypes11(models, label: str) -> dict[int, AnkiNotetype]:
    """col.models: {"id": {"name", "type" (1 cloze), "flds": [...], "tmpls": [...], "css"}}."""
    if not isinstance(models, dict):
        raise PackageError(f"{label}: col.models is not a JSON object")
    notetypes = {}
    for key, model in models.items():
        try:
            fields = sorted(model["flds"], key=lambda f: f["ord"])
            templates = sorted(model["tmpls"], key=lambda t: t["ord"])
            notetype = AnkiNotetype(
                id=int(key), name=_str(model["name"]), is_cloze=model.get("type") == 1,
                fields=[_str(f["name"]) for f in fields],
                templates=[AnkiTemplate(name=_str(t["name"]), front=_str(t["qfmt"]),
                                        back=_str(t["afmt"])) for t in templates],
                css=_str(model.get("css", "")),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PackageError(
                f"{label}: note type {key} in col.models is malformed ({error!r})"
            ) from error
        notetypes[notetype.id] = notetype
    return notetypes


def _decks11(decks, label: str) -> dict[int, AnkiDeck]:
    """col.decks: {"id": {"name": "A::B", "dyn": 0 or 1}}."""
    if not isinstance(decks, dict):
        raise PackageError(f"{label}: col.decks is not a JSON object")
    out = {}
    for key, deck in decks.items():
        try:
            out[int(key)] = AnkiDeck(id=int(key), name=_str(deck["name"]),
                                     is_filtered=bool(deck.get("dyn")))  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PackageError(
                f"{label}: deck {key} in col.decks is malformed ({error!r})"
            ) from error
    return out


def _str(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value
