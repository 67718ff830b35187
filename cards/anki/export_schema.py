"""The parts of an Anki schema-11 collection that are not rows of notes, cards and revlog: the
tables, and the JSON Anki keeps in the `col` row (config, note types, decks, deck options).

Schema 11 (rslib/src/storage/schema11.sql) is what every Anki 2.1.x and AnkiDroid opens; Anki
2.1.50+ upgrades it to its current schema when it imports the package. The JSON keys follow
rslib's *Schema11 structs (notetype/schema11.rs, decks/schema11.rs, deckconfig/schema11.rs,
config/schema11.rs): the keys they require without a serde default are always written.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets

from cards.models import NOTE_FIELDS, NoteKind, NoteType

SCHEMA_SQL = """
CREATE TABLE col (
  id integer PRIMARY KEY, crt integer NOT NULL, mod integer NOT NULL, scm integer NOT NULL,
  ver integer NOT NULL, dty integer NOT NULL, usn integer NOT NULL, ls integer NOT NULL,
  conf text NOT NULL, models text NOT NULL, decks text NOT NULL, dconf text NOT NULL,
  tags text NOT NULL
);
CREATE TABLE notes (
  id integer PRIMARY KEY, guid text NOT NULL, mid integer NOT NULL, mod integer NOT NULL,
  usn integer NOT NULL, tags text NOT NULL, flds text NOT NULL, sfld integer NOT NULL,
  csum integer NOT NULL, flags integer NOT NULL, data text NOT NULL
);
CREATE TABLE cards (
  id integer PRIMARY KEY, nid integer NOT NULL, did integer NOT NULL, ord integer NOT NULL,
  mod integer NOT NULL, usn integer NOT NULL, type integer NOT NULL, queue integer NOT NULL,
  due integer NOT NULL, ivl integer NOT NULL, factor integer NOT NULL, reps integer NOT NULL,
  lapses integer NOT NULL, left integer NOT NULL, odue integer NOT NULL, odid integer NOT NULL,
  flags integer NOT NULL, data text NOT NULL
);
CREATE TABLE revlog (
  id integer PRIMARY KEY, cid integer NOT NULL, usn integer NOT NULL, ease integer NOT NULL,
  ivl integer NOT NULL, lastIvl integer NOT NULL, factor integer NOT NULL, time integer NOT NULL,
  type integer NOT NULL
);
CREATE TABLE graves (usn integer NOT NULL, oid integer NOT NULL, type integer NOT NULL);
CREATE INDEX ix_notes_usn ON notes (usn);
CREATE INDEX ix_cards_usn ON cards (usn);
CREATE INDEX ix_revlog_usn ON revlog (usn);
CREATE INDEX ix_cards_nid ON cards (nid);
CREATE INDEX ix_cards_sched ON cards (did, queue, due);
CREATE INDEX ix_revlog_cid ON revlog (cid);
CREATE INDEX ix_notes_csum ON notes (csum);
"""

_CSS = (
    ".card {\n    font-family: arial;\n    font-size: 20px;\n    line-height: 1.5;\n"
    "    text-align: center;\n    color: black;\n    background-color: white;\n}\n"
)
_CLOZE_CSS = _CSS + (
    ".cloze {\n    font-weight: bold;\n    color: blue;\n}\n"
    ".nightMode .cloze {\n    color: lightblue;\n}\n"
)
_LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n"
    "\\usepackage[utf8]{inputenc}\n\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n"
    "\\setlength{\\parindent}{0in}\n\\begin{document}\n"
)
_ANSWER = "{{FrontSide}}\n\n<hr id=answer>\n\n"

# Anki's stock note types (rslib/src/notetype/stock.rs), by our kind: name, original stock kind,
# templates (name, front, back) and card requirements. The ids are fixed, so that exporting a
# deck again gives Anki the same note types to update instead of new copies.
STOCK = {
    NoteKind.BASIC: (
        "Basic", 1, [("Card 1", "{{Front}}", _ANSWER + "{{Back}}")], [[0, "any", [0]]],
    ),
    NoteKind.REVERSED: (
        "Basic (and reversed card)", 2,
        [("Card 1", "{{Front}}", _ANSWER + "{{Back}}"),
         ("Card 2", "{{Back}}", _ANSWER + "{{Front}}")],
        [[0, "any", [0]], [1, "any", [1]]],
    ),
    NoteKind.OPTIONAL_REVERSED: (
        "Basic (optional reversed card)", 3,
        [("Card 1", "{{Front}}", _ANSWER + "{{Back}}"),
         ("Card 2", "{{#Add Reverse}}{{Back}}{{/Add Reverse}}", _ANSWER + "{{Front}}")],
        [[0, "any", [0]], [1, "all", [1, 2]]],
    ),
    NoteKind.CLOZE: (
        "Cloze", 5, [("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}")],
        [[0, "any", [0]]],
    ),
}  # fmt: skip
STOCK_IDS = {
    NoteKind.BASIC: 1_420_070_400_001,
    NoteKind.REVERSED: 1_420_070_400_002,
    NoteKind.OPTIONAL_REVERSED: 1_420_070_400_003,
    NoteKind.CLOZE: 1_420_070_400_004,
}
# A note type made here (not imported from Anki, so without an anki_id): a fixed offset plus
# its primary key, far from the millisecond timestamps Anki uses as ids.
NOTETYPE_ID_BASE = 1_300_000_000_000
DEFAULT_DECK_ID = 1
DEFAULT_CONF_ID = 1
STUDYAPP_CONF_ID = 1_420_070_400_100


def _field(name: str, ord_: int) -> dict:
    return {
        "name": name, "ord": ord_, "sticky": False, "rtl": False, "font": "Arial", "size": 20,
        "description": "", "plainText": False, "collapsed": False, "excludeFromSearch": False,
    }  # fmt: skip


def _template(name: str, ord_: int, front: str, back: str) -> dict:
    return {
        "name": name, "ord": ord_, "qfmt": front, "afmt": back, "bqfmt": "", "bafmt": "",
        "did": None, "bfont": "", "bsize": 0,
    }  # fmt: skip


def _notetype(ntid: int, name: str, cloze: bool, fields, templates, css: str, mtime: int):
    return {
        "id": ntid, "name": name, "type": 1 if cloze else 0, "mod": mtime, "usn": 0,
        "sortf": 0, "did": None,
        "tmpls": [_template(n, i, f, b) for i, (n, f, b) in enumerate(templates)],
        "flds": [_field(n, i) for i, n in enumerate(fields)],
        "css": css, "latexPre": _LATEX_PRE, "latexPost": "\\end{document}", "latexsvg": False,
    }  # fmt: skip


def stock_notetype(kind: str) -> dict:
    """Anki's stock note type for one of our kinds: the same name, fields and templates, so
    Anki renders the cards exactly as its own would."""
    name, stock_kind, templates, req = STOCK[kind]
    cloze = kind == NoteKind.CLOZE
    model = _notetype(
        STOCK_IDS[kind], name, cloze, NOTE_FIELDS[kind], templates,
        _CLOZE_CSS if cloze else _CSS, 0,
    )  # fmt: skip
    model["req"] = req
    model["originalStockKind"] = stock_kind
    return model


def notetype_id(note_type: NoteType) -> int:
    return note_type.anki_id or NOTETYPE_ID_BASE + note_type.pk


def custom_notetype(note_type: NoteType) -> dict:
    """An imported note type as Anki had it: its fields, templates and CSS. Anki recomputes
    the card requirements ("req") itself when it adds the note type."""
    templates = [(t["name"], t["front"], t["back"]) for t in note_type.templates]
    return _notetype(
        notetype_id(note_type), note_type.name, note_type.is_cloze, note_type.field_names,
        templates, note_type.css, int(note_type.updated_at.timestamp()),
    )  # fmt: skip


def collection_config(rollover_hour: int, creation_offset: int, first_notetype: int) -> dict:
    """col.conf: config/schema11.rs's keys, plus the day rollover and the creation time's UTC
    offset (minutes west), so that Anki counts the day numbers of `due` from crt in the
    exporting user's study days."""
    return {
        "activeDecks": [DEFAULT_DECK_ID], "curDeck": DEFAULT_DECK_ID, "newSpread": 0,
        "collapseTime": 1200, "timeLim": 0, "estTimes": True, "dueCounts": True,
        "curModel": first_notetype, "nextPos": 1, "sortType": "noteFld",
        "sortBackwards": False, "addToCur": True, "dayLearnFirst": False, "schedVer": 2,
        "sched2021": True, "creationOffset": creation_offset, "rollover": rollover_hour,
    }  # fmt: skip


def deck_json(deck_id: int, name: str, conf_id: int, mtime: int, desc: str = "") -> dict:
    return {
        "id": deck_id, "mod": mtime, "name": name, "usn": 0,
        "lrnToday": [0, 0], "revToday": [0, 0], "newToday": [0, 0], "timeToday": [0, 0],
        "collapsed": False, "browserCollapsed": False, "desc": desc, "md": bool(desc),
        "dyn": 0, "conf": conf_id, "extendNew": 0, "extendRev": 0,
    }  # fmt: skip


def deck_config(conf_id: int, name: str, settings=None) -> dict:
    """Deck options: Anki's defaults, or the exporting user's study settings (limits, steps in
    minutes, desired retention, FSRS parameters) when `settings` is given."""
    learning, relearning = [1.0, 10.0], [10.0]
    new_per_day, reviews_per_day, max_ivl, retention, leech = 20, 200, 36500, 0.9, 8
    params = {"fsrsWeights": [], "fsrsParams5": [], "fsrsParams6": []}
    if settings is not None:
        learning = [s / 60 for s in settings.learning_steps]
        relearning = [s / 60 for s in settings.relearning_steps]
        new_per_day, reviews_per_day = settings.new_cards_per_day, settings.reviews_per_day
        max_ivl, retention = settings.maximum_interval, settings.desired_retention
        leech = settings.leech_threshold
        key = {21: "fsrsParams6", 19: "fsrsParams5", 17: "fsrsWeights"}.get(
            len(settings.fsrs_parameters)
        )
        if key:
            params[key] = list(settings.fsrs_parameters)
    return {
        "id": conf_id, "mod": 0, "name": name, "usn": 0, "maxTaken": 60, "autoplay": True,
        "timer": 0, "replayq": True,
        "new": {"bury": False, "delays": learning, "initialFactor": 2500, "ints": [1, 4, 0],
                "order": 1, "perDay": new_per_day},
        "rev": {"bury": False, "ease4": 1.3, "ivlFct": 1.0, "maxIvl": max_ivl,
                "perDay": reviews_per_day, "hardFactor": 1.2},
        "lapse": {"delays": relearning, "leechAction": 1, "leechFails": leech, "minInt": 1,
                  "mult": 0.0},
        "dyn": False, "desiredRetention": retention, **params,
    }  # fmt: skip


# -- notes ----------------------------------------------------------------------------------

_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
# rslib/src/text.rs: a media tag keeps its file name in the sort field and checksum.
_MEDIA_TAG = re.compile(
    r"""<\b(?:img|audio|video|object|source)\b[^>]*?\b(?:src|data)="([^"]+)"[^>]*>""", re.I
)
_TAG = re.compile(r"(?s)<!--.*?-->|<.*?>")


def new_guid() -> str:
    """Anki's note guid: a random 64-bit number in its base-91 alphabet (notes/mod.rs)."""
    n, out = secrets.randbits(64), []
    while n:
        n, r = divmod(n, 91)
        out.append(_BASE91[r])
    return "".join(reversed(out)) or _BASE91[0]


def plain_text(field_html: str) -> str:
    """strip_html_preserving_media_filenames: what Anki sorts and checksums a note by."""
    text = _TAG.sub("", _MEDIA_TAG.sub(r" \1 ", field_html))
    return html.unescape(text).replace("\xa0", " ") if "&" in text else text


def field_checksum(first_field_html: str) -> int:
    """The first 4 bytes of the SHA-1 of the first field's text (notes/mod.rs)."""
    return int.from_bytes(hashlib.sha1(plain_text(first_field_html).encode()).digest()[:4])
