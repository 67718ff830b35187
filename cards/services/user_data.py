"""The "all my data" JSON file: its format, how it is read, and the checks an import runs on
every row before it writes anything.

Types are checked here (the file is typed JSON: "3" is not a number); every value is then
checked by its model's own validators (Model.clean_fields and clean), so the import refuses
exactly what the settings form, the admin and the other importers refuse. A schema library
(pydantic) would have been a second definition of the same ranges, so it is not used.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from itertools import accumulate

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from cards.validators import INT_MAX

FORMAT = "studyapp.user-data"
VERSION = 1
SETTINGS_FIELDS = {
    "desired_retention": float, "new_cards_per_day": int, "reviews_per_day": int,
    "learning_steps": list, "relearning_steps": list, "timezone": str, "day_start_hour": int,
    "learn_ahead_minutes": int, "maximum_interval": int, "rating_scale": str,
    "fsrs_parameters": list, "leech_threshold": int, "leech_action": str,
    "bury_new_siblings": bool, "bury_review_siblings": bool, "bury_interday_siblings": bool,
}  # fmt: skip
DECK_FIELDS = {"name": str, "description": str, "is_public": bool, "cards": list}
CARD_FIELDS = {
    "question": str, "answer": str, "position": int, "external_id": str, "tags": str,
    "suspended": bool,
}  # fmt: skip
# The text as an import file had it before the importer cleaned it up (Card.imported_*).
# Exported always, optional on import: files written before they existed still read.
CARD_OPTIONAL_FIELDS = {"imported_question": str, "imported_answer": str}
SHARED_FIELDS = {"id": (int, None), "deck": str, "question": str}
STATE_FIELDS = {
    "state": int, "step": (int, None), "stability": (float, None), "difficulty": (float, None),
    "due": datetime, "last_review": (datetime, None), "reps": int, "lapses": int,
}  # fmt: skip
# The learner's own marks (MemoryState.suspended …): exported always, optional on import.
STATE_OPTIONAL_FIELDS = {
    "suspended": bool, "buried_until": (datetime, None), "flag": int, "leech": bool,
}  # fmt: skip
LOG_FIELDS = {
    "rating": int, "rating_scale": str, "grade": int, "reviewed_at": datetime,
    "duration_ms": int, "state_before": int, "before": dict, "elapsed_days": int,
    "retrievability": (float, None), "state_after": int, "stability_after": (float, None),
    "difficulty_after": (float, None), "due_after": datetime,
}  # fmt: skip
# At most this many problems are listed; the file is refused at the first one anyway.
MAX_PROBLEMS = 10


class TransferError(ValueError):
    """A data file that cannot be imported; the message names the place ("decks[1].name")."""


class HugeNumber:
    """An integer literal too long to be any column's value. Kept, not converted (Python
    refuses int() of more than 4,300 digits), so that the check names its field."""

    def __init__(self, digits: str):
        self.length = len(digits.lstrip("-"))

    def __repr__(self):
        return f"a {self.length}-digit number"


def _parse_int(digits: str):
    return int(digits) if len(digits) <= 40 else HugeNumber(digits)


# A JSON string, closed or running to the end of the text: it can never fail once started, so
# a file of unclosed strings and escapes is one linear pass (no retry at every quote).
_STRING_PATTERN = r'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)'
_STRING = re.compile(_STRING_PATTERN)
# A string (skipped: brackets inside it do not nest) or a bracket.
_TOKEN = re.compile(_STRING_PATTERN + r"|[\[\]{}]")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str, limit: int) -> int | None:
    """Offset of the first bracket nested deeper than `limit`, else None. No recursion: the
    json module itself recurses and raises RecursionError on a deep enough file."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= limit:
        return None
    depth = 0
    for match in _TOKEN.finditer(text):  # only on a refused file: find where
        depth += _STEP.get(match[0], 0)
        if depth > limit:
            return match.start()
    return None


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line}, column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def load_json(data: bytes):
    """The file's JSON value; TransferError naming the line for anything json cannot take."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TransferError("the file is not UTF-8 text") from None
    limit = django_settings.IMPORT_JSON_MAX_DEPTH
    offset = _too_deep(text, limit)
    if offset is not None:
        raise TransferError(f"{_line_col(text, offset)}: nested more than {limit} levels deep")
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise TransferError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise TransferError(f"the file cannot be read as JSON ({exc})") from None


def parse_user_data(data: bytes) -> dict:
    payload = load_json(data)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise TransferError(f'this is not a {FORMAT} file (no "format": "{FORMAT}")')
    if payload.get("version") != VERSION:
        raise TransferError(f"version {payload.get('version')!r} is not one this site reads")
    for name in ("decks", "shared_cards", "memory_states", "review_logs"):
        if not isinstance(payload.get(name), list):
            raise TransferError(f"{name}: expected a list")
    return payload


class Problems:
    """What is wrong with a file, each as "place: reason"; the import writes only if none."""

    def __init__(self):
        self.items: list[str] = []
        self.more = 0

    def add(self, where: str, reason: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"{where}: {reason}")
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.items:
            more = f"; and {self.more} more" if self.more else ""
            raise TransferError("; ".join(self.items) + more)


_KIND_NAMES = {
    str: "text", int: "a whole number", float: "a number", bool: "true or false",
    dict: "an object", datetime: "a date and time", list: "a list", None: "null",
}  # fmt: skip


def _datetime(value: str) -> datetime | str:
    """The aware instant in UTC, or the reason it is not one."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date and time"
    if parsed.tzinfo is None:
        return f"{value!r} has no time zone"
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return f"{value!r} is out of range"


def _typed(value, kinds: tuple):
    """(converted value, None) or (None, reason) for one JSON value of the expected kind."""
    if value is None and None in kinds:
        return None, None
    if isinstance(value, HugeNumber):
        return None, f"{value!r} is too large"
    if datetime in kinds and isinstance(value, str):
        parsed = _datetime(value)
        return (parsed, None) if isinstance(parsed, datetime) else (None, parsed)
    if isinstance(value, bool) and bool not in kinds:
        return None, f"expected {_expected(kinds)}, found {value!r}"
    if float in kinds and isinstance(value, int):
        return float(value), None
    if int in kinds and isinstance(value, int) and abs(value) > INT_MAX:
        return None, f"{value} is too large"
    if float in kinds and isinstance(value, float) and not math.isfinite(value):
        return None, f"{value!r} is not a finite number"
    if any(k not in (None, datetime) and isinstance(value, k) for k in kinds):
        return value, None
    return None, f"expected {_expected(kinds)}, found {_short(value)}"


def _expected(kinds) -> str:
    return " or ".join(_KIND_NAMES[k] for k in kinds)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def typed_fields(obj, fields: dict, where: str, problems: Problems, optional=False):
    """The row's fields converted to Python values, or None if any is missing or of the wrong
    kind (each problem added). With `optional`, absent fields are left out."""
    if not isinstance(obj, dict):
        problems.add(where, f"expected an object, found {_short(obj)}")
        return None
    out, ok = {}, True
    for name, kind in fields.items():
        if name not in obj:
            if not optional:
                problems.add(where, f"{name} is missing")
                ok = False
            continue
        value, reason = _typed(obj[name], kind if isinstance(kind, tuple) else (kind,))
        if reason:
            problems.add(f"{where}.{name}", reason)
            ok = False
        out[name] = value
    return out if ok else None


def check_instance(instance, where: str, problems: Problems, exclude=()) -> bool:
    """Run the model's own field validators and clean(); each failure named by its path."""
    try:
        instance.clean_fields(exclude=list(exclude))
        instance.clean()
    except ValidationError as exc:
        for name, errors in exc.error_dict.items():
            place = where if name == "__all__" else f"{where}.{name}"
            for error in errors:
                problems.add(place, _reason(error))
        return False
    return True


def _reason(error: ValidationError) -> str:
    if error.code == "max_length" and error.params and "limit_value" in error.params:
        return f"longer than {error.params['limit_value']} characters"
    message = error.messages[0]
    return message[:1].lower() + message[1:].rstrip(".")
