"""The importer on the real seed export, and on every way such a file can be broken."""

import pytest
from django.core.management import CommandError, call_command

from cards.importers.errors import ImportFileError
from cards.importers.seed import RATING_WIDGET, parse_seed_export
from cards.importers.text import decode_text
from cards.models import Card, Deck
from tests.conftest import REPO_SEED, SHARED_SEED

BLANK_CARDS = {8, *range(25, 42)}


def test_repo_copy_is_the_shared_seed():
    if not SHARED_SEED.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert REPO_SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_it_parses_the_seed_export(seed_path):
    deck = parse_seed_export(decode_text(seed_path.read_bytes()))

    assert deck.title == "Generative AI Flashcards"
    assert [card.external_id for card in deck.cards] == [str(n) for n in range(1, 43)]
    blank = {int(card.external_id) for card in deck.cards if not card.answer}
    assert blank == BLANK_CARDS
    assert sum(1 for card in deck.cards if card.answer) == 24


def test_it_drops_false_starts_and_keeps_the_question_as_the_file_had_it(seed_path):
    deck = parse_seed_export(decode_text(seed_path.read_bytes()))
    assert deck.cards[17].question == "what is supervised fine tuning? on an instruction dataset?"
    assert deck.cards[17].imported_question == (
        "what is\n\nwhat is supervised fine tuning? on an instruction dataset?"
    )


def test_digits_and_numbered_lists_in_answers_never_start_a_card(seed_path):
    deck = parse_seed_export(decode_text(seed_path.read_bytes()))
    first = deck.cards[0].answer
    assert "**1. Chain of Thought (CoT):" in first
    assert "\n2. Tree of Thought (ToT):" in first
    assert "\n3. Graph of Thought (GoT):" in first
    assert first.endswith("decision making.")


def test_no_answer_contains_rating_widget_text(seed_path):
    deck = parse_seed_export(decode_text(seed_path.read_bytes()))
    for card in deck.cards:
        assert "How well did you know this?" not in card.answer
        assert "Not at all" not in card.answer
        assert "Perfectly" not in card.answer.split("\n")
        assert card.answer.split("\n")[-1:] != [RATING_WIDGET[-1]]


def test_the_command_imports_42_cards_in_order(db, seed_path):
    call_command("import_deck", str(seed_path), "--public")

    deck = Deck.objects.get()
    assert deck.name == "Generative AI Flashcards"
    assert deck.is_public and deck.owner is None
    cards = list(deck.cards.order_by("position"))
    assert [c.external_id for c in cards] == [str(n) for n in range(1, 43)]
    assert Card.objects.needing_answer().count() == 18
    assert "<strong>" in cards[0].answer_html


def test_reimport_is_idempotent(db, seed_path):
    call_command("import_deck", str(seed_path), "--public")
    first = {c.pk: (c.question, c.answer, c.position) for c in Card.objects.all()}

    call_command("import_deck", str(seed_path), "--public")

    assert Deck.objects.count() == 1
    assert {c.pk: (c.question, c.answer, c.position) for c in Card.objects.all()} == first


def test_reimport_keeps_answers_written_since(db, seed_path):
    call_command("import_deck", str(seed_path), "--public")
    card = Card.objects.get(external_id="8")
    card.answer = "DPO, RLAIF and rejection sampling."
    card.save()

    call_command("import_deck", str(seed_path), "--public")

    card.refresh_from_db()
    assert card.answer == "DPO, RLAIF and rejection sampling."


def test_the_fixture_matches_the_importer(db, seed_path):
    call_command("loaddata", "seed_deck")
    loaded = list(Card.objects.order_by("position").values_list("question", "answer"))
    parsed = parse_seed_export(decode_text(seed_path.read_bytes()))
    assert loaded == [(c.question, c.answer) for c in parsed.cards]


GOOD = "Deck\n1\nQ\nWhat?\nA\nThat.\n2\nQ\nWhy?\nA\nBecause.\n"


@pytest.mark.parametrize(
    ("data", "line", "fragment"),
    [
        (b"", 1, "empty"),
        (b"  \n\n", 1, "empty"),
        (b"1\nQ\nWhat?\nA\nThat.\n", 1, "no deck title"),
        (b"Deck\nWhat?\nA\nThat.\n", 2, "card number followed by a line 'Q'"),
        (b"Deck\n1\nQ\nWhat?\nA\nThat.\n2\nWhy?\nA\nBecause.\n", 9, "inside the answer of card 1"),
        (b"Deck\n1\nQ\nWhat?\nA\nThat.\n2\n", 7, "card 2 has no question"),
        (b"Deck\n1\nQ\nWhat?\n", 2, "no line 'A'"),
        (b"Deck\n1\nQ\n\nA\nThat.\n", 2, "empty question"),
        (b"Deck\n1\nQ\nWhat?\nA\nThat.\n3\nQ\nWhy?\nA\nx\n", 8, "card 2 missing or out of order"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "binary"),
        (b"Deck\n1\nQ\nWhat?\nA\ncaf\xe9\n", 6, "not UTF-8"),
        # Digits to str.isdigit() that int() refuses, and a 5,000-digit card number.
        ("Deck\n²\nQ\nWhat?\nA\nThat.\n".encode(), 2, "card number followed by a line 'Q'"),
        (b"Deck\n" + b"1" * 5000 + b"\nQ\nWhat?\nA\nThat.\n", 2, "card number followed"),
    ],
)
def test_it_refuses_malformed_files_naming_the_line(db, tmp_path, data, line, fragment):
    path = tmp_path / "broken.txt"
    path.write_bytes(data)

    with pytest.raises(CommandError) as excinfo:
        call_command("import_deck", str(path))

    assert f"line {line}:" in str(excinfo.value)
    assert fragment in str(excinfo.value)
    assert "nothing was imported" in str(excinfo.value)
    assert Deck.objects.count() == 0 and Card.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [
        GOOD.replace("\n", "\r\n").encode(),
        b"\xef\xbb\xbf" + GOOD.encode(),
        GOOD.replace("\n", "\r").encode(),
        GOOD.rstrip("\n").encode(),
    ],
    ids=["crlf", "bom", "cr", "no-final-newline"],
)
def test_it_imports_line_ending_and_bom_variants(db, tmp_path, data):
    path = tmp_path / "deck.txt"
    path.write_bytes(data)

    call_command("import_deck", str(path))

    deck = Deck.objects.get()
    assert deck.name == "Deck"
    assert list(deck.cards.values_list("question", "answer")) == [
        ("What?", "That."),
        ("Why?", "Because."),
    ]


def test_a_refused_reimport_leaves_the_deck_as_it_was(db, tmp_path):
    path = tmp_path / "deck.txt"
    path.write_text(GOOD)
    call_command("import_deck", str(path))
    before = list(Card.objects.values_list("pk", "question", "answer"))

    path.write_text(GOOD.replace("Because.", "Changed.") + "3\nQ\nBroken?\n")
    with pytest.raises(CommandError):
        call_command("import_deck", str(path))

    assert list(Card.objects.values_list("pk", "question", "answer")) == before


def test_errors_carry_the_line_number():
    with pytest.raises(ImportFileError) as excinfo:
        parse_seed_export("Deck\n1\nQ\nWhat?\n")
    assert excinfo.value.line == 2


def test_it_names_a_missing_owner(db, seed_path):
    with pytest.raises(CommandError, match="--owner: no user named 'nobody'"):
        call_command("import_deck", str(seed_path), "--owner", "nobody")
