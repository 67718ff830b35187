"""Cloze deletions (cards/cloze.py): Anki's tokenising, and one card's question and answer
rendered with Markdown and code whole around and inside the deletions, sanitised."""

from html.parser import HTMLParser

import pytest

from cards import cloze
from cards.markdown import ALLOWED_TAGS
from cards.services.notes import NoteError, generate


def q(text, number=1):
    return cloze.render(text, number, question=True)


def a(text, number=1):
    return cloze.render(text, number, question=False)


def test_question_blanks_the_cards_deletions_and_shows_the_others_plainly():
    text = "The {{c1::mitochondria}} is the {{c2::powerhouse::what?}} of the cell"
    assert (
        q(text, 1) == '<p>The <span class="cloze">[...]</span> is the powerhouse of the cell</p>\n'
    )
    assert (
        q(text, 2)
        == '<p>The mitochondria is the <span class="cloze">[what?]</span> of the cell</p>\n'
    )
    assert (
        a(text, 2)
        == '<p>The mitochondria is the <span class="cloze">powerhouse</span> of the cell</p>\n'
    )


def test_several_deletions_share_a_number_and_comma_numbers_are_active_on_each_card():
    text = "{{c1::a}} {{c2::b}} {{c1::c}} {{c1,3::d}}"
    assert q(text, 1).count("[...]") == 3 and "b" in q(text, 1)
    assert q(text, 3) == '<p>a b c <span class="cloze">[...]</span></p>\n'
    assert cloze.card_numbers(text) == [1, 2, 3]


def test_numbers_with_gaps_make_one_card_each_with_ord_number_minus_one():
    text = " ".join(f"{{{{c{n}::w{n}}}}}" for n in (1, 3, 7, 20))
    cards = generate("cloze", {"Text": text})
    assert sorted(cards) == [0, 2, 6, 19]
    assert cards[19].question == "w1 w3 w7 [...]"
    assert cards[19].answer == "w1 w3 w7 w20"


def test_c0_is_text_as_in_anki():
    assert cloze.card_numbers("{{c0::zero}} {{c2::two}}") == [2]
    assert q("{{c0::zero}} {{c2::two}}", 2) == '<p>zero <span class="cloze">[...]</span></p>\n'


def test_nested_deletions_as_anki_renders_them():
    text = "{{c1::outer {{c2::inner}} end}}"
    assert q(text, 1) == '<p><span class="cloze">[...]</span></p>\n'
    assert a(text, 1) == '<p><span class="cloze">outer inner end</span></p>\n'
    assert q(text, 2) == '<p>outer <span class="cloze">[...]</span> end</p>\n'
    assert a(text, 2) == '<p>outer <span class="cloze">inner</span> end</p>\n'
    assert cloze.card_numbers(text) == [1, 2]


def test_braces_that_are_not_cloze_syntax_are_text():
    text = "Use {{ var }} or {{c::x}} or {c1::y} and }} then {{c1::real}}"
    html = q(text)
    assert "{{ var }} or {{c::x}} or {c1::y} and }} then" in html
    assert html.count("[...]") == 1


def test_a_hint_with_markup_is_rendered_inline_and_sanitised():
    assert q("{{c1::Paris::**capital** of `FR`}}") == (
        '<p><span class="cloze">[<strong>capital</strong> of <code>FR</code>]</span></p>\n'
    )


def test_markdown_inside_a_deletion_and_around_it():
    text = "*{{c1::emphasised}}* and {{c1::**bold** and `code`}}"
    assert a(text) == (
        '<p><em><span class="cloze">emphasised</span></em> and <strong><span class="cloze">bold'
        '</span></strong><span class="cloze"> and </span><code><span class="cloze">code</span>'
        "</code></p>\n"
    )
    assert q(text) == (
        '<p><em><span class="cloze">[...]</span></em> and <span class="cloze">[...]</span></p>\n'
    )


def test_deletions_inside_inline_code_and_code_blocks_are_deletions_like_anki():
    assert q("`x = {{c1::42}}`") == '<p><code>x = <span class="cloze">[...]</span></code></p>\n'
    block = "```python\ndef {{c1::square}}(x):\n    return {{c2::x * x::hint <b>}}\n```"
    q2 = q(block, 2)
    assert '<pre><code class="language-python">' in q2
    assert '<span class="cloze">[hint &lt;b&gt;]</span>' in q2  # a hint in code is plain text
    assert "square" in q2
    assert '<span class="cloze">square</span>' in a(block, 1)
    assert a(block, 1).count("<pre>") == 1 and "</code></pre>" in a(block, 1)


def test_a_whole_code_block_as_a_deletion_stays_a_code_block():
    text = "Before\n\n{{c1::\n```js\nlet x = 1;\n```}}\n\nafter"
    answer = a(text)
    assert answer.startswith("<p>Before</p>\n<pre><code")
    assert answer.endswith("</code></pre>\n<p>after</p>\n")
    assert "```" not in answer
    assert q(text) == '<p>Before</p>\n<p><span class="cloze">[...]</span></p>\n<p>after</p>\n'


def test_block_syntax_at_the_start_of_a_deletion_keeps_its_block():
    assert a("{{c1::# Title}}") == '<h1><span class="cloze">Title</span></h1>\n'
    assert a("{{c1::- one\n- two}}") == (
        '<ul>\n<li><span class="cloze">one</span></li>\n'
        '<li><span class="cloze">two</span></li>\n</ul>\n'
    )


def test_code_fences_in_the_text_that_enclose_a_deletion_with_backticks():
    text = "```\n{{c1::a}} `b` }}\n```"
    assert q(text) == '<pre><code><span class="cloze">[...]</span> `b` }}\n</code></pre>\n'


def test_a_deletion_across_a_paragraph_break_highlights_both_parts():
    html = a("{{c1::one\n\ntwo}}")
    assert html == '<p><span class="cloze">one</span></p>\n<p><span class="cloze">two</span></p>\n'


def test_markers_never_leak_into_attributes_or_text():
    for text in ["[link]({{c1::http://example.com}})", "![alt {{c1::x}}](http://e.com/i.png)"]:
        for html in (q(text), a(text)):
            assert "Qzclozemark" not in html


def test_the_markers_cannot_collide_with_the_text():
    text = "Qzclozemarks{{c1::a}}Qzclozemarke"
    assert q(text) == '<p>Qzclozemarks<span class="cloze">[...]</span>Qzclozemarke</p>\n'


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)>',
        "[x](javascript:alert(1))",
        "<a href='javascript:alert(1)'>x</a>",
    ],
)
def test_xss_through_deletions_and_hints_stays_text(payload):
    text = f"{{{{c1::{payload}::{payload}}}}} and {{{{c2::{payload}}}}}"
    for html in (q(text, 1), a(text, 1), q(text, 2), a(text, 2)):
        for tag, attrs in _tags(html):
            assert tag in ALLOWED_TAGS, html
            for name, value in attrs:
                assert not name.startswith("on"), html
                assert not (value or "").lower().startswith("javascript"), html


def _tags(html):
    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{c1::never closed", "Text: a cloze deletion opened with {{c1:: is not closed"),
        ("{{c1::a {{c2::b}}", "is not closed"),
        ("no deletions here", "Text: needs at least one cloze deletion"),
        ("{{c0::only zero}}", "needs at least one cloze deletion"),
        ("{{c40000::too big}}", "cloze numbers go up to c32768"),
        ("{{c1::" * 11 + "x" + "}}" * 11, "nested at most 10 deep"),
    ],
)
def test_malformed_cloze_syntax_is_refused_naming_the_field(text, message):
    with pytest.raises(NoteError) as caught:
        generate("cloze", {"Text": text})
    assert message in str(caught.value)
    assert caught.value.field == "Text"


def test_too_many_cards_from_one_note_are_refused():
    text = " ".join(f"{{{{c{n}::x}}}}" for n in range(1, cloze.MAX_CARDS + 2))
    with pytest.raises(NoteError, match="at most 200 cloze cards"):
        generate("cloze", {"Text": text})


def test_hints_split_at_the_first_double_colon_as_anki():
    nodes = cloze.parse("{{c1::a::b::c}}")
    assert nodes[0].nodes == ["a"] and nodes[0].hint == "b::c"


def test_rendering_stays_fast_on_hostile_input():
    import time

    text = "{{c1::" * 10 + "a::" * 3000 + "}}" * 10 + "{{c2::x}}" * 150 + " }}" * 3000
    started = time.monotonic()
    generate("cloze", {"Text": text})
    assert time.monotonic() - started < 3
