"""render_markdown's fast path for plain one-line text gives exactly what the full Markdown
pipeline (markdown-it, then nh3) gives, for any text the fast path takes."""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cards import markdown

# What the fast path takes, and the characters Markdown reads as syntax, densely mixed.
ALPHABET = "ab1 ,.;:?'" + '*_`#>-+=!&<[]()~|\\\n\t"é'
TRICKY = ["a *b*", "a _b_", "a `b`", "a [b](c)", "a &amp; b", "a <b>", "a \\*", "a ~~b~~",
          "a | b\n--|--", "a\nb", "a  \nb", "a\n===", "ab:", "a 1. b", "a. b"]  # fmt: skip


def full_pipeline(text: str) -> str:
    """render_markdown with the fast path's pattern matching nothing."""
    real = markdown._PLAIN
    markdown._PLAIN = re.compile(r"(?!)")
    try:
        return markdown.render_markdown(text)
    finally:
        markdown._PLAIN = real


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=12).map(lambda tail: "a" + tail))
@example("Hello world, it's fine.")
@example("a  b")
@example("Answer 12: yes; no? ok.")
@example("x ")
@example("1. item")
def test_fast_path_equals_the_full_pipeline(text):
    assert markdown.render_markdown(text) == full_pipeline(text)


def test_markdown_syntax_is_not_taken_for_plain_text():
    for text in TRICKY:
        assert markdown.render_markdown(text) == full_pipeline(text), text


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.;:?']{0,60}[A-Za-z0-9,.;:?']", fullmatch=True))
def test_plain_lines_take_the_fast_path_and_match(text):
    assert markdown._PLAIN.fullmatch(text)
    assert markdown.render_markdown(text) == full_pipeline(text)
