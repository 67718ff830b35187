"""Anki card templates rendered into sanitised HTML, for notes of imported note types that are
not one of the four standard ones (NoteKind.ANKI: their NoteType keeps the templates).

Supported syntax (as Anki's rslib/src/template.rs and template_filters.rs treat it):

- `{{Field}}`: the field's HTML.
- `{{#Field}}…{{/Field}}`: shown when the field is not empty; `{{^Field}}…{{/Field}}` when it
  is. A field holding only spaces, `<br>` and `<div>` tags counts as empty, as in Anki.
- `{{FrontSide}}` on the back: the rendered front.
- `{{cloze:Field}}`: the card's own deletions (card ord + 1 is its cN) become `[...]` or
  `[hint]` on the front and the highlighted text on the back; other deletions show their text.
- `{{text:Field}}`: the field with its HTML tags removed.
- `{{hint:Field}}`: a `<details>` element the learner opens (no JavaScript).
- `{{type:Field}}`: typing the answer is not offered here, so it renders as nothing.
- `{{Tags}}`, `{{Type}}` (the note type's name), `{{Card}}` (the template's name), `{{Deck}}`
  and `{{Subdeck}}`.
- Filters chain right to left, as in Anki: `{{text:cloze:Field}}`.

Anything else — an unknown field or filter (furigana, tts, …), a `{{=<% %>=}}` delimiter change
— is left out and a warning is collected (Rendered.warnings) for the import summary. A section
that is never closed is a TemplateError naming the template.

The output is cleaned by nh3: Anki's formatting tags are kept, scripts, styles, event handlers
and every image not served by this app (cards/markdown.is_media_url) are dropped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import nh3

from cards import cloze
from cards.markdown import ALLOWED_TAGS, is_media_url

TAGS = ALLOWED_TAGS | {
    "div", "b", "i", "u", "s", "sub", "sup", "small", "details", "summary", "mark", "ruby",
    "rt", "rp", "dl", "dt", "dd", "center", "font",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}, "ol": {"start"}}
CLASSES = {"span": {"cloze"}, "div": {"hint"}}

_BRACES = re.compile(r"\{\{|\}\}")
_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")
SPECIAL = ("Tags", "Type", "Card", "Deck", "Subdeck", "FrontSide")


class TemplateError(ValueError):
    """A template that cannot be rendered; the message names it."""


@dataclass
class CardContext:
    """What a template can refer to besides the fields."""

    fields: dict[str, str]  # name -> HTML
    ord: int = 0  # the card's template index; for a cloze note type its cN minus one
    tags: str = ""
    notetype: str = ""
    template: str = ""
    deck: str = ""


@dataclass
class Rendered:
    question: str
    answer: str
    warnings: list[str] = field(default_factory=list)
    empty: bool = False  # the front uses no non-empty field (Anki makes no such card)


@dataclass
class _Section:
    key: str
    negated: bool
    nodes: list = field(default_factory=list)


def strip_html(text: str) -> str:
    """Anki's text filter: the field without its tags, scripts and styles (entities decoded).
    nh3 with no tag allowed does it in linear time."""
    return html.unescape(nh3.clean(text, tags=set()))


def field_is_empty(text: str) -> bool:
    return bool(_EMPTY_FIELD.match(text))


def _tags(template: str):
    """(start, end, inner text) of each {{…}}: from a "{{" to the first "}}" after it, as
    Anki reads them; one pass over the braces, so linear on any input."""
    opened = None
    for match in _BRACES.finditer(template):
        if match[0] == "{{":
            if opened is None:
                opened = match.start()
        elif opened is not None:
            yield opened, match.end(), template[opened + 2 : match.start()]
            opened = None


def parse(template: str, name: str = "template") -> list:
    """Text, ("field", key) replacements and _Section nodes."""
    root: list = []
    stack: list[_Section] = []
    pos = 0
    for start, end, key in _tags(template):
        out = stack[-1].nodes if stack else root
        if start > pos:
            out.append(template[pos:start])
        pos = end
        key = key.strip()
        if key[:1] in "#^":
            section = _Section(key[1:].strip(), key[0] == "^")
            out.append(section)
            stack.append(section)
        elif key[:1] == "/":
            closing = key[1:].strip()
            if not stack or stack[-1].key != closing:
                opened = f"{{{{#{stack[-1].key}}}}}" if stack else "no section"
                raise TemplateError(
                    f"{name}: {{{{/{closing}}}}} closes {opened}; sections must nest"
                )
            stack.pop()
        else:
            out.append(("field", key))
    if pos < len(template):
        (stack[-1].nodes if stack else root).append(template[pos:])
    if stack:
        raise TemplateError(f"{name}: {{{{#{stack[-1].key}}}}} is never closed")
    return root


class _Renderer:
    def __init__(self, ctx: CardContext, warnings: list[str], template_name: str, question: bool):
        self.ctx = ctx
        self.question = question
        self.warnings = warnings
        self.where = template_name
        self.used_nonempty = False
        self.front_side = ""

    def warn(self, message: str) -> None:
        message = f"{self.where}: {message}"
        if message not in self.warnings:
            self.warnings.append(message)

    def render(self, nodes: list) -> str:
        out = []
        for node in nodes:
            if isinstance(node, str):
                out.append(node)
            elif isinstance(node, _Section):
                value = self.ctx.fields.get(node.key)
                if value is None and node.key not in SPECIAL:
                    self.warn(f"unknown field {node.key!r} in a section: treated as empty")
                shown = not field_is_empty(self.special(node.key) or value or "")
                if shown != node.negated:
                    out.append(self.render(node.nodes))
            else:
                out.append(self.replacement(node[1]))
        return "".join(out)

    def special(self, key: str) -> str | None:
        ctx = self.ctx
        return {
            "Tags": html.escape(ctx.tags),
            "Type": html.escape(ctx.notetype),
            "Card": html.escape(ctx.template),
            "Deck": html.escape(ctx.deck),
            "Subdeck": html.escape(ctx.deck.rsplit("::", 1)[-1]),
            "FrontSide": self.front_side,
        }.get(key)

    def replacement(self, key: str) -> str:
        if key.startswith("=") or key.startswith("!"):
            self.warn(f"{{{{{key}}}}} is not supported and was left out")
            return ""
        *filters, name = [part.strip() for part in key.split(":")]
        special = self.special(name) if name in SPECIAL else None
        if special is not None:
            text = special
        elif name in self.ctx.fields:
            text = self.ctx.fields[name]
            if "type" not in filters and not field_is_empty(text):
                self.used_nonempty = True
        else:
            self.warn(f"unknown field {name!r}: left out")
            return ""
        if filters and filters[-1] == "type":
            return ""  # typing the answer is not offered: Anki's input box is left out
        for name_ in reversed(filters):
            text = self.apply(name_, text, name)
        return text

    def apply(self, name: str, text: str, field_name: str) -> str:
        if name == "text":
            return html.escape(strip_html(text), quote=False)
        if name == "hint":
            if not text.strip():
                return text
            return f"<details><summary>{html.escape(field_name)}</summary>{text}</details>"
        if name == "cloze":
            return self.cloze(text)
        if name in ("", "cloze-only"):
            return text
        self.warn(f"the {name!r} filter is not supported: the field is shown without it")
        return text

    def cloze(self, text: str) -> str:
        try:
            nodes = cloze.parse(text)
        except cloze.ClozeError as exc:
            self.warn(f"cloze: {exc}")
            return text
        number = self.ctx.ord + 1
        if number not in cloze.numbers(nodes):
            return ""
        self.used_nonempty = True
        return _cloze_html(nodes, number, self.question)


def _cloze_html(nodes: list, number: int, question: bool) -> str:
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif number not in node.numbers:
            out.append(_cloze_html(node.nodes, number, question))
        elif question:
            hint = node.hint if node.hint is not None else "..."
            out.append(f'<span class="cloze">[{hint}]</span>')
        else:
            out.append(f'<span class="cloze">{_cloze_html(node.nodes, number, question)}</span>')
    return "".join(out)


def _keep_attribute(tag: str, attr: str, value: str):
    if tag == "img" and attr == "src" and not is_media_url(value):
        return None
    return value


def sanitise(text: str) -> str:
    return (
        nh3.clean(
            text,  # nh3 drops <script> and <style> with their content
            tags=TAGS,
            attributes=ATTRIBUTES,
            allowed_classes=CLASSES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
            attribute_filter=_keep_attribute,
            set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
        )
        .replace(' class=""', "")
        .strip()
    )


def render_card(front: str, back: str, ctx: CardContext, *, is_cloze: bool = False) -> Rendered:
    """One card's question and answer HTML (sanitised) from its template's two sides.
    `empty` as Anki decides it: a cloze card whose number no field has, another card whose
    front uses no non-empty field."""
    warnings: list[str] = []
    name = ctx.template or f"card {ctx.ord + 1}"
    front_nodes = parse(front, f"{name} (front)")
    back_nodes = parse(back, f"{name} (back)")
    renderer = _Renderer(ctx, warnings, f"{name} (front)", question=True)
    question = renderer.render(front_nodes)
    has_cloze = is_cloze and ctx.ord + 1 in cloze_numbers(ctx.fields)
    empty = not has_cloze if is_cloze else not renderer.used_nonempty
    # {{FrontSide}}: the front as rendered, blanks and all (Anki's context.frontside).
    back_renderer = _Renderer(ctx, warnings, f"{name} (back)", question=False)
    back_renderer.front_side = question
    answer = back_renderer.render(back_nodes)
    return Rendered(sanitise(question), sanitise(answer), warnings, empty)


def cloze_numbers(fields: dict[str, str]) -> set[int]:
    """The cN numbers in any of the fields (Anki's cloze_number_in_fields)."""
    found: set[int] = set()
    for text in fields.values():
        try:
            found |= cloze.numbers(cloze.parse(text))
        except cloze.ClozeError:
            continue
    return found


def plain_text(fragment: str) -> str:
    """Readable text of rendered HTML, for Card.question/answer (search, CSV, stats): line
    breaks kept, images as Markdown image links, tags removed, whitespace tidied."""
    text = re.sub(
        r"<br\s*/?>|</?(?:div|p|li|tr|h\d|details|summary)\b[^>]*>", "\n", fragment, flags=re.I
    )
    text = re.sub(r"""<img\b[^>]*?\bsrc="([^"]*)"[^>]*>""", r"![](\1)", text, flags=re.I)
    text = html.unescape(_HTML_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
