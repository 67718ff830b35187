"""The flashcard site's export: a title line, then cards `N` / `Q` / question / `A` / answer.

Answers hold bare digits and numbered lists, so a line starts a card only when it is the next
expected card number and the next non-blank line is `Q`. The site's rating widget that follows
many answers is not content and is dropped. What the export breaks (a question's false start,
bold markers with spaces inside, empty bullets) is mended by cleanup.py; each card keeps the
text as the file had it in `imported_question` / `imported_answer` when that differs.
"""

from cards.importers.cleanup import clean_answer, clean_question
from cards.importers.errors import ImportFileError, ParsedCard, ParsedDeck

RATING_WIDGET = ("How well did you know this?", "1", "Not at all", "2", "3", "4", "5", "Perfectly")


def is_card_number(text: str) -> bool:
    """ASCII digits of a sane length: `isdigit()` alone accepts "²", which int() refuses."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def looks_like_seed_export(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return len(lines) >= 3 and is_card_number(lines[1]) and lines[2] == "Q"


def parse_seed_export(text: str) -> ParsedDeck:
    lines = text.split("\n")
    stripped = [line.strip() for line in lines]
    title = stripped[0] if stripped else ""
    if not title:
        raise ImportFileError("the first line must be the deck title", line=1)
    if is_card_number(title) and _next_nonblank(stripped, 1) == "Q":
        raise ImportFileError("the file has no deck title: it starts with a card", line=1)

    first = _skip_blank(stripped, 1)
    if first is None:
        raise ImportFileError("the deck has no cards", line=2)
    if not (is_card_number(stripped[first]) and _next_nonblank(stripped, first + 1) == "Q"):
        raise ImportFileError("expected a card number followed by a line 'Q'", line=first + 1)

    deck = ParsedDeck(title=title)
    i = first
    while i is not None:
        card, i = _parse_card(lines, stripped, i)
        deck.cards.append(card)
    return deck


def _parse_card(lines, stripped, start):
    number = int(stripped[start])
    q_line = _skip_blank(stripped, start + 1)
    if q_line is None:
        raise ImportFileError(f"card {number} has no question", line=start + 1)
    i = q_line + 1
    question = []
    while i < len(lines) and stripped[i] != "A":
        if _is_card_start(stripped, i, number + 1):
            raise ImportFileError(f"card {number} has no line 'A' before the next card", line=i + 1)
        question.append(lines[i])
        i += 1
    if i >= len(lines):
        raise ImportFileError(f"card {number} has no line 'A' (its answer)", line=start + 1)
    question_text = "\n".join(question).strip()
    if not question_text:
        raise ImportFileError(f"card {number} has an empty question", line=start + 1)

    answer, i = _collect_answer(lines, stripped, i + 1, number)
    question, cleaned_answer = clean_question(question_text), clean_answer(answer)
    card = ParsedCard(
        question,
        cleaned_answer,
        external_id=str(number),
        line=start + 1,
        imported_question=question_text if question != question_text else "",
        imported_answer=answer if cleaned_answer != answer else "",
    )
    return card, i


def _collect_answer(lines, stripped, i, number):
    answer = []
    while i < len(lines):
        if _is_card_start(stripped, i, number + 1):
            return "\n".join(answer).strip(), i
        if stripped[i : i + len(RATING_WIDGET)] == list(RATING_WIDGET):
            i += len(RATING_WIDGET)
            continue
        if stripped[i] in ("Q", "A"):
            raise ImportFileError(
                f"a line '{stripped[i]}' inside the answer of card {number}: "
                f"is the number of card {number + 1} missing or out of order?",
                line=i + 1,
            )
        if stripped[i] == str(number + 1) and _next_nonblank(stripped, i + 1) is None:
            raise ImportFileError(f"card {number + 1} has no question", line=i + 1)
        answer.append(lines[i])
        i += 1
    return "\n".join(answer).strip(), None


def _is_card_start(stripped, i, expected):
    return stripped[i] == str(expected) and _next_nonblank(stripped, i + 1) == "Q"


def _skip_blank(stripped, i):
    while i < len(stripped) and not stripped[i]:
        i += 1
    return i if i < len(stripped) else None


def _next_nonblank(stripped, i):
    j = _skip_blank(stripped, i)
    return stripped[j] if j is not None else None
