"""Anki's wildcards in a written value, as SQL LIKE patterns and as regular expressions.

`*` is any run of characters, `_` any one character, and a backslash makes the next character
literal (`\\*`, `\\_`, `\\\\`). Values are folded (cards/search/fold.py) by the caller, before
or in SQL: folding never touches the wildcard or escape characters.
"""

from __future__ import annotations

import re

from cards.search.fold import fold


def _pieces(raw: str):
    """(literal text or None for a wildcard, wildcard char) pairs, in order."""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            yield raw[i + 1], None
            i += 2
            continue
        if ch in "*_":
            yield None, ch
        else:
            yield ch, None
        i += 1


def like_pattern(raw: str, contains: bool) -> tuple[str, bool]:
    """(LIKE pattern, whether it needs ESCAPE '\\'). `contains` wraps it in %…%.

    SQLite's LIKE has no escape character unless told, so the caller adds ESCAPE only for a
    literal %, _ or backslash (PostgreSQL escapes with a backslash by default).
    """
    out, escaped = [], False
    for literal, wildcard in _pieces(raw):
        if wildcard is not None:
            out.append("%" if wildcard == "*" else "_")
        elif literal in "%_\\":
            out.append("\\" + literal)
            escaped = True
        else:
            out.append(literal)
    body = "".join(out)
    return (f"%{body}%" if contains else body), escaped


def literal_text(raw: str) -> str:
    """The value with escapes removed and wildcards kept as written."""
    return "".join(literal if literal is not None else wc for literal, wc in _pieces(raw))


def name_regex(raw: str, any_char: str = ".") -> str:
    """A regular expression for a deck or tag name (folded): `*` any run of `any_char`."""
    out = []
    for literal, wildcard in _pieces(raw):
        if wildcard == "*":
            out.append(f"{any_char}*")
        elif wildcard == "_":
            out.append(any_char)
        else:
            out.append(re.escape(fold(literal)))
    return "".join(out)


def matches_name(raw: str, name: str) -> bool:
    """deck:RAW matches this deck name: the name itself, or a child (RAW::…), case- and
    accent-insensitively."""
    return re.fullmatch(f"{name_regex(raw)}(::.*)?", fold(name), re.DOTALL) is not None


def tag_regex(raw: str) -> str:
    """A regular expression over " folded tags ": the tag or a child tag (RAW::…), whole.

    Written for both Python's re (SQLite's REGEXP) and PostgreSQL's ARE: only [^ ], *, ?,
    (…), and backslash-escaped punctuation.
    """
    return f"(^| ){name_regex(raw, '[^ ]')}(::[^ ]*)?( |$)"
