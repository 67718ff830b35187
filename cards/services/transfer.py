"""Moving a user's content in and out: copies of decks, CSV export of a deck, and the "all my
data" JSON file (decks, cards, schedules, review history, settings) with its import.

The JSON file names no database ids and no usernames: a user's own cards are referenced by
position ("d0.c3" = the fourth card of the first deck), and cards of other people's (public)
decks are listed once in `shared_cards` and referenced as "s0", "s1"… So exporting, importing
into another account and exporting again gives the same file apart from `exported_at`.
"""

import csv
import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from cards.services.reviews import fuzz_seed_of

FORMAT = "studyapp.user-data"
VERSION = 1
SETTINGS_FIELDS = [
    "desired_retention", "new_cards_per_day", "reviews_per_day", "learning_steps",
    "relearning_steps", "timezone", "day_start_hour", "maximum_interval", "rating_scale",
    "fsrs_parameters",
]  # fmt: skip
CARD_FIELDS = {
    "question": str, "answer": str, "position": int, "external_id": str, "tags": str,
    "suspended": bool,
}  # fmt: skip
STATE_FIELDS = {
    "state": int, "step": (int, None), "stability": (float, None), "difficulty": (float, None),
    "due": datetime, "last_review": (datetime, None), "reps": int, "lapses": int,
}  # fmt: skip
LOG_FIELDS = {
    "rating": int, "rating_scale": str, "grade": int, "reviewed_at": datetime,
    "duration_ms": int, "state_before": int, "before": dict, "elapsed_days": int,
    "retrievability": (float, None), "state_after": int, "stability_after": (float, None),
    "difficulty_after": (float, None), "due_after": datetime,
}  # fmt: skip


class TransferError(ValueError):
    """A data file that cannot be imported; the message names the place ("decks[1].name")."""


# --- copies and CSV ------------------------------------------------------------------------


def free_deck_name(owner, name: str, suffix: str) -> str:
    """`name`, or `name (suffix)`, `name (suffix 2)`… whichever this owner does not use yet."""
    taken = set(Deck.objects.filter(owner=owner).values_list("name", flat=True))
    if name not in taken:
        return name
    for n in range(1, 10_000):
        label = suffix if n == 1 else f"{suffix} {n}"
        candidate = f"{name[: 200 - len(label) - 3]} ({label})"
        if candidate not in taken:
            return candidate
    raise TransferError(f"too many decks named {name!r}")


def copy_deck(deck: Deck, owner) -> Deck:
    """A private copy of a deck for `owner`: the cards, none of anyone's history."""
    with transaction.atomic():
        copy = Deck.objects.create(
            owner=owner,
            name=free_deck_name(owner, deck.name, "copy"),
            description=deck.description,
        )
        Card.objects.bulk_create(
            [
                Card(
                    deck=copy,
                    question=c.question,
                    answer=c.answer,
                    position=c.position,
                    external_id=c.external_id,
                    tags=c.tags,
                    suspended=c.suspended,
                    question_html=c.question_html,
                    answer_html=c.answer_html,
                )  # fmt: skip
                for c in deck.cards.order_by("position", "pk")
            ],
            batch_size=1000,
        )
    return copy


def next_position(deck: Deck) -> int:
    return (deck.cards.aggregate(last=Max("position"))["last"] or 0) + 1


def deck_csv(deck: Deck) -> str:
    """The deck as the CSV that import_cards and the web import read back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "answer", "id", "tags"])
    for card in deck.cards.order_by("position", "pk").iterator(chunk_size=2000):
        writer.writerow([card.question, card.answer, card.external_id, card.tags])
    return out.getvalue()


# --- JSON export ---------------------------------------------------------------------------


def _iso(value):
    return value.astimezone(UTC).isoformat() if value is not None else None


def _plain(obj, fields):
    return {
        name: _iso(getattr(obj, name)) if kind is datetime or kind == (datetime, None)
        else getattr(obj, name)
        for name, kind in fields.items()
    }  # fmt: skip


def _fuzz_seeds(logs) -> list[str]:
    """Each log's fuzz seed (logs in time order), written out even for older logs that keep
    none, so that an import under new card ids replays to the same intervals."""
    reps = defaultdict(int)
    seeds = []
    for log in logs:
        seeds.append(fuzz_seed_of(log, log.card_id, reps[log.card_id]))
        reps[log.card_id] += 1
    return seeds


def export_user_data(user) -> dict:
    """Everything that is the user's, as plain JSON-ready data. Fixed number of queries."""
    settings = StudySettings.objects.filter(user=user).first()
    refs: dict[int, str] = {}
    decks = []
    own = Deck.objects.filter(owner=user).order_by("name", "pk")
    cards_by_deck: dict[int, list] = {}
    for card in Card.objects.filter(deck__owner=user).order_by("position", "pk"):
        cards_by_deck.setdefault(card.deck_id, []).append(card)
    for d, deck in enumerate(own):
        cards = cards_by_deck.get(deck.pk, [])
        for c, card in enumerate(cards):
            refs[card.pk] = f"d{d}.c{c}"
        decks.append(
            {
                "name": deck.name,
                "description": deck.description,
                "is_public": deck.is_public,
                "cards": [_plain(card, CARD_FIELDS) for card in cards],
            }
        )
    states = list(MemoryState.objects.filter(user=user).order_by("card_id"))
    logs = list(ReviewLog.objects.filter(user=user).order_by("reviewed_at", "pk"))
    shared_ids = sorted({row.card_id for row in [*states, *logs]} - refs.keys())
    shared = []
    for i, card in enumerate(Card.objects.filter(pk__in=shared_ids).select_related("deck")):
        refs[card.pk] = f"s{i}"
        shared.append(
            {"deck": card.deck.name, "id": card.pk, "external_id": card.external_id,
             "question": card.question}
        )  # fmt: skip
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(timezone.now()),
        "settings": {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        if settings
        else None,
        "decks": decks,
        "shared_cards": shared,
        "memory_states": sorted(
            ({"card": refs[s.card_id], **_plain(s, STATE_FIELDS)} for s in states),
            key=lambda row: _ref_key(row["card"]),
        ),
        "review_logs": [
            {"card": refs[log.card_id], **_plain(log, LOG_FIELDS), "fuzz_seed": seed}
            for log, seed in zip(logs, _fuzz_seeds(logs), strict=True)
        ],
    }


def _ref_key(ref: str):
    if ref.startswith("s"):
        return (1, int(ref[1:]), 0)
    deck, card = ref[1:].split(".c")
    return (0, int(deck), int(card))


def export_json(user) -> str:
    return json.dumps(export_user_data(user), ensure_ascii=False, indent=1)


# --- JSON import ---------------------------------------------------------------------------


@dataclass
class ImportSummary:
    decks: int = 0
    cards: int = 0
    states: int = 0
    logs: int = 0
    settings: bool = False
    skipped_logs: int = 0
    renamed: list[str] = field(default_factory=list)

    def message(self) -> str:
        text = (
            f"Imported {self.decks} decks, {self.cards} cards, {self.logs} reviews and "
            f"{self.states} card schedules"
        )
        text += ", and your settings." if self.settings else "."
        if self.renamed:
            text += f" Renamed to avoid a clash: {', '.join(self.renamed)}."
        if self.skipped_logs:
            text += (
                f" Left out {self.skipped_logs} reviews of shared cards that are not on this "
                "site or that you already study here."
            )
        return text


_KIND_NAMES = {
    str: "text", int: "a whole number", float: "a number", bool: "true or false",
    dict: "an object", datetime: "a date and time", list: "a list", None: "null",
}  # fmt: skip


# What the columns hold on every database: PositiveIntegerField's range and CharField lengths.
_MAX_INT = 2**31 - 1
_MAX_LENGTH = {
    "external_id": 100, "tags": 500, "rating_scale": 4, "timezone": 64, "fuzz_seed": 64,
}  # fmt: skip


def _value(obj, name, kind, where):
    if not isinstance(obj, dict) or name not in obj:
        raise TransferError(f"{where}: {name} is missing")
    value = obj[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None and None in kinds:
        return None
    if datetime in kinds and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise TransferError(f"{where}.{name}: {value!r} is not a date and time") from None
        if parsed.tzinfo is None:
            raise TransferError(f"{where}.{name}: {value!r} has no time zone")
        return parsed
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if int in kinds and isinstance(value, bool):
        raise TransferError(f"{where}.{name}: expected a number, found {value!r}")
    for k in kinds:
        if k not in (None, datetime) and isinstance(value, k):
            if k is int and value < 0 and name != "elapsed_days":
                raise TransferError(f"{where}.{name}: must not be negative")
            if k is float and not math.isfinite(value):
                raise TransferError(f"{where}.{name}: {value!r} is not a finite number")
            if k is int and abs(value) > _MAX_INT:
                raise TransferError(f"{where}.{name}: {value} is too large")
            if k is str and len(value) > _MAX_LENGTH.get(name, len(value)):
                raise TransferError(f"{where}.{name}: longer than {_MAX_LENGTH[name]} characters")
            return value
    expected = " or ".join(_KIND_NAMES[k] for k in kinds)
    raise TransferError(f"{where}.{name}: expected {expected}, found {value!r}")


def _fields(obj, fields, where):
    return {name: _value(obj, name, kind, where) for name, kind in fields.items()}


def parse_user_data(data: bytes) -> dict:
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise TransferError("the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise TransferError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise TransferError(f'this is not a {FORMAT} file (no "format": "{FORMAT}")')
    if payload.get("version") != VERSION:
        raise TransferError(f"version {payload.get('version')!r} is not one this site reads")
    for name in ("decks", "shared_cards", "memory_states", "review_logs"):
        if not isinstance(payload.get(name), list):
            raise TransferError(f"{name}: expected a list")
    return payload


def import_user_data(user, payload: dict) -> ImportSummary:
    """Add the file's decks, schedules, history and settings to `user`'s account, all or
    nothing. Decks whose names the account already uses get " (imported)" added."""
    summary = ImportSummary()
    with transaction.atomic():
        if payload.get("settings") is not None:
            _import_settings(user, payload["settings"])
            summary.settings = True
        cards = _import_decks(user, payload["decks"], summary)
        cards.update(_resolve_shared(user, payload["shared_cards"]))
        studied = set(
            MemoryState.objects.filter(user=user, card_id__in=[c.pk for c in cards.values()])
            .values_list("card_id", flat=True)
        )  # fmt: skip
        states = []
        for i, row in enumerate(payload["memory_states"]):
            card = _card(cards, row, f"memory_states[{i}]")
            if card is None or card.pk in studied:
                continue
            fields = _fields(row, STATE_FIELDS, f"memory_states[{i}]")
            states.append(MemoryState.of(user, card, **fields))
        MemoryState.objects.bulk_create(states, batch_size=1000)
        logs = []
        for i, row in enumerate(payload["review_logs"]):
            card = _card(cards, row, f"review_logs[{i}]")
            if card is None or card.pk in studied:
                summary.skipped_logs += 1
                continue
            fields = _fields(row, LOG_FIELDS, f"review_logs[{i}]")
            # Optional (files from before it existed): the seed keeps the replay's intervals
            # when the cards get new ids here.
            if row.get("fuzz_seed") is not None:
                fields["fuzz_seed"] = _value(row, "fuzz_seed", str, f"review_logs[{i}]")
            logs.append(ReviewLog(user=user, card=card, deck_id=card.deck_id, **fields))
        ReviewLog.objects.bulk_create(logs, batch_size=1000)
        summary.states, summary.logs = len(states), len(logs)
    return summary


def _import_settings(user, data):
    if not isinstance(data, dict):
        raise TransferError("settings: expected an object")
    settings, _ = StudySettings.objects.get_or_create(user=user)
    for name in SETTINGS_FIELDS:
        if name in data:
            setattr(settings, name, data[name])
    try:
        settings.full_clean(exclude=["user"])
    except ValidationError as exc:
        name, errors = next(iter(exc.message_dict.items()))
        raise TransferError(f"settings.{name}: {' '.join(errors)}") from None
    settings.save()


def _import_decks(user, decks, summary) -> dict[str, Card]:
    cards: dict[str, Card] = {}
    for d, data in enumerate(decks):
        where = f"decks[{d}]"
        name = _value(data, "name", str, where).strip()[:200]
        if not name:
            raise TransferError(f"{where}.name: the deck has no name")
        free = free_deck_name(user, name, "imported")
        if free != name:
            summary.renamed.append(free)
        deck = Deck.objects.create(
            owner=user,
            name=free,
            description=_value(data, "description", str, where),
            is_public=_value(data, "is_public", bool, where) and user.is_staff,
        )
        rows = _value(data, "cards", list, where)
        new = []
        for c, row in enumerate(rows):
            fields = _fields(row, CARD_FIELDS, f"{where}.cards[{c}]")
            if not fields["question"].strip():
                raise TransferError(f"{where}.cards[{c}].question: the question is empty")
            card = Card(deck=deck, **fields)
            card.render()
            new.append(card)
            cards[f"d{d}.c{c}"] = card
        ids = [card.external_id for card in new if card.external_id]
        if len(ids) != len(set(ids)):
            raise TransferError(f"{where}.cards: two cards share an external_id")
        Card.objects.bulk_create(new, batch_size=1000)
        summary.decks += 1
        summary.cards += len(new)
    return cards


def _resolve_shared(user, shared) -> dict[str, Card | None]:
    """Cards of other people's decks, found by id (same site) or by deck name and question."""
    visible = Deck.objects.visible_to(user)
    wanted = {}
    for i, row in enumerate(shared):
        where = f"shared_cards[{i}]"
        wanted[f"s{i}"] = (
            _value(row, "id", (int, None), where),
            _value(row, "deck", str, where),
            _value(row, "question", str, where),
        )
    by_id = Card.objects.filter(
        deck__in=visible, pk__in=[w[0] for w in wanted.values() if w[0] is not None]
    ).select_related("deck")
    by_id = {card.pk: card for card in by_id}
    found = {}
    for ref, (card_id, deck_name, question) in wanted.items():
        card = by_id.get(card_id)
        if card is None or card.question != question:
            card = (
                Card.objects.filter(deck__in=visible, deck__name=deck_name, question=question)
                .exclude(deck__owner=user)
                .first()
            )
        found[ref] = card
    return found


def _card(cards, row, where) -> Card | None:
    ref = _value(row, "card", str, where)
    if ref not in cards:
        raise TransferError(f"{where}.card: {ref!r} names no card in this file")
    return cards[ref]
