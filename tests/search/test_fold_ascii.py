"""fold's ASCII shortcut (an import folds 100,000 cards' text) gives what the full folding gives."""

import string
import unicodedata

from cards.search.fold import _SPELLED, fold


def _full(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).lower()


def test_ascii_folds_as_the_full_rules_do():
    every_ascii = "".join(map(chr, range(128)))
    for text in (every_ascii, string.printable, "Front 12 **Bold**", "ß not ascii"):
        assert fold(text) == _full(text)
    assert fold("Straße Œuvre") == _full("Straße Œuvre") == "strasse oeuvre"
