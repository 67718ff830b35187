"""Deck files: pure parsers (text in, cards or an ImportFileError out) and the loader."""

from cards.importers.errors import ImportFileError, ParsedCard, ParsedDeck

__all__ = ["ImportFileError", "ParsedCard", "ParsedDeck"]
