"""The "all my data" JSON file (decks, cards, schedules, review history, settings): its
streamed export, and the import's public names.

The JSON file names no database ids and no usernames: a user's own cards are referenced by
position ("d0.c3" = the fourth card of the first deck), and cards of other people's (public)
decks are listed once in `shared_cards` and referenced as "s0", "s1"… So exporting, importing
into another account and exporting again gives the same file apart from `exported_at`. The
note types of imported Anki notes come under "note_types", only when there are some
(services/note_transfer.py).
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby

from django.db.models import Max
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from cards.services.data_import import ImportSummary, check_user_data, import_user_data
from cards.services.note_transfer import DeckNotes, note_type_rows
from cards.services.reviews import fuzz_seed_of
from cards.services.user_data import (
    CARD_FIELDS,
    CARD_OPTIONAL_FIELDS,
    FORMAT,
    LOG_FIELDS,
    SETTINGS_FIELDS,
    STATE_FIELDS,
    STATE_OPTIONAL_FIELDS,
    VERSION,
    TransferError,
    parse_user_data,
)

# The import lives in data_import.py (writing) and user_data.py (the format and its checks).
__all__ = [
    "ImportSummary", "TransferError", "check_user_data", "import_user_data", "parse_user_data",
]  # fmt: skip


def next_position(deck: Deck) -> int:
    return (deck.cards.aggregate(last=Max("position"))["last"] or 0) + 1


# --- JSON export ---------------------------------------------------------------------------


STATE_EXPORTED = STATE_FIELDS | STATE_OPTIONAL_FIELDS


def _iso(value):
    return value.astimezone(UTC).isoformat() if value is not None else None


def _plain(obj, fields):
    return {
        name: _iso(getattr(obj, name)) if kind is datetime or kind == (datetime, None)
        else getattr(obj, name)
        for name, kind in fields.items()
    }  # fmt: skip


def export_user_data(user) -> dict:
    """Everything that is the user's, as plain JSON-ready data (the streamed file, parsed)."""
    return json.loads("".join(export_json_chunks(user)))


def export_json_chunks(user) -> Iterator[str]:
    """The user's data file, piece by piece: the same text as json.dumps(..., indent=1), but
    never one string in memory. Cards come deck by deck from one query, reviews row by row;
    a fixed number of queries whatever the collection's size."""
    settings = StudySettings.objects.filter(user=user).first()
    header = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(timezone.now()),
        "settings": {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        if settings
        else None,
    }
    notes = DeckNotes(user)
    note_types = note_type_rows(notes)
    if note_types:
        header["note_types"] = note_types
    yield "{\n" + "".join(
        f" {_dump(key, 0)}: {_dump(value, 1)},\n" for key, value in header.items()
    )
    refs: dict[int, str] = {}
    yield from _json_list("decks", _deck_rows(user, refs, notes))
    yield ",\n"
    states = list(MemoryState.objects.filter(user=user).order_by("card_id"))
    reviewed = ReviewLog.objects.filter(user=user).order_by().values_list("card_id", flat=True)
    shared_ids = sorted(({s.card_id for s in states} | set(reviewed.distinct())) - refs.keys())
    shared = Card.objects.filter(pk__in=shared_ids).select_related("deck")
    for i, card in enumerate(shared):
        refs[card.pk] = f"s{i}"
    yield from _json_list("shared_cards", (
        {"deck": card.deck.name, "id": card.pk, "external_id": card.external_id,
         "question": card.question}
        for card in shared
    ))  # fmt: skip
    yield ",\n"
    yield from _json_list("memory_states", sorted(
        ({"card": refs[s.card_id], **_plain(s, STATE_EXPORTED)} for s in states),
        key=lambda row: _ref_key(row["card"]),
    ))  # fmt: skip
    yield ",\n"
    yield from _json_list("review_logs", _log_rows(user, refs))
    yield "\n}"


def _deck_rows(user, refs: dict[int, str], notes: DeckNotes) -> Iterator[dict]:
    """Each own deck with its cards; fills `refs` (card pk -> "d0.c3") on the way."""
    decks = list(Deck.objects.filter(owner=user).order_by("name", "pk"))
    order = {deck.pk: d for d, deck in enumerate(decks)}
    cards = Card.objects.filter(deck__owner=user).order_by("deck__name", "deck_id", "position",
                                                           "pk")  # fmt: skip
    by_deck = groupby(cards.iterator(chunk_size=2000), key=lambda card: card.deck_id)
    pending = next(by_deck, None)
    for d, deck in enumerate(decks):
        rows = []
        notes.start_deck()
        if pending is not None and order[pending[0]] == d:
            for c, card in enumerate(pending[1]):
                refs[card.pk] = f"d{d}.c{c}"
                rows.append(_plain(card, CARD_FIELDS | CARD_OPTIONAL_FIELDS)
                            | notes.card_fields(card))  # fmt: skip
            pending = next(by_deck, None)
        yield {"name": deck.name, "description": deck.description, "is_public": deck.is_public,
               "cards": rows, **notes.deck_fields()}  # fmt: skip


def _log_rows(user, refs: dict[int, str]) -> Iterator[dict]:
    """Each review in time order with its fuzz seed, written out even for older logs that keep
    none, so that an import under new card ids replays to the same intervals."""
    reps = defaultdict(int)
    logs = ReviewLog.objects.filter(user=user).order_by("reviewed_at", "pk")
    for log in logs.iterator(chunk_size=2000):
        seed = fuzz_seed_of(log, log.card_id, reps[log.card_id])
        reps[log.card_id] += 1
        yield {"card": refs[log.card_id], **_plain(log, LOG_FIELDS), "fuzz_seed": seed}


def _dump(value, level: int) -> str:
    """json.dumps(value, indent=1) as it reads `level` levels deep in the file."""
    return json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n" + " " * level)


def _json_list(key: str, rows) -> Iterator[str]:
    """` "key": [ ...rows... ]` with the layout json.dumps(indent=1) gives a top-level list."""
    yield f" {_dump(key, 0)}: ["
    empty = True
    for row in rows:
        yield ("\n  " if empty else ",\n  ") + _dump(row, 2)
        empty = False
    yield "]" if empty else "\n ]"


def _ref_key(ref: str):
    if ref.startswith("s"):
        return (1, int(ref[1:]), 0)
    deck, card = ref[1:].split(".c")
    return (0, int(deck), int(card))


def export_json(user) -> str:
    return "".join(export_json_chunks(user))
