"""Markdown for questions and answers: CommonMark without raw HTML, highlighted, then sanitised.

markdown-it-py parses (raw HTML off, so typed tags stay text), Pygments colours code blocks, and
nh3 (ammonia) keeps only an allow-list of tags and attributes, so user text can never run script.
"""

import re
import time
from contextvars import ContextVar

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from pygments import format as format_tokens
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "span", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
    "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"class"},
    "td": {"class"},
    "img": {"src", "alt", "loading", "decoding"},
}
# Images only from this app's serving view (cards/views/media.py), which checks the deck's
# access: never another site's (a tracking pixel, and the CSP's img-src is 'self' anyway), never
# data: or javascript: URLs. A deck copy or import rewrites the deck id (services/media.py).
MEDIA_URL_RE = re.compile(r"/decks/(\d{1,18})/media/([0-9a-f]{64})\.(jpg|png|gif|webp)")
_FULL_MEDIA_URL = re.compile(rf"\A{MEDIA_URL_RE.pattern}\Z")


def is_media_url(src: str) -> bool:
    return bool(_FULL_MEDIA_URL.match(src))


# Every pattern below runs on user text, so each must match in linear time (see
# docs/security.md): no two quantifiers may compete for the same characters, and a leading
# run may not cross lines, or each line start would rescan everything after it.
# Exports write bullets as "•"; CommonMark only knows -, * and +.
_BULLET = re.compile(r"^([^\S\n]*+)•\s*+", re.MULTILINE)
_ALIGN_STYLE = re.compile(r'style="text-align:(left|right|center)"')
# Text copied from a rendered page puts a bold span's closing ** at the start of the next line…
_BOLD_ACROSS_LINES = re.compile(r"^\*\*([^*\n]++)\n\*\*[ \t]*+", re.MULTILINE)
# …or leaves spaces inside the delimiters ("**word **next"), which CommonMark does not count.
# The span is matched whole and split by _move_spaces_out: splitting it in the pattern
# ("([ \t]*)(.+?)([ \t]*)") backtracked cubically on "**" and spaces with no closing "**".
_BOLD_SPAN = re.compile(r"\*\*([^*\n]++)\*\*")


# Seconds of colouring per rendered text. Many Pygments lexers backtrack quadratically on
# hostile code (C# on 4,000 characters of "a\n" lexes for seconds), so colouring stops at this
# deadline and the code is shown plain; ordinary code lexes in milliseconds.
HIGHLIGHT_SECONDS = 0.2
_highlight_deadline: ContextVar[float] = ContextVar("highlight_deadline", default=0.0)


def _highlight(code: str, lang: str, _attrs) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself
    deadline, tokens = _highlight_deadline.get(), []
    for token in lexer.get_tokens(code):  # a token comes every few ms even on hostile input
        if time.monotonic() > deadline:
            return ""
        tokens.append(token)
    return format_tokens(tokens, _FORMATTER)


# breaks: a line break the author typed stays a line break (cards are written line by line).
_MD = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "breaks": True, "highlight": _highlight}
).enable(["table", "strikethrough"])


def _render_image(self, tokens, idx, options, env) -> str:
    """`![alt](src)`: an <img> lazily loaded when src is one of this app's images, else just
    the alt text (escaped like any text)."""
    token = tokens[idx]
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env))
    src = token.attrGet("src") or ""
    if not is_media_url(src):
        return alt
    return f'<img src="{escapeHtml(src)}" alt="{alt}" loading="lazy" decoding="async">'


_MD.add_render_rule("image", _render_image)


def _img_attribute(tag: str, attr: str, value: str):
    """nh3's last word on <img>: a src that is not a media URL is dropped (defence in depth;
    _render_image never writes one)."""
    if tag == "img" and attr == "src" and not is_media_url(value):
        return None
    return value


def _move_spaces_out(match: re.Match) -> str:
    """`** word **` → ` **word** `; an all-blank span keeps its last blank inside (`**  **`)."""
    inner = match[1]
    core = inner.strip(" \t")
    if not core:  # the span needs one character between its delimiters
        return f"{inner[:-1]}**{inner[-1]}**"
    lead = inner[: len(inner) - len(inner.lstrip(" \t"))]
    return f"{lead}**{core}**{inner[len(lead) + len(core) :]}"


def tidy_exported_markdown(text: str) -> str:
    """Repair the Markdown-ish of exports so it renders as its author saw it."""
    text = _BULLET.sub(r"\1- ", text)
    text = _BOLD_ACROSS_LINES.sub(r"**\1**\n", text)
    return _BOLD_SPAN.sub(_move_spaces_out, text)


# One line of words, digits, spaces and plain punctuation, starting with a letter and ending
# without a space: no Markdown reads anything into it (no list, heading, emphasis, link,
# entity or break), so it renders as itself in a paragraph (tests/anki/test_markdown_plain.py).
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ,.;:?']*+(?<! )")


# The same with **bold** spans (Anki's <b> as an import writes it): the line split at "**" has
# plain runs outside (the first starting with a letter or empty, the others after a space) and
# words inside that start with a letter or digit and end without a space, so each "**" opens or
# closes as CommonMark's flanking rules say (tests/anki/test_markdown_bold.py).
_BOLD_INSIDE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,.;:?']*+(?<! )")
_BOLD_FIRST = re.compile(r"(?:[A-Za-z][A-Za-z0-9 ,.;:?']*+(?<= ))?")
_BOLD_MIDDLE = re.compile(r" [A-Za-z0-9 ,.;:?']*+(?<= )")
_BOLD_LAST = re.compile(r"(?: [A-Za-z0-9 ,.;:?']*+(?<! ))?")


def _plain_bold(text: str) -> str | None:
    """The HTML of a plain line with bold spans, or None when it is not one."""
    parts = text.split("**")
    if len(parts) < 3 or len(parts) % 2 == 0:
        return None
    outside = [_BOLD_FIRST, *[_BOLD_MIDDLE] * (len(parts) // 2 - 1), _BOLD_LAST]
    html = []
    for i, part in enumerate(parts):
        pattern = _BOLD_INSIDE if i % 2 else outside[i // 2]
        if not pattern.fullmatch(part):
            return None
        html.append(f"<strong>{part}</strong>" if i % 2 else part)
    return f"<p>{''.join(html)}</p>\n"


def render_markdown(text: str) -> str:
    if _PLAIN.fullmatch(text):
        return f"<p>{text}</p>\n"  # an import renders 200,000 of these
    if "**" in text and (bold := _plain_bold(text)) is not None:
        return bold
    if not text.strip():
        return ""
    budget = _highlight_deadline.set(time.monotonic() + HIGHLIGHT_SECONDS)
    try:
        html = _MD.render(tidy_exported_markdown(text))
    finally:
        _highlight_deadline.reset(budget)
    # Table alignment as classes: the CSP forbids style attributes.
    html = _ALIGN_STYLE.sub(r'class="align-\1"', html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_img_attribute,
        set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
    )
