"""Markdown for questions and answers: CommonMark without raw HTML, highlighted, then sanitised.

markdown-it-py parses (raw HTML off, so typed tags stay text), Pygments colours code blocks, and
nh3 (ammonia) keeps only an allow-list of tags and attributes, so user text can never run script.
"""

import re

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "span", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"class"},
    "td": {"class"},
}
# Exports write bullets as "•"; CommonMark only knows -, * and +.
_BULLET = re.compile(r"^(\s*)•\s*", re.MULTILINE)
_ALIGN_STYLE = re.compile(r'style="text-align:(left|right|center)"')
# Text copied from a rendered page puts a bold span's closing ** at the start of the next line…
_BOLD_ACROSS_LINES = re.compile(r"^\*\*([^*\n]+)\n\*\*[ \t]*", re.MULTILINE)
# …or leaves spaces inside the delimiters ("**word **next"), which CommonMark does not count.
_BOLD_INNER_SPACE = re.compile(r"\*\*([ \t]*)([^*\n]+?)([ \t]*)\*\*")


def _highlight(code: str, lang: str, _attrs) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself
    return highlight(code, lexer, _FORMATTER)


# breaks: a line break the author typed stays a line break (cards are written line by line).
_MD = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "breaks": True, "highlight": _highlight}
).enable(["table", "strikethrough"])


def tidy_exported_markdown(text: str) -> str:
    """Repair the Markdown-ish of exports so it renders as its author saw it."""
    text = _BULLET.sub(r"\1- ", text)
    text = _BOLD_ACROSS_LINES.sub(r"**\1**\n", text)
    return _BOLD_INNER_SPACE.sub(r"\1**\2**\3", text)


def render_markdown(text: str) -> str:
    if not text.strip():
        return ""
    html = _MD.render(tidy_exported_markdown(text))
    # Table alignment as classes: the CSP forbids style attributes.
    html = _ALIGN_STYLE.sub(r'class="align-\1"', html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
