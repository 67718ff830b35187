"""Anki field HTML on its way in: media references found and rewritten, and the HTML of the
standard note types turned into the Markdown our notes hold.

Anki's editor writes a small set of tags (b, i, u, br, div, span, img, a, lists, sub/sup); our
Markdown renderer shows raw HTML as text (cards/markdown.py: html off), so those tags become
their Markdown (bold, emphasis, line breaks, images, links, lists) and any other tag is dropped
with its text kept. Characters Markdown would take as syntax are escaped, so a field reads as
it did in Anki. The importer keeps the field as imported when this changed it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

import nh3

# <img src="…">, with any quoting (Anki's own media check uses the same loose pattern).
# Linear on any input (docs/security.md): no run may cross a "<" or "[" that starts another try.
IMG_SRC = re.compile(r"""(<img\b[^<>]*?\bsrc\s*=\s*)(?:"([^"<>]*)"|'([^'<>]*)'|([^\s<>]+))""", re.I)
SOUND = re.compile(r"\[sound:([^\[\]]+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_NEEDS_WORK = re.compile(r"[<&\\`*_\[\]>\xa0]|^[ \t]*(?:[#>+-]|\d+[.)])\s", re.MULTILINE)
_LINE_START = re.compile(r"^([ \t]*)([#>+-]|\d+[.)])(?=\s)", re.MULTILINE)


def media_names(text: str) -> tuple[set[str], set[str]]:
    """(image names, sound and video names) a field refers to."""
    images = {html.unescape(next(g for g in m.groups()[1:] if g is not None)) for m in
              IMG_SRC.finditer(text)}  # fmt: skip
    return images, {html.unescape(name) for name in SOUND.findall(text)}


def rewrite_media(text: str, url_of: Callable[[str], str | None]) -> str:
    """Point <img src> at our URL for the image (`url_of(name)`; None drops the <img>), and
    remove [sound:…] references, which we cannot play."""
    if "[sound:" in text:
        text = SOUND.sub("", text)
    if "<img" not in text.lower():
        return text

    def swap(match: re.Match) -> str:
        name = html.unescape(next(g for g in match.groups()[1:] if g is not None))
        url = url_of(name)
        return f'{match[1]}"{url}"' if url else f'{match[1]}""'

    return IMG_SRC.sub(swap, text)


CONVERTED = {"b", "strong", "i", "em", "s", "del", "br", "div", "p", "li", "ul", "ol", "tr", "img",
             "a", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}  # fmt: skip


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _escape_marker(match: re.Match) -> str:
    """ "1. " or "# " typed as text stays text: its punctuation escaped (CommonMark)."""
    marker = match[2]
    return f"{match[1]}{marker[:-1]}\\{marker[-1]}"


class _ToMarkdown(HTMLParser):
    BLOCK = {"div", "p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol"}
    MARKS = {"b": "**", "strong": "**", "i": "*", "em": "*", "s": "~~", "del": "~~"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []
        self.skip = 0

    def newline(self):
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in self.BLOCK:
            self.newline()
            if tag == "li":
                self.out.append("- ")
        elif tag in self.MARKS:
            self.out.append(self.MARKS[tag])
        elif tag == "img" and attrs.get("src"):
            alt = _escape(attrs.get("alt") or "")
            self.out.append(f"![{alt}]({attrs['src']})")
        elif tag == "a":
            href = attrs.get("href") or ""
            self.href.append(href if href.startswith(("http://", "https://")) else None)
            if self.href[-1]:
                self.out.append("[")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(self.skip - 1, 0)
        elif tag in self.BLOCK:
            self.newline()
        elif tag in self.MARKS:
            self.out.append(self.MARKS[tag])
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href:
                self.out.append(f"]({href})")

    def handle_data(self, data):
        if self.skip:
            return
        text = _escape(data.replace("\xa0", " "))
        if not self.out or self.out[-1].endswith("\n"):
            text = _LINE_START.sub(_escape_marker, text)
        self.out.append(text)


def to_markdown(field_html: str) -> str:
    """Anki field HTML as our Markdown (see the module docstring)."""
    if not _NEEDS_WORK.search(field_html):
        return field_html.strip()
    # nh3 (html5ever) first: well-formed HTML of the tags we convert, in linear time; the
    # standard library's parser is quadratic on unclosed tags.
    tidy = nh3.clean(field_html, tags=CONVERTED, attributes={"img": {"src", "alt"}, "a": {"href"}})
    parser = _ToMarkdown()
    parser.feed(tidy)
    parser.close()
    text = "".join(parser.out).replace("****", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
