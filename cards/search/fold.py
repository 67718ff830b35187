"""Case- and accent-insensitive matching: one folding of text, the same on both databases.

PostgreSQL folds with `lower(unaccent(...))` (the SQL function `studyapp_fold`, created by
migration 0011); SQLite has no unaccent, so the same function is registered on each SQLite
connection from Python (cards/apps.py), and the triggers that keep the FTS5 table in sync store
the folded text. `fold` approximates unaccent's rules: decomposition drops the combining
marks, and the letters unaccent spells out without a decomposition (ß, æ, ø, ł, …) are listed.
"""

from __future__ import annotations

import unicodedata

# unaccent.rules for the letters that have no canonical decomposition.
_SPELLED = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
        "ı": "i", "ħ": "h", "Ħ": "H", "ŀ": "l", "Ŀ": "L", "ŧ": "t", "Ŧ": "T",
    }
)  # fmt: skip


def fold(text: str | None) -> str | None:
    """Lower case, without accents: the form both the index and the query are compared in."""
    if text is None:
        return None
    if text.isascii():
        return text.lower()  # nothing to decompose or spell out (an import folds 100,000 cards)
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).lower()


def register_sqlite_fold(sender, connection, **kwargs):
    """connection_created receiver (cards/apps.py): `studyapp_fold(text)` on SQLite."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("studyapp_fold", 1, fold, deterministic=True)
