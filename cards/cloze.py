"""Cloze deletions in Anki's syntax: parsing, and rendering one card's question or answer.

`{{c1::text}}`, `{{c1::text::hint}}`, `{{c1,2::text}}` (active on cards 1 and 2) and nested
deletions are tokenised exactly as Anki's rslib/src/cloze.rs does, so a note imported from
Anki makes the same cards: `{{c<digits>::` opens, `}}` closes, a `}}` outside any deletion is
text, and the first `::` in a deletion's text starts its hint. Anki knows nothing of Markdown,
so braces in code spans and code blocks are deletions here too. Anki silently drops a
deletion that is never closed, losing its text; here that is refused (ClozeError).

Rendering keeps Markdown whole: the text is rendered once by cards/markdown.py with each
deletion replaced by letter-only markers, then the markers in the sanitised HTML become the
blank (question) or the highlight (answer). The highlight wraps text runs only, never tags, so
a deletion across emphasis, list items or highlighted code nests correctly; markers that end up
inside a tag's attributes are dropped. Everything inserted is escaped text, fixed markup or a
hint rendered and sanitised by cards/markdown.py.
"""

import html
import re
from dataclasses import dataclass, field

from cards.markdown import render_markdown

MAX_DEPTH = 10  # Anki ignores deeper openings; here they are refused
MAX_NUMBER = 32768  # Card.ord (a SMALLINT) is the number minus one
MAX_CARDS = 200  # distinct numbers in one note: one card each

_OPEN = re.compile(r"\{\{c([\d,]+)::")
_TOKEN = re.compile(r"\{\{c[\d,]*\d[\d,]*::|\}\}")


class ClozeError(ValueError):
    """Cloze syntax that cannot make cards; the message says what to change."""


@dataclass
class Cloze:
    numbers: frozenset[int]
    nodes: list = field(default_factory=list)  # str | Cloze
    hint: str | None = None


def parse(text: str) -> list:
    """Text and Cloze nodes, as Anki's parse_text_with_clozes."""
    output, stack, pos = [], [], 0

    def add_text(piece: str):
        if not piece:
            return
        if stack:
            cloze = stack[-1]
            head, sep, tail = piece.partition("::")
            if sep:
                piece, cloze.hint = head, tail
            cloze.nodes.append(piece)
        else:
            output.append(piece)

    for match in _TOKEN.finditer(text):
        add_text(text[pos : match.start()])
        pos = match.end()
        token = match.group()
        if token == "}}":
            if not stack:
                add_text("}}")
                continue
            cloze = stack.pop()
            (stack[-1].nodes if stack else output).append(cloze)
            continue
        numbers = {int(n) for n in _OPEN.match(token)[1].split(",") if n}
        if len(stack) >= MAX_DEPTH:
            raise ClozeError(f"cloze deletions can be nested at most {MAX_DEPTH} deep")
        if max(numbers) > MAX_NUMBER:
            raise ClozeError(f"cloze numbers go up to c{MAX_NUMBER} (found c{max(numbers)})")
        stack.append(Cloze(frozenset(numbers)))
    add_text(text[pos:])
    if stack:
        opened = ",".join(str(n) for n in sorted(stack[0].numbers))
        raise ClozeError(f"a cloze deletion opened with {{{{c{opened}:: is not closed with }}}}")
    return output


def numbers(nodes) -> set[int]:
    """The card numbers the deletions make (c0 makes none, as in Anki)."""
    found = set()
    for node in nodes:
        if isinstance(node, Cloze):
            found |= {n for n in node.numbers if n > 0}
            found |= numbers(node.nodes)
    return found


def card_numbers(text: str) -> list[int]:
    found = sorted(numbers(parse(text)))
    if len(found) > MAX_CARDS:
        raise ClozeError(f"a note makes at most {MAX_CARDS} cloze cards (this one {len(found)})")
    return found


def plain(nodes) -> str:
    """The text with every deletion revealed and no markup added."""
    return "".join(n if isinstance(n, str) else plain(n.nodes) for n in nodes)


def readable(nodes, number: int, question: bool) -> str:
    """Markdown of one side for search, CSV and stats: `[...]`/`[hint]` for the card's
    deletions on the question, everything revealed on the answer."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif question and number in node.numbers:
            out.append(f"[{node.hint if node.hint is not None else '...'}]")
        else:
            out.append(readable(node.nodes, number, question))
    return "".join(out)


# Markdown block syntax a deletion may start with: the highlight's start marker goes after it,
# so that "{{c1::# Title}}" stays a heading. Possessive runs keep the match linear.
_BLOCK_PREFIX = re.compile(r"(?:[ \t]{0,3}+(?:#{1,6}+|[-*+]|\d{1,9}+[.)]|>)(?=[ \t\n])[ \t]*+)*+")
_BLANK_LINES = re.compile(r"(?:[ \t]*+\n)*+")
_FENCE_OPEN = re.compile(r"[ \t]{0,3}+(?:`{3,}+|~{3,}+)[^\n]*+\n")
_FENCE_CLOSE = re.compile(r"\n[ \t]{0,3}+(?:`{3,}+|~{3,}+)[ \t]*+\Z")
_FENCE_INFO = re.compile(r"^([ \t]{0,3}+(?:`{3,}+|~{3,}+))[^\n`]*+$", re.MULTILINE)


class _Marks:
    """Letter-and-digit markers that cannot occur in the text (Markdown leaves them alone)."""

    def __init__(self, text: str):
        self.prefix = "Qzclozemark"
        while self.prefix.lower() in text.lower():
            self.prefix += "q"
        p = self.prefix
        self.pattern = re.compile(f"{p}(s|e|b\\d+){p}")
        self.start, self.end = f"{p}s{p}", f"{p}e{p}"

    def blank(self, index: int) -> str:
        return f"{self.prefix}b{index}{self.prefix}"


def _at_line_start(out: list[str]) -> bool:
    """Whether only indentation follows the last line break written so far."""
    for piece in reversed(out):
        line_start = piece.rfind("\n")
        if piece[line_start + 1 :].strip():
            return False
        if line_start >= 0:
            return True
    return True


def _source(nodes, number, question, marks, hints, out):
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif number not in node.numbers:
            _source(node.nodes, number, question, marks, hints, out)
        elif question:
            out.append(marks.blank(len(hints)))
            hints.append(node.hint)
        else:
            inner: list[str] = []
            _source(node.nodes, number, question, marks, hints, inner)
            text = "".join(inner)
            head = ""
            if _at_line_start(out):
                blank_lines = _BLANK_LINES.match(text).end()
                fence = _FENCE_OPEN.match(text, blank_lines)
                block = fence or _BLOCK_PREFIX.match(text, blank_lines)
                head = text[: block.end()]
            body = text[len(head) :]
            close = _FENCE_CLOSE.search(body) if head.endswith("\n") else None
            tail = body[close.start() :] if close else ""
            body = body[: close.start()] if close else body
            out.append(f"{head}{marks.start}{body}{marks.end}{tail}")


def _inline(markdown: str) -> str:
    """A hint as inline HTML: one paragraph's content, else the escaped text."""
    rendered = render_markdown(" ".join(markdown.split()))
    match = re.fullmatch(r"<p>(.*)</p>\s*", rendered, re.DOTALL)
    return match[1] if match else html.escape(markdown)


_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"</?([a-zA-Z0-9]+)")
_EMPTY_P = re.compile(r"<p>\s*</p>\n?")


def _blank_html(hint: str | None, in_code: bool) -> str:
    if hint is None:
        return '<span class="cloze">[...]</span>'
    inner = html.escape(hint) if in_code else _inline(hint)
    return f'<span class="cloze">[{inner}]</span>'


def _place(rendered: str, marks: _Marks, hints: list) -> tuple[str, int]:
    """Turn the markers into blanks and highlights; returns the HTML and markers found."""
    out, depth, code, found = [], 0, 0, 0
    for segment in _TAG.split(rendered):
        if segment.startswith("<"):
            found += len(marks.pattern.findall(segment))
            out.append(marks.pattern.sub("", segment))
            name = _TAG_NAME.match(segment)
            if name and name[1].lower() in ("code", "pre"):
                code += -1 if segment.startswith("</") else 1
            continue
        pos = 0
        for match in [*marks.pattern.finditer(segment), None]:
            piece = segment[pos : match.start() if match else len(segment)]
            if depth and piece.strip():
                out.append(f'<span class="cloze">{piece}</span>')
            else:
                out.append(piece)
            if match is None:
                break
            found += 1
            pos = match.end()
            kind = match[1]
            if kind == "s":
                depth += 1
            elif kind == "e":
                depth = max(depth - 1, 0)
            else:
                out.append(_blank_html(hints[int(kind[1:])], code > 0))
    return _EMPTY_P.sub("", "".join(out)), found


def render(text: str, number: int, question: bool) -> str:
    """The sanitised HTML of card `number`'s question or answer side of a cloze field."""
    nodes = parse(text)
    marks, hints, out = _Marks(text), [], []
    _source(nodes, number, question, marks, hints, out)
    source = "".join(out)
    expected = len(marks.pattern.findall(source))
    result, found = _place(render_markdown(source), marks, hints)
    if found < expected:
        # A code highlighter split a marker into tokens: render that code uncoloured.
        result, _ = _place(render_markdown(_FENCE_INFO.sub(r"\1", source)), marks, hints)
    return result
