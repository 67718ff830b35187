"""The plain records read out of an Anki collection, whatever its schema (11: collection.anki2
and collection.anki21; 18: the zstd-compressed collection.anki21b).

package.py yields these; importer.py writes them. Nothing here touches the database. Large
tables (notes, cards, revlog) are iterated from the extracted SQLite file, never held as one
list: a 100,000-card package with 1,000,000 reviews stays well under the memory budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class AnkiTemplate:
    name: str
    front: str  # qfmt
    back: str  # afmt


@dataclass(frozen=True)
class AnkiNotetype:
    id: int
    name: str
    is_cloze: bool
    fields: list[str]  # field names, in order
    templates: list[AnkiTemplate]  # in ord order
    css: str = ""


@dataclass(frozen=True)
class AnkiDeck:
    id: int
    name: str  # the full name, levels joined by "::" (schema 18 stores \x1f: converted)
    is_filtered: bool = False


@dataclass(frozen=True)
class AnkiNote:
    id: int
    guid: str
    notetype_id: int
    modified: int  # seconds since the epoch
    tags: list[str]
    fields: list[str]  # the raw field HTML, in the note type's field order


@dataclass(frozen=True)
class AnkiCard:
    id: int
    note_id: int
    deck_id: int  # the home deck: odid when the card sits in a filtered deck, else did
    ord: int
    modified: int
    type: int  # 0 new, 1 learning, 2 review, 3 relearning
    queue: int  # -3 user buried, -2 sched buried, -1 suspended, 0 new, 1 learn, 2 review,
    #             3 day learn, 4 preview
    due: int  # new: position; learn (queue 1): epoch seconds; review/day learn: day number
    interval: int  # days (negative: seconds, legacy learning)
    factor: int  # permille ease
    reps: int
    lapses: int
    left: int
    flags: int  # the low 3 bits are the flag 0-7
    data: dict = field(default_factory=dict)  # "s", "d", "dr", "lrt", ... (FSRS memory)

    @property
    def flag(self) -> int:
        return self.flags & 0b111

    @property
    def stability(self) -> float | None:
        return self.data.get("s")

    @property
    def difficulty(self) -> float | None:
        return self.data.get("d")


@dataclass(frozen=True)
class AnkiReview:
    id: int  # milliseconds since the epoch when the answer was given
    card_id: int
    ease: int  # 1-4 (0: a manual reschedule, not an answer)
    interval: int  # days; negative: seconds
    last_interval: int
    factor: int
    duration_ms: int
    type: int  # 0 learn, 1 review, 2 relearn, 3 filtered/cram, 4 manual, 5 rescheduled


@dataclass(frozen=True)
class AnkiMedia:
    name: str  # the name cards refer to (<img src="name">)
    size: int  # bytes, uncompressed, as declared by the package


class AnkiCollection(Protocol):
    """What a read package offers. `close()` removes the extracted files."""

    crt: int  # the collection's creation time: the day numbers of `due` count from its day
    rollover_hour: int  # the hour a new study day starts (the collection's setting; 4 default)
    schema: int  # 11 or 18
    filename: str  # which collection file the package carried
    notetypes: dict[int, AnkiNotetype]
    decks: dict[int, AnkiDeck]
    media: list[AnkiMedia]
    note_count: int
    card_count: int
    review_count: int

    def notes(self) -> Iterator[AnkiNote]: ...  # in id order

    def cards(self) -> Iterator[AnkiCard]: ...  # in note id, ord order

    def reviews(self) -> Iterator[AnkiReview]: ...  # in card id, then review id order

    def media_bytes(self, name: str) -> bytes: ...  # decompressed, size-checked

    def close(self) -> None: ...
