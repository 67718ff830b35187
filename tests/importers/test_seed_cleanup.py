"""The seed export's clean-up at import (issue 15, item 8): false starts, bold markers with
spaces inside, empty bullets — each mended in the cards that have them, the file's text kept
in Card.imported_question / imported_answer, and every other text left as it was."""

import re
import time

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from cards.importers.cleanup import clean_markdown, clean_question, drop_false_start
from cards.importers.load import parse_deck_file, save_deck
from cards.importers.seed import parse_seed_export
from cards.importers.text import decode_text
from cards.markdown import render_markdown
from cards.models import Card, Deck
from tests.conftest import REPO_SEED, SHARED_SEED

CLEANED = {"1", "9", "11", "12", "13", "16", "18", "19"}
# (card, the file's text, the text after the clean-up, what renders bold)
EMPHASIS = [
    ("1", "**1. Chain of Thought (CoT):\n** - CoT prompting",
     "**1. Chain of Thought (CoT):**\n- CoT prompting", "1. Chain of Thought (CoT):"),
    ("9", "Generation,** is a specific approach", "Generation, **is a specific approach",
     "is a specific approach to enhancing factual grounding in generative models."),
    ("9", "generative models. **It is a framework", "generative models.** It is a framework",
     "is a specific approach to enhancing factual grounding in generative models."),
    ("11", "**Sparse Mixture of Experts (SMoE) **models",
     "**Sparse Mixture of Experts (SMoE)** models", "Sparse Mixture of Experts (SMoE)"),
    ("12", "**Mixtral 8x7B\n**Gshard: Developed", "**Mixtral 8x7B**\nGshard: Developed",
     "Mixtral 8x7B"),
    ("16", "intriguing** variant of the Gated Linear Units (GLU)** activation",
     "intriguing **variant of the Gated Linear Units (GLU)** activation",
     "variant of the Gated Linear Units (GLU)"),
    ("16", "**What is SwiGLU?\n**SwiGLU is", "**What is SwiGLU?**\nSwiGLU is", "What is SwiGLU?"),
]  # fmt: skip
# CommonMark alone, without the renderer's own tidying: the stored text must be right by itself.
COMMONMARK = MarkdownIt("commonmark", {"breaks": True})


@pytest.fixture(scope="module")
def parsed():
    """The seed's cards by number, parsed once (the same file the seed_path fixture finds)."""
    path = SHARED_SEED if SHARED_SEED.exists() else REPO_SEED
    return {
        card.external_id: card for card in parse_seed_export(decode_text(path.read_bytes())).cards
    }


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize(
    ("number", "real", "false_start"),
    [
        ("18", "what is supervised fine tuning? on an instruction dataset?", "what is"),
        ("19", "What is direct preference optimization DPO?", "wha"),
    ],
)
def test_a_false_start_is_dropped_and_kept_as_imported(parsed, number, real, false_start):
    card = parsed[number]
    assert card.question == real
    assert card.imported_question == f"{false_start}\n\n{real}"
    assert card.imported_answer == ""  # the answer needed nothing


@pytest.mark.parametrize(("number", "before", "after", "bold"), EMPHASIS)
def test_bold_markers_with_spaces_inside_are_mended(parsed, number, before, after, bold):
    card = parsed[number]
    assert before in card.imported_answer
    assert before not in card.answer
    assert after in card.answer
    for html in (render_markdown(card.answer), COMMONMARK.render(card.answer)):
        assert f"<strong>{bold}</strong>" in html
        assert "**" not in visible_text(html)


def test_card_13s_empty_bullets_are_dropped(parsed):
    card = parsed["13"]
    lines, original = card.answer.split("\n"), card.imported_answer.split("\n")
    assert original.count("*") == 2 and "*" not in lines
    assert [line for line in original if line != "*"] == lines  # nothing else changed
    html = render_markdown(card.answer)
    assert not re.search(r"<li>\s*</li>", html)
    assert html.count("<li>") == 3 + 4 + 4  # Pros, Cons, and the four trade-offs


def test_only_the_broken_cards_change_and_the_deck_stays_42_cards_18_blank(parsed):
    assert len(parsed) == 42
    assert sum(1 for card in parsed.values() if not card.answer) == 18
    changed = {n for n, card in parsed.items() if card.imported_question or card.imported_answer}
    assert changed == CLEANED
    for card in parsed.values():
        for text in (card.question, card.answer):
            assert clean_markdown(text) == text  # mended once is mended
            assert "**" not in visible_text(render_markdown(text))


def test_the_import_stores_the_original_beside_the_cleaned_text(db, seed_path):
    call_command("import_deck", str(seed_path), "--public")
    card = Card.objects.get(external_id="19")
    assert card.question == "What is direct preference optimization DPO?"
    assert card.imported_question == "wha\n\nWhat is direct preference optimization DPO?"
    assert card.question_html == "<p>What is direct preference optimization DPO?</p>\n"
    assert Card.objects.exclude(imported_question="", imported_answer="").count() == len(CLEANED)
    assert Card.objects.count() == 42 and Card.objects.needing_answer().count() == 18


def test_a_deck_imported_before_the_clean_up_is_mended_by_a_reimport(db, seed_path, monkeypatch):
    """A deck imported before: its cards hold the file's text as it was, and nothing as
    imported. Re-importing cleans those 8 in place (same cards, schedules untouched), keeps
    the originals, and a third import changes nothing."""
    with monkeypatch.context() as patch:  # the importer as it was: no clean-up
        patch.setattr("cards.importers.seed.clean_question", lambda text: text)
        patch.setattr("cards.importers.seed.clean_answer", lambda text: text)
        old = save_deck(parse_deck_file(seed_path.read_bytes(), seed_path.name), owner=None)
    ids = dict(Card.objects.values_list("external_id", "pk"))
    assert Card.objects.get(external_id="18").question.startswith("what is\n\n")

    again = save_deck(parse_deck_file(seed_path.read_bytes(), seed_path.name), owner=None)
    assert (again.deck, again.created, again.updated, again.unchanged) == (old.deck, 0, 8, 34)
    assert dict(Card.objects.values_list("external_id", "pk")) == ids
    card = Card.objects.get(external_id="18")
    assert card.question == "what is supervised fine tuning? on an instruction dataset?"
    assert card.imported_question.startswith("what is\n\n")
    assert card.question_html.count("<p>") == 1

    third = save_deck(parse_deck_file(seed_path.read_bytes(), seed_path.name), owner=None)
    assert (third.updated, third.unchanged) == (0, 42)
    assert Card.objects.get(external_id="18").imported_question == card.imported_question


def test_a_later_file_that_needs_no_clean_up_never_erases_the_original(db, seed_path, tmp_path):
    call_command("import_deck", str(seed_path))
    deck = Deck.objects.get()
    csv = tmp_path / "deck.csv"
    csv.write_text('question,answer,id\n"Edited DPO?","An answer.",19\n')
    save_deck(parse_deck_file(csv.read_bytes(), csv.name), owner=None, deck=deck)
    card = Card.objects.get(external_id="19")
    assert (card.question, card.answer) == ("Edited DPO?", "An answer.")
    assert card.imported_question == "wha\n\nWhat is direct preference optimization DPO?"


@pytest.mark.parametrize(
    "question",
    [
        "What is X?",
        "what is\nwhat is X?",  # no blank line: one question over two lines
        "Context:\n\nWhat is X?",  # a label, not a false start
        "Attention\n\nWhat is self attention?",  # a heading, not the question begun twice
        "what is X?\n\nwhat is X? And Y?",  # a sentence first
        "what is the difference\n\nwhat is the difference between A and B?",  # too long
        "what is\n\nwhat is",  # nothing more after it
    ],
)
def test_a_question_without_a_false_start_is_left_alone(question):
    assert drop_false_start(question) == question
    assert clean_question(question) == question


@pytest.mark.parametrize(
    "text",
    [
        "Use **bold** and **more bold** here.",
        "2 ** 3 ** 2 is 512",  # markers with spaces on both sides are not emphasis
        "`a ** b **c` in code",
        "```\n**a **b\n*\n```",
        "    **indented code **x",
        "**Pros:** fast ** and ** cheap",  # more than one span on the line: left alone
        "**a **b**",
        "**Heading\n**bold** rest",  # the next line has a span of its own
        "**Alone on a line",
        "Title\n-\n- item",  # a setext heading, not an empty bullet
        "Items:\n*\nnot a list",
        "* one\n\n*\n\n* two",  # blank lines around: not a shape the export makes
        "---\n***",
        "a * b * c",
    ],
)
def test_text_that_is_not_one_of_the_shapes_is_left_alone(text):
    assert clean_markdown(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n-\n- b", "- a\n- b"),
        ("• a\n•\n• b", "• a\n• b"),
        ("Cons:\n*\n* a", "Cons:\n* a"),  # "*" cannot start a list here: it shows as text
        ("* a\n*\n*\n* b", "* a\n* b"),
        ("**X\n**", "**X**"),
        ("**X \n** rest", "**X**\nrest"),
    ],
)
def test_the_shapes_in_other_places(text, expected):
    assert clean_markdown(text) == expected


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789", min_size=1, max_size=8)
PHRASE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
INLINE = st.one_of(
    PHRASE,
    PHRASE.map(lambda p: f"**{p}**"),
    PHRASE.map(lambda p: f"*{p}*"),
    PHRASE.map(lambda p: f"`{p} ** {p}`"),
    st.tuples(PHRASE, PHRASE).map(lambda t: f"[{t[0]}](https://example.com/{t[1][:3]})"),
)
LINE = st.lists(INLINE, min_size=1, max_size=4).map(" ".join)
BLOCK = st.one_of(
    st.lists(LINE, min_size=1, max_size=3).map("\n".join),
    st.tuples(
        st.sampled_from(["-", "*", "+", "•", "1."]), st.lists(LINE, min_size=1, max_size=4)
    ).map(lambda t: "\n".join(f"{t[0]} {line}" for line in t[1])),
    LINE.map(lambda line: f"## {line}"),
    st.text(alphabet="*-• \nab", max_size=40).map(lambda code: f"```\n{code}\n```"),
    LINE.map(lambda line: f"> {line}"),
)
MARKDOWN = st.lists(BLOCK, min_size=1, max_size=5).map("\n\n".join)


@settings(max_examples=300, deadline=None)
@given(MARKDOWN)
def test_ordinary_markdown_is_never_changed(text):
    assert clean_markdown(text) == text


@settings(max_examples=300, deadline=None)
@given(st.lists(PHRASE, min_size=1, max_size=3).map("\n\n".join))
def test_a_dropped_false_start_is_always_the_real_questions_beginning(question):
    cleaned = drop_false_start(question)
    if cleaned != question:
        fragment, real = question.split("\n\n", 1)
        assert cleaned == real and real.casefold().startswith(fragment.casefold())
        assert len(fragment) <= 20


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="*-•` \tab\n", max_size=60))
def test_the_clean_up_is_done_once(text):
    once = clean_markdown(text)
    assert clean_markdown(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "**" + " " * 20_000 + "x",
        "** " * 7_000,
        "**a\n" * 5_000,
        "* a\n*\n" * 3_000,
        "x" * 10 + "\n\n" + "x" * 20_000,
    ],
    ids=["bold-spaces", "markers", "open-lines", "bullets", "long-question"],
)
def test_hostile_text_is_cleaned_in_linear_time(text):
    start = time.perf_counter()
    clean_question(text)
    clean_markdown(text)
    assert time.perf_counter() - start < 0.5
