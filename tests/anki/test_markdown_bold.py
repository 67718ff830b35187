"""render_markdown's fast path for a plain line with **bold** spans (what an Anki import makes of
<b>) gives exactly what the full Markdown pipeline (markdown-it, then nh3) gives."""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cards import markdown

ALPHABET = "ab1 ,.;:?'*" + '_`#>-+=!&<[]()~|\\\n\t"é'
TRICKY = ["**a**", "**a** b", "a **b**", "**a****b**", "** a**", "**a **", "**a**b", "a**b**",
          "**a** **b**", "***a***", "**a*", "**1. a** b", "1. **a**", "**a.**b", "**a** b ",
          "- **a**", "# **a**", "**a**  ", " **a**", "**'a'** b", "**a** *b*",
          "**a**\nb"]  # fmt: skip
# Runs joined by "**": lines with Markdown syntax the fast path must refuse.
RUN = "ab1  .:'?*_#-\n"
# Words, some in bold, joined by spaces: mostly lines the fast path takes.
WORD = st.text(alphabet="aab1.:'?", min_size=1, max_size=4)
BOLD = st.lists(WORD, min_size=1, max_size=3).map(lambda words: "**" + " ".join(words) + "**")
LINE = st.lists(st.one_of(WORD, BOLD), min_size=1, max_size=5).map(" ".join)


def full_pipeline(text: str) -> str:
    """render_markdown with both fast paths matching nothing."""
    plain, bold = markdown._PLAIN, markdown._plain_bold
    markdown._PLAIN, markdown._plain_bold = re.compile(r"(?!)"), lambda text: None
    try:
        return markdown.render_markdown(text)
    finally:
        markdown._PLAIN, markdown._plain_bold = plain, bold


@settings(max_examples=4000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=14).map(lambda body: f"**{body}"))
@example("**Question 4** lorem ipsum dolor sit amet")
@example("Front **12** and **b** c.")
def test_fast_path_equals_the_full_pipeline(text):
    assert markdown.render_markdown(text) == full_pipeline(text)


@settings(max_examples=4000, deadline=None)
@given(st.lists(st.text(alphabet=RUN, max_size=6), min_size=2, max_size=6).map("**".join))
def test_fast_path_equals_the_full_pipeline_on_bold_shapes(text):
    assert markdown.render_markdown(text) == full_pipeline(text)


@settings(max_examples=4000, deadline=None)
@given(LINE)
def test_fast_path_equals_the_full_pipeline_on_lines_with_bold(text):
    assert markdown.render_markdown(text) == full_pipeline(text)


def test_markdown_syntax_next_to_bold_is_not_taken_for_plain_text():
    for text in TRICKY:
        assert markdown.render_markdown(text) == full_pipeline(text), text


def test_the_fast_path_takes_imported_questions():
    assert markdown._plain_bold("**Question 4** lorem ipsum") == (
        "<p><strong>Question 4</strong> lorem ipsum</p>\n"
    )
    assert markdown._plain_bold("Front **12** and **b** c.") == (
        "<p>Front <strong>12</strong> and <strong>b</strong> c.</p>\n"
    )
