from dataclasses import dataclass, field


class ImportFileError(ValueError):
    """A file that cannot be imported; the message names the line or row."""

    def __init__(self, message: str, *, line: int | None = None, kind: str = "line"):
        self.line = line
        self.kind = kind
        super().__init__(f"{kind} {line}: {message}" if line is not None else message)


@dataclass
class ParsedCard:
    question: str
    answer: str
    external_id: str = ""
    tags: str = ""
    line: int = 0  # where the card starts in the file, for messages
    # The text as the file had it, when the importer cleaned it up (else blank).
    imported_question: str = ""
    imported_answer: str = ""
    # A CSV row of a note (cards/importers/csvnotes.py): its note's key in the file, kind,
    # the card's ord, and the note's fields (None: the row's question and answer are them).
    note_key: str = ""
    kind: str = ""
    ord: int | None = None
    note_fields: dict | None = None


@dataclass
class ParsedDeck:
    title: str
    cards: list[ParsedCard] = field(default_factory=list)
