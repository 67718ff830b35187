"""CSV decks: a header with question and answer, optionally id and tags (any order, any case),
and the note columns of cards/importers/csvnotes.py."""

import csv
import io

from cards.importers.csvnotes import NOTE_COLUMNS, note_groups, read_note_columns
from cards.importers.errors import ImportFileError, ParsedCard, ParsedDeck

REQUIRED = ("question", "answer")
OPTIONAL = ("id", "tags", *NOTE_COLUMNS)  # note columns: cards/importers/csvnotes.py
MAX_FIELD = 100_000
MAX_ID = 100  # Card.external_id
MAX_TAGS = 500  # Card.tags


def looks_like_csv(text: str) -> bool:
    header = text.split("\n", 1)[0].lower()
    return "question" in header and "answer" in header and "," in header


def parse_cards_csv(text: str, title: str = "") -> ParsedDeck:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportFileError("the file is empty", line=1, kind="row") from None
    except csv.Error as exc:
        raise ImportFileError(f"malformed CSV header: {exc}", line=1, kind="row") from None
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFileError(
            f"the header must name the columns question and answer (missing: {', '.join(missing)})",
            line=1,
            kind="row",
        )
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise ImportFileError(f"unknown column {unknown[0]!r}", line=1, kind="row")
    column = {name: header.index(name) for name in header}

    deck = ParsedDeck(title=title)
    seen_ids: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(header):
                raise ImportFileError(
                    f"expected {len(header)} fields, found {len(row)}", line=line, kind="row"
                )
            if any(len(field) > MAX_FIELD for field in row):
                raise ImportFileError(
                    f"a field is longer than {MAX_FIELD} characters", line=line, kind="row"
                )
            card = ParsedCard(
                question=row[column["question"]].strip(),
                answer=row[column["answer"]].strip(),
                external_id=row[column["id"]].strip() if "id" in column else "",
                tags=row[column["tags"]].strip() if "tags" in column else "",
                line=line,
            )
            read_note_columns(card, row, column)
            if not card.question:
                raise ImportFileError("the question is empty", line=line, kind="row")
            if len(card.external_id) > MAX_ID:
                raise ImportFileError(
                    f"the id is longer than {MAX_ID} characters", line=line, kind="row"
                )
            if len(card.tags) > MAX_TAGS:
                raise ImportFileError(
                    f"the tags are longer than {MAX_TAGS} characters", line=line, kind="row"
                )
            if card.external_id:
                if card.external_id in seen_ids:
                    raise ImportFileError(
                        f"id {card.external_id!r} already used on row {seen_ids[card.external_id]}",
                        line=line,
                        kind="row",
                    )
                seen_ids[card.external_id] = line
            deck.cards.append(card)
    except csv.Error as exc:
        raise ImportFileError(f"malformed CSV: {exc}", line=reader.line_num, kind="row") from None
    if not deck.cards:
        raise ImportFileError("the file has a header but no cards", line=2, kind="row")
    note_groups(deck.cards)  # each note's rows make its cards, or the first bad one is named
    return deck
