"""The search tree: boolean nodes and the terms of Anki's search language.

Text values are kept as written (escapes included): cards/search/patterns.py turns them into
LIKE patterns or regular expressions, with `*` (any run of characters) and `_` (one
character) as Anki's wildcards.
"""

from __future__ import annotations

from dataclasses import dataclass


class Node:
    pass


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    child: Node


@dataclass(frozen=True)
class Text(Node):
    """A word or "quoted phrase": found anywhere in the question or the answer."""

    value: str


@dataclass(frozen=True)
class FieldText(Node):
    """front:/back: — the whole question (or answer) matches, as Anki's field search."""

    field: str  # "question" or "answer"
    value: str


@dataclass(frozen=True)
class Deck(Node):
    """deck:NAME — the deck and its children (NAME::…), `*` a wildcard."""

    value: str


@dataclass(frozen=True)
class Tag(Node):
    """tag:NAME — the tag and its children (NAME::…); tag:none, cards without tags."""

    value: str


@dataclass(frozen=True)
class State(Node):
    """is:new|learn|review|due|suspended|buried|leech."""

    kind: str


@dataclass(frozen=True)
class Flag(Node):
    flag: int


@dataclass(frozen=True)
class Prop(Node):
    """prop:ivl|due|lapses|reps|s|d|r with a comparison, e.g. prop:ivl>=10."""

    kind: str
    op: str
    value: float


@dataclass(frozen=True)
class Rated(Node):
    """rated:N[:ease] — answered in the last N study days (with that button: 1–4)."""

    days: int
    ease: int | None = None


@dataclass(frozen=True)
class Introduced(Node):
    """introduced:N — first answered in the last N study days."""

    days: int


@dataclass(frozen=True)
class Added(Node):
    days: int


@dataclass(frozen=True)
class Edited(Node):
    days: int


@dataclass(frozen=True)
class CardIds(Node):
    ids: tuple[int, ...]
