"""Anki's search language (https://docs.ankiweb.net/searching.html), parsed into a tree.

The grammar, as Anki's rslib/src/search/parser.rs reads it:
    query    := or_expr
    or_expr  := and_expr ("or" and_expr)*
    and_expr := unary (["and"] unary)*
    unary    := "-" unary | "(" or_expr ")" | term
    term     := word | "quoted phrase" | field:value | field:"quoted value" | "field:value"
Terms are ANDed when written side by side; `or` and `and` are keywords in any case. A
backslash escapes the next character (`\\*`, `\\_`, `\\"`, `\\:`, `\\(`). The scan is one
pass over the text, so the work is linear in the query's length (the query is bounded too).

Every error is a SearchError with the span of the query it is about, so the page can show
where the query is wrong. The meaning of each field term is in cards/search/terms.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.search.nodes import And, Node, Not, Or
from cards.search.terms import make_term

MAX_QUERY_CHARS = 1000
MAX_DEPTH = 50


class SearchError(ValueError):
    """A query that cannot be searched: the message says why, [start, end) says where."""

    def __init__(self, message: str, start: int, end: int | None = None):
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = max(end if end is not None else start + 1, start + 1)

    def __str__(self):
        return f"{self.message} (at character {self.start + 1})"

    def parts(self, query: str) -> tuple[str, str, str]:
        """The query cut into (before, the wrong part, after), to show the wrong part marked."""
        return query[: self.start], query[self.start : self.end] or " ", query[self.end :]


@dataclass(frozen=True)
class Token:
    kind: str  # "(", ")", "-", "or", "and", "term"
    start: int
    end: int
    text: str = ""  # a term's raw text, escapes kept
    quoted: bool = False  # a whole "quoted" term


_SPECIAL = ' \t\r\n\u3000()"'


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in " \t\r\n\u3000":
            i += 1
        elif ch in "()":
            tokens.append(Token(ch, i, i + 1))
            i += 1
        elif ch == "-" and (i + 1 >= n or query[i + 1] in " \t\r\n\u3000)"):
            raise SearchError("'-' must be followed by a term to leave out", i)
        elif ch == "-":
            tokens.append(Token("-", i, i + 1))
            i += 1
        elif ch == '"':
            end = _closing_quote(query, i)
            tokens.append(Token("term", i, end + 1, query[i + 1 : end], quoted=True))
            i = end + 1
        else:
            start = i
            while i < n and query[i] not in _SPECIAL:
                if query[i] == "\\":
                    i += 1  # the escaped character is part of the term, whatever it is
                elif query[i] == ":" and i + 1 < n and query[i + 1] == '"':
                    i = _closing_quote(query, i + 1)  # field:"quoted value"
                i += 1
            i = min(i, n)
            text = query[start:i]
            keyword = text.lower()
            kind = keyword if keyword in ("or", "and") else "term"
            tokens.append(Token(kind, start, i, text))
    return tokens


def _closing_quote(query: str, opening: int) -> int:
    i = opening + 1
    while i < len(query):
        if query[i] == "\\":
            i += 2
            continue
        if query[i] == '"':
            return i
        i += 1
    raise SearchError('this quote is never closed: add a closing "', opening)


def parse(query: str) -> Node | None:
    """The tree of `query`; None for an empty query (every card)."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(
            f"the search is {len(query)} characters long; at most {MAX_QUERY_CHARS}",
            MAX_QUERY_CHARS,
            len(query),
        )
    if "\x00" in query:
        raise SearchError("the search contains a NUL character", query.index("\x00"))
    parser = _Parser(tokenize(query), len(query))
    if not parser.tokens:
        return None
    node = parser.or_expr(0)
    if parser.pos < len(parser.tokens):
        token = parser.tokens[parser.pos]
        raise SearchError("this ')' has no '(' to close", token.start, token.end)
    return node


class _Parser:
    def __init__(self, tokens: list[Token], length: int):
        self.tokens, self.pos, self.length = tokens, 0, length

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def or_expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            token = self.peek()
            raise SearchError(f"more than {MAX_DEPTH} nested groups", token.start if token else 0)
        children = [self.and_expr(depth)]
        while (token := self.peek()) is not None and token.kind == "or":
            self.pos += 1
            if self.peek() is None or self.peek().kind in (")", "or", "and"):
                raise SearchError("'or' needs a term on each side", token.start, token.end)
            children.append(self.and_expr(depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, depth: int) -> Node:
        token = self.peek()
        if token is None:
            raise SearchError("the search ends where a term was expected", self.length)
        if token.kind in ("or", "and"):
            raise SearchError(f"'{token.text}' needs a term on each side", token.start, token.end)
        if token.kind == ")":
            raise SearchError("this ')' has no '(' to close, or closes an empty group", token.start)
        children = [self.unary(depth)]
        while (token := self.peek()) is not None and token.kind not in ("or", ")"):
            if token.kind == "and":
                self.pos += 1
                following = self.peek()
                if following is None or following.kind in (")", "or", "and"):
                    raise SearchError("'and' needs a term on each side", token.start, token.end)
            children.append(self.unary(depth))
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token is None:
            raise SearchError("the search ends where a term was expected", self.length)
        self.pos += 1
        if token.kind == "-":
            following = self.peek()
            if following is None or following.kind in ("or", "and", ")"):
                raise SearchError("'-' must be followed by a term to leave out", token.start)
            return Not(self.unary(depth + 1))
        if token.kind == "(":
            following = self.peek()
            if following is not None and following.kind == ")":
                raise SearchError("empty parentheses: put a search inside", token.start)
            node = self.or_expr(depth + 1)
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise SearchError("this '(' is never closed: add a ')'", token.start)
            self.pos += 1
            return node
        if token.kind == "term":
            return make_term(token.text, token.start, quoted=token.quoted)
        raise SearchError(f"'{token.text or token.kind}' cannot start a term", token.start)
