"""The Markdown pipeline (cards/markdown.py): highlighting, export bullets, sanitising, and the
study page showing the HTML stored with each card instead of rendering Markdown per request."""

import re

import pytest
from markdown_it import MarkdownIt

from cards.markdown import render_markdown
from cards.models import Card, Deck
from tests.study.test_study_views import HTMX, rate, study_url


def test_fenced_code_with_a_language_is_highlighted_by_pygments():
    html = render_markdown("```python\ndef f(x):\n    return 1\n```")

    assert '<pre><code class="language-python">' in html
    assert '<span class="k">def</span>' in html  # the keyword, coloured by its CSS class
    assert '<span class="nf">f</span>' in html
    assert '<span class="mi">1</span>' in html


def test_fenced_code_in_an_unknown_language_is_escaped_but_not_coloured():
    html = render_markdown("```nosuchlanguage\nif a < b: <b>\n```")

    assert "<span" not in html
    assert "if a &lt; b: &lt;b&gt;" in html


def test_exported_bullet_lines_become_a_list():
    html = render_markdown("Steps:\n• first\n• second\n  • nested")

    assert "•" not in html
    assert re.search(r"<ul>\s*<li>first</li>\s*<li>second\s*<ul>\s*<li>nested</li>", html), html
    assert "<p>Steps:</p>" in html


def test_a_bullet_in_the_middle_of_a_line_stays_text():
    assert render_markdown("a • b") == "<p>a • b</p>\n"


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        "<b onclick=x>bold</b>",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>x</a>",
    ],
)
def test_typed_html_comes_out_as_text(typed):
    html = render_markdown(f"Before {typed} after")

    assert "<script" not in html and "<b" not in html and "<img" not in html
    assert "<a" not in html
    assert "&lt;" in html  # shown as the characters the author typed


def test_markdown_links_keep_only_safe_schemes_and_get_rel():
    html = render_markdown("[ok](https://example.com) [bad](javascript:alert(1))")

    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
    assert 'href="javascript' not in html


def test_markdown_that_would_produce_attributes_is_sanitised():
    # Table alignment becomes a class (the CSP forbids style attributes); nothing else survives.
    html = render_markdown("| a | b |\n|:-:|--:|\n| 1 | 2 |")

    assert '<th class="align-center">a</th>' in html
    assert '<td class="align-right">2</td>' in html
    assert "style" not in html


def test_the_study_page_shows_the_stored_html_and_never_renders_markdown(
    owner_client, owner, monkeypatch
):
    deck = Deck.objects.create(owner=owner, name="Stored HTML")
    first = Card.objects.create(
        deck=deck, question="What is **FSRS**?", answer="A *scheduler*", position=1
    )
    Card.objects.create(deck=deck, question="Second?", answer="Yes", position=2)
    # Stored HTML that rendering the Markdown again could never produce.
    Card.objects.filter(pk=first.pk).update(
        question_html="<p>Stored <strong>question</strong></p>",
        answer_html="<p>Stored <em>answer</em></p>",
    )

    def no_markdown(*args, **kwargs):
        raise AssertionError("Markdown rendered during a request")

    for name in ("cards.markdown", "cards.models.content", "cards.admin"):
        monkeypatch.setattr(f"{name}.render_markdown", no_markdown)
    monkeypatch.setattr(MarkdownIt, "render", no_markdown)

    response = owner_client.get(study_url(deck))
    assert response.status_code == 200
    assert response.context["current"].card == first
    html = response.content.decode()
    assert "<p>Stored <strong>question</strong></p>" in html
    assert "<p>Stored <em>answer</em></p>" in html  # in the page, hidden until revealed

    revealed = owner_client.get(f"{study_url(deck)}?card={first.pk}&reveal=1", **HTMX)
    assert revealed.status_code == 200
    assert "<p>Stored <em>answer</em></p>" in revealed.content.decode()

    # Rating it (over htmx) shows the next card, from its stored HTML too.
    after = rate(owner_client, deck, response, rating=3)
    assert after.status_code == 200
    assert "<p>Second?</p>" in after.content.decode()
