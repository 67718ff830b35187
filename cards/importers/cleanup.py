"""Mend three things the flashcard site's export breaks, and nothing else.

Pure functions, no Django. Each shape is matched narrowly, so that text an author wrote on
purpose is never changed (tests/foundation/test_import_cleanup.py checks ordinary Markdown
comes back unchanged):
- a question's false start: a short first line, a blank line, then the real question that
  begins with the same letters ("wha" / "What is direct preference optimization DPO?");
- bold markers with spaces inside them, which CommonMark does not count as markers and so
  shows as literal asterisks: "intriguing** variant of GLU** activation",
  "**Sparse Mixture of Experts (SMoE) **models", and a bold line whose closing "**" the copy
  moved to the start of the next line ("**Mixtral 8x7B" / "**Gshard: …");
- empty bullets: a line that is only "*", "-", "+" or "•" inside a list.
Lines in fenced code blocks, indented code and lines with a backtick are left alone.
The importer keeps the original text beside the cleaned one (Card.imported_question/answer).
"""

import re

# A false start is a fragment, not a sentence: at most this long, and without an ending.
FALSE_START_MAX_CHARS = 20
_SENTENCE_END = ".?!:;"
BULLETS = ("*", "-", "+", "•")

# Every pattern runs on user text: each matches in linear time (docs/security.md). A bold
# span is matched whole and its spaces moved in Python (_mend_span), never by backtracking.
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_BOLD_SPAN = re.compile(r"\*\*([^*\n]++)\*\*")
# "**Bold line" then "**rest": the closing marker of the line above starts this one.
_OPEN_LINE = re.compile(r"\*\*([^*]++)")
_CLOSE_NEXT = re.compile(r"\*\*(?!\*)[ \t]*+")


def clean_question(text: str) -> str:
    return clean_markdown(drop_false_start(text))


def clean_answer(text: str) -> str:
    return clean_markdown(text)


def drop_false_start(question: str) -> str:
    """ "what is" + blank line + "what is supervised fine tuning? …" → the real question."""
    first, _, rest = question.strip().partition("\n")
    fragment = " ".join(first.split())
    after_first, _, _ = rest.partition("\n")
    if not fragment or len(fragment) > FALSE_START_MAX_CHARS or fragment[-1] in _SENTENCE_END:
        return question  # no fragment, or a sentence
    if after_first.strip() or not rest.strip():
        return question  # no blank line after it, or nothing else
    real = rest.strip()
    real_start = " ".join(real.partition("\n")[0].split())
    if len(real_start) <= len(fragment):
        return question
    if not real_start.casefold().startswith(fragment.casefold()):
        return question  # a heading or a context line, not the question begun twice
    return real


def clean_markdown(text: str) -> str:
    """Mend bold markers with spaces inside and drop empty bullets, outside code."""
    lines = text.split("\n")
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line) is not None
        in_fence ^= fence
        if in_fence or fence or not _is_prose(line):
            out.append(line)
            i += 1
            continue
        after = lines[i + 1] if i + 1 < len(lines) else None
        joined = _bold_across_lines(line, after) if after is not None else None
        if joined is not None:
            line, rest = joined
            if rest.strip():
                lines[i + 1] = rest
            else:
                i += 1  # the next line held only the closing marker
        elif _is_empty_bullet(line, out[-1] if out else None, after):
            i += 1
            continue
        out.append(_mend_bold(line))
        i += 1
    return "\n".join(out)


def _is_prose(line: str) -> bool:
    """Not indented code, no inline code: the only lines the mending reads."""
    return "`" not in line and not line.startswith(("    ", "\t"))


def _bold_across_lines(line: str, after: str) -> tuple[str, str] | None:
    """("**Bold line", "**rest") → ("**Bold line**", "rest"), when the first line holds only
    that opening marker and the next starts with a marker and holds no other."""
    opened = _OPEN_LINE.fullmatch(line)
    closed = _CLOSE_NEXT.match(after)
    if opened is None or closed is None or "**" in after[closed.end() :] or "`" in after:
        return None
    core = opened[1].strip(" \t")
    if not core:
        return None
    return f"**{core}**", after[closed.end() :]


def _mend_bold(line: str) -> str:
    """A line with one bold span (two markers) whose markers have spaces inside. A line with
    more markers is left alone: which of them pair up cannot be told."""
    if line.count("**") != 2:
        return line
    match = _BOLD_SPAN.search(line)
    return (
        line if match is None else line[: match.start()] + _mend_span(match) + line[match.end() :]
    )


def _mend_span(match: re.Match) -> str:
    """`word** inner **word` → `word **inner** word`: the spaces move outside the markers,
    only where each marker touches a word on its other side (never ` ** x ** `, as in
    `2 ** 3 ** 2`), so that the markers then pair up as bold."""
    inner = match[1]
    core = inner.strip(" \t")
    lead = inner[: len(inner) - len(inner.lstrip(" \t"))]
    trail = inner[len(lead) + len(core) :]
    if not core or not (lead or trail):
        return match[0]
    text, start, end = match.string, match.start(), match.end()
    if lead and start > 0 and text[start - 1] in " \t":
        return match[0]
    if trail and end < len(text) and text[end] in " \t":
        return match[0]
    return f"{lead}**{core}**{trail}"


def _is_empty_bullet(line: str, before: str | None, after: str | None) -> bool:
    """A line that is only a bullet marker, with an item of the same marker above it (or,
    for the markers other than "-", below it: a lone "-" under a paragraph is a heading)."""
    marker = line.strip()
    if marker not in BULLETS:
        return False
    if before is not None and _is_item(before, marker):
        return True
    return marker != "-" and after is not None and _is_item(after, marker)


def _is_item(line: str, marker: str) -> bool:
    text = line.lstrip(" \t")
    return text.startswith(marker + " ") and bool(text[len(marker) :].strip())
