"""What one term of a search means: a plain word, or `field:value` checked field by field.

Each error names the term and points at the part of the query that is wrong (a SearchError's
span), with the values the field accepts.
"""

from __future__ import annotations

import re

from cards.search import nodes

MAX_DAYS = 36500
MAX_CARD_IDS = 1000
STATE_KINDS = ("new", "learn", "review", "due", "suspended", "buried", "leech")
PROP_KINDS = ("ivl", "due", "lapses", "reps", "s", "d", "r")
_PROP = re.compile(r"([a-z]+)(<=|>=|!=|=|<|>)(.*)", re.DOTALL)
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_NUMBER = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,9})?|-?\.[0-9]{1,9}")
FIELDS = (
    "deck", "tag", "is", "flag", "prop", "rated", "introduced", "added", "edited", "front",
    "back", "cid",
)  # fmt: skip


def _error(message, start, end=None):
    from cards.search.parser import SearchError  # the parser imports this module

    return SearchError(message, start, end)


def _unescaped_colon(raw: str) -> int:
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == ":":
            return i
        i += 1
    return -1


def make_term(raw: str, start: int, quoted: bool = False) -> nodes.Node:
    """The node of one term; `start` is where its raw text begins in the query."""
    text_start = start + 1 if quoted else start
    colon = _unescaped_colon(raw)
    if colon == -1:
        return _text(raw, text_start)
    name = raw[:colon].lower()
    if name not in FIELDS:
        shown = raw[: colon + 1]
        raise _error(
            f"unknown search field '{shown}' (known: {', '.join(f + ':' for f in FIELDS)}); "
            f"to search for the text, write the colon as '\\:'",
            text_start,
            text_start + colon + 1,
        )
    value, value_start = raw[colon + 1 :], text_start + colon + 1
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value, value_start = value[1:-1], value_start + 1
    end = value_start + max(len(value), 1)
    if not value:
        raise _error(f"'{name}:' needs a value after the colon", value_start - 1, value_start)
    return _FIELD_MAKERS[name](name, value, value_start, end)


def _text(raw: str, start: int) -> nodes.Node:
    if not raw:
        raise _error("empty quotes: put the text to find between them", max(start - 1, 0))
    return nodes.Text(raw)


def _front_back(name, value, start, end):
    return nodes.FieldText("question" if name == "front" else "answer", value)


def _deck(name, value, start, end):
    return nodes.Deck(value)


def _tag(name, value, start, end):
    return nodes.Tag(value)


def _state(name, value, start, end):
    kind = value.lower()
    if kind not in STATE_KINDS:
        raise _error(f"is:{value} is not a state: use is:{', is:'.join(STATE_KINDS)}", start, end)
    return nodes.State(kind)


def _flag(name, value, start, end):
    if not re.fullmatch(r"[0-7]", value):
        raise _error(f"flag: takes a number 0–7 (0 = no flag), not '{value}'", start, end)
    return nodes.Flag(int(value))


def _days(name, value, start, end) -> int:
    if not _INTEGER.fullmatch(value) or not 1 <= int(value) <= MAX_DAYS:
        raise _error(f"{name}: takes a number of days 1–{MAX_DAYS}, not '{value}'", start, end)
    return int(value)


def _rated(name, value, start, end):
    days, _, ease = value.partition(":")
    number = _days(name, days, start, start + len(days))
    if not _:
        return nodes.Rated(number)
    ease_start = start + len(days) + 1
    if not re.fullmatch(r"[1-4]", ease):
        raise _error(
            f"the answer button of rated:{days}: is 1–4 (Again, Hard, Good, Easy), not '{ease}'",
            ease_start,
            ease_start + max(len(ease), 1),
        )
    return nodes.Rated(number, int(ease))


def _counted(cls):
    return lambda name, value, start, end: cls(_days(name, value, start, end))


def _prop(name, value, start, end):
    match = _PROP.fullmatch(value.lower())
    if not match or match.group(1) not in PROP_KINDS:
        raise _error(
            f"prop: takes a property ({', '.join(PROP_KINDS)}), a comparison "
            f"(<, <=, =, !=, >=, >) and a number, as prop:ivl>=10; not '{value}'",
            start,
            end,
        )
    kind, op, number = match.groups()
    number_start = start + len(kind) + len(op)
    integer = kind in ("ivl", "due", "lapses", "reps")
    if not (_INTEGER if integer else _NUMBER).fullmatch(number):
        what = "a whole number" if integer else "a number"
        raise _error(
            f"prop:{kind} compares with {what}, not '{number}'",
            number_start,
            number_start + max(len(number), 1),
        )
    amount = int(number) if integer else float(number)
    limits = {"d": (0, 1), "r": (0, 1)}.get(kind)
    if limits and not limits[0] <= amount <= limits[1]:
        raise _error(f"prop:{kind} is between 0 and 1, not {number}", number_start, end)
    if kind in ("ivl", "lapses", "reps", "s") and amount < 0:
        raise _error(f"prop:{kind} is never negative, not {number}", number_start, end)
    return nodes.Prop(kind, op, amount)


def _cid(name, value, start, end):
    parts = value.split(",")
    if len(parts) > MAX_CARD_IDS:
        raise _error(f"cid: takes at most {MAX_CARD_IDS} card ids", start, end)
    offset = start
    ids = []
    for part in parts:
        if not re.fullmatch(r"[0-9]{1,18}", part):
            raise _error(
                f"cid: takes card ids separated by commas, as cid:12,15; not '{part}'",
                offset,
                offset + max(len(part), 1),
            )
        ids.append(int(part))
        offset += len(part) + 1
    return nodes.CardIds(tuple(ids))


_FIELD_MAKERS = {
    "deck": _deck,
    "tag": _tag,
    "is": _state,
    "flag": _flag,
    "prop": _prop,
    "rated": _rated,
    "introduced": _counted(nodes.Introduced),
    "added": _counted(nodes.Added),
    "edited": _counted(nodes.Edited),
    "front": _front_back,
    "back": _front_back,
    "cid": _cid,
}
