"""Hostile text cannot stall the server (issue 13, part 1: ReDoS).

Every regex over user text runs in linear time, and rendering Markdown (markdown-it, Pygments,
nh3) stays under a bound on adversarial input up to the card text limit (20,000 characters).
The bounds are generous because the test machine is slow and shared; the patterns they replaced
took 20-30 s on 2,000 characters here, and hours on 20,000.
"""

import csv
import io
import json
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cards.forms import StepsField
from cards.importers.errors import ImportFileError
from cards.importers.load import parse_deck_file
from cards.markdown import render_markdown, tidy_exported_markdown
from cards.models import Card, Deck
from cards.services import curation
from cards.services.transfer import TransferError, export_user_data, parse_user_data

FIELD_MAX = 20_000  # settings.CARD_TEXT_MAX_CHARS
REPRO_SECONDS = 1.0  # one known-bad shape: the old patterns took 5-100 s on each here
HOSTILE_SECONDS = 2.5  # any generated hostile text: markdown-it alone needs ~1 s for some here
REQUEST_SECONDS = 3.0  # a request that renders a question and an answer, and writes them

# The issue's repro: "**", spaces, and no closing "**" (2,500 spaces froze runserver).
BOLD_SPACES = "**" + " " * 2500 + "x"
# What a request carries in the entry-point tests: the repro, then the bullet pattern's shape.
HOSTILE_CARD = BOLD_SPACES + "\n" * 17_000 + "•"


def seconds(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


@pytest.mark.parametrize(
    "text",
    [
        BOLD_SPACES,
        "**" + "\t" * 2500 + "x",
        "**" + " \t" * 9_995 + "x",
        "**" + " " * (FIELD_MAX - 3) + "x",
        "x **" + " " * 9_000 + "y\n**" + "\t" * 9_000 + "*z",
        "\n" * (FIELD_MAX - 1) + "x",  # "^(\s*)•" rescanned every blank line after each one
        " \n" * (FIELD_MAX // 2 - 1) + "x",
        "\u00a0\n" * (FIELD_MAX // 2 - 1) + "x",
        "**a" + " " * 9_000 + "\n**" + " " * 9_000,
    ],
    ids=lambda text: f"{text[:4]!r}+{len(text)}",
)
def test_the_known_backtracking_shapes_render_at_once(text):
    elapsed, html = seconds(render_markdown, text)

    assert elapsed < REPRO_SECONDS, f"{elapsed:.2f} s for {len(text)} characters"
    assert html.count("<strong>") == text.startswith("**a")  # only the last one closes its span


def test_the_issue_repro_renders_its_text_as_typed():
    assert render_markdown(BOLD_SPACES) == "<p>**" + " " * 2500 + "x</p>\n"


@pytest.mark.parametrize("language", ["csharp", "terraform", "java", "sas"])
def test_hostile_code_is_not_highlighted_past_the_time_budget(language):
    # These lexers backtrack quadratically on such code: C# took 13 s on 4,000 characters.
    code = {"csharp": "a\n", "terraform": "0b", "java": "a ", "sas": " \n"}[language] * 5_000
    elapsed, html = seconds(render_markdown, f"```{language}\n{code}\n```")

    assert elapsed < REPRO_SECONDS + 0.5, f"{elapsed:.2f} s"
    assert f'<pre><code class="language-{language}">' in html  # shown, plain if out of time


# The tidy-up patterns as they were before issue 13: the oracle for what normal text becomes.
def tidy_before_issue_13(text):
    text = re.sub(r"^(\s*)•\s*", r"\1- ", text, flags=re.MULTILINE)
    text = re.sub(r"^\*\*([^*\n]+)\n\*\*[ \t]*", r"**\1**\n", text, flags=re.MULTILINE)
    return re.sub(r"\*\*([ \t]*)([^*\n]+?)([ \t]*)\*\*", r"\1**\2**\3", text)


PIECES = ["*", "**", " ", "\t", "\n", "•", "a", "b ", "\u00a0", "\r", "\x0b", "\u2028", "-", "_"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
@example("**word **next\n• one\n  •two\n**half\n** rest **  ** **x**")
def test_the_linear_patterns_tidy_text_exactly_as_before(text):
    assert tidy_exported_markdown(text) == tidy_before_issue_13(text)


# Adversarial texts: an opener, a long run of one filler, maybe no closer; nested lists and
# quotes; wide or long tables; code fences in lexers known to backtrack.
OPENERS = ["**", "__", "*", "_", "[", "![", "`", "```", "<", "<!--", "&#", "•", "> ", "- ", "1. ",
           "|", "~~", "[a](", "\\", "#", ""]  # fmt: skip
FILLERS = [" ", "\t", "\n", " \n", "a", "a ", "*", "_", "**", "[", "]", "`", "<", ">", "|", "&#",
           "•", "1.", "- ", "> ", "*a ", "_a ", "[a", "a]", "\\\"", "a\n"]  # fmt: skip
LANGUAGES = ["", "python", "csharp", "js", "terraform", "sas", "nosuchlanguage"]

runs = st.builds(
    lambda opener, filler, count, closer: opener + filler * count + closer,
    st.sampled_from(OPENERS),
    st.sampled_from(FILLERS),
    st.integers(0, FIELD_MAX // 2),
    st.sampled_from(["", "x", "**", "]", "`", ">", "\n\n"]),
)
nested = st.builds(
    lambda depth, marker: "".join("  " * (i % 40) + marker * (i % 7) + "x\n" for i in range(depth)),
    st.integers(1, 1_500),
    st.sampled_from(["- ", "> ", "1. ", "> - ", "* "]),
)
tables = st.builds(
    lambda columns, rows, cell: "|" + "a|" * columns + "\n|" + "-|" * columns + "\n"
    + (cell * columns + "\n") * rows,
    st.integers(1, 400),
    st.integers(0, 2_000),
    st.sampled_from(["|", "x|", "|\\", "`|", "*|"]),
)  # fmt: skip
fences = st.builds(
    lambda lang, filler, count: f"```{lang}\n{filler * count}\n```\n",
    st.sampled_from(LANGUAGES),
    st.sampled_from(FILLERS + ["'", '"', "/*", "0b", "a\n"]),
    st.integers(0, 5_000),
)
hostile_texts = st.lists(st.one_of(runs, nested, tables, fences), min_size=1, max_size=5).map(
    lambda parts: "".join(parts)[:FIELD_MAX]
)
SLOW = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_fast(function, text, bound=HOSTILE_SECONDS):
    elapsed, _ = seconds(function, text)
    assert elapsed < bound, f"{function.__name__}: {elapsed:.2f} s on {len(text)} characters"


@SLOW
@given(hostile_texts)
@example(BOLD_SPACES)
@example("**" + "\t" * (FIELD_MAX - 3) + "x")
def test_rendering_any_hostile_text_stays_under_the_bound(text):
    assert_fast(render_markdown, text)


def seed_export(question, answer):
    return f"Deck\n1\nQ\n{question}\nA\n{answer}\n".encode()


def csv_file(question, answer):
    out = io.StringIO()
    csv.writer(out).writerows([["question", "answer"], [question or "q", answer]])
    return out.getvalue().encode()


def parse_leniently(data, filename):
    try:
        return parse_deck_file(data, filename)
    except ImportFileError:
        return None  # refusing hostile text with a message is fine; taking long is not


def parse_steps(text):
    try:
        return StepsField().clean(text[:200])
    except Exception:  # ValidationError: only the time matters here
        return None


@settings(SLOW, max_examples=30)
@given(hostile_texts)
@example(BOLD_SPACES)
@example("\n" * (FIELD_MAX - 1) + "•")
def test_every_other_pattern_over_user_text_stays_under_the_bound(text):
    assert_fast(tidy_exported_markdown, text, bound=REPRO_SECONDS)
    assert_fast(lambda t: parse_leniently(seed_export(t, t), "deck.txt"), text)
    assert_fast(lambda t: parse_leniently(csv_file(t, t), "deck.csv"), text)
    assert_fast(lambda t: parse_leniently(t.encode(), "deck.csv"), text)
    assert_fast(lambda t: parse_leniently(("Deck\n" + t).encode(), "deck.txt"), text)
    assert_fast(curation.normalise_question, text, bound=REPRO_SECONDS)
    assert_fast(curation.opening_question, text, bound=REPRO_SECONDS)
    assert_fast(parse_steps, text, bound=REPRO_SECONDS)


# The entry points: each stores the hostile card and answers within the bound.


def timed_request(send):
    elapsed, response = seconds(send)
    assert elapsed < REQUEST_SECONDS, f"{elapsed:.2f} s"
    return response


@pytest.fixture
def deck(owner):
    deck = Deck.objects.create(owner=owner, name="Hostile")
    Card.objects.create(deck=deck, question="Q", answer="A", position=1)
    return deck


def test_card_create_takes_the_issue_repro(owner_client, deck):
    url = reverse("card_create", args=[deck.pk])
    response = timed_request(lambda: owner_client.post(url, {"question": BOLD_SPACES}))

    assert response.status_code == 302
    card = deck.cards.get(question=BOLD_SPACES)
    assert card.question_html == render_markdown(BOLD_SPACES)


def test_card_edit_takes_a_hostile_card(owner_client, deck):
    card = deck.cards.get()
    url = reverse("card_edit", args=[card.pk])
    data = {"question": HOSTILE_CARD, "answer": HOSTILE_CARD}
    response = timed_request(lambda: owner_client.post(url, data))

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.question == card.answer == HOSTILE_CARD
    assert card.answer_html == render_markdown(HOSTILE_CARD)  # the last "•" is an empty item


def test_the_in_place_answer_takes_a_hostile_answer(owner_client, deck):
    card = deck.cards.get()
    url = reverse("card_answer", args=[card.pk])
    send = lambda: owner_client.post(url, {"answer": HOSTILE_CARD}, HTTP_HX_REQUEST="true")  # noqa: E731
    response = timed_request(send)

    assert response.status_code == 200
    card.refresh_from_db()
    assert card.answer == HOSTILE_CARD and card.answer_html == render_markdown(HOSTILE_CARD)


def test_the_csv_import_takes_a_hostile_card(owner_client, owner):
    # Tasks run inside the request in tests (tests/conftest.py), so this times the writing too.
    upload = SimpleUploadedFile("hostile.csv", csv_file(HOSTILE_CARD, BOLD_SPACES), "text/csv")
    response = timed_request(lambda: owner_client.post(reverse("deck_import"), {"file": upload}))

    assert response.status_code == 302
    card = Card.objects.get(deck__owner=owner, deck__name="hostile")
    assert (card.question, card.answer) == (HOSTILE_CARD.strip(), BOLD_SPACES)


def test_the_json_import_takes_a_hostile_card(owner_client, owner, deck):
    data = export_user_data(owner)
    data["decks"][0]["cards"][0].update(question=HOSTILE_CARD, answer=BOLD_SPACES)
    deck.delete()
    upload = SimpleUploadedFile("data.json", json.dumps(data).encode(), "application/json")
    response = timed_request(lambda: owner_client.post(reverse("data_import"), {"file": upload}))

    assert response.status_code == 302, response.context["form"].errors
    card = Card.objects.get(deck__owner=owner)
    assert (card.question, card.answer) == (HOSTILE_CARD, BOLD_SPACES)


@pytest.mark.parametrize("body", ['"' + '\\"' * 8_000, '"\\' * 8_000])
def test_the_json_import_reads_unclosed_escaped_strings_at_once(body):
    # A string that never closes, full of escaped quotes: a string pattern retried at every
    # quote rescans the rest of the file each time.
    data = ('{"decks": [' + body).encode()
    start = time.perf_counter()
    with pytest.raises(TransferError):
        parse_user_data(data)
    assert time.perf_counter() - start < REPRO_SECONDS


def test_the_admin_change_form_takes_a_hostile_answer(client, staff, deck):
    client.force_login(staff)
    card = deck.cards.get()
    url = reverse("admin:cards_card_change", args=[card.pk])
    data = {"deck": deck.pk, "question": BOLD_SPACES, "answer": HOSTILE_CARD,
            "position": 1, "external_id": "", "tags": ""}  # fmt: skip
    response = timed_request(lambda: client.post(url, data))

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.answer == HOSTILE_CARD and card.question_html == render_markdown(BOLD_SPACES)
    preview = timed_request(lambda: client.post(reverse("admin:cards_card_preview"), data))
    assert preview.status_code == 200
