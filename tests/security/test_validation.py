"""Validation on the models (cards/validators.py): every field of StudySettings, ReviewLog,
MemoryState and the text of Card and Deck, each class of bad value, refused by full_clean()
naming the field; then the same values through every path that writes them — the JSON data
import (function and web view), the revlog import, restore_site, the settings form and the
admin — each refused naming the place, nothing written."""

import json
import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from cards.services.transfer import TransferError, import_user_data, parse_user_data
from cards.services.user_data import CARD_FIELDS, LOG_FIELDS, SETTINGS_FIELDS, STATE_FIELDS
from cards.validators import INT_MAX, MAX_STEP_SECONDS, SMALLINT_MAX
from tests.conftest import make_user
from tests.security.test_import_repros import payload, refused
from tests.security.urlwalk import db_fingerprint, diff_fingerprints

NOW = timezone.now().replace(microsecond=0)
GOOD_W = [0.2, 1.3, 2.3, 8.3, 6.4, 0.8, 3.0, 0.001, 1.9, 0.2, 0.8, 1.5, 0.06, 0.26, 1.6, 0.6,
          1.9, 0.5, 0.1, 0.1, 0.15]  # fmt: skip
NAN, INF = math.nan, math.inf
CARD_LIMIT = 50  # CARD_TEXT_MAX_CHARS in these tests


def at(year, month=1, day=1):
    return datetime(year, month, day, tzinfo=UTC)


def weights(index, value):
    return [value if i == index else w for i, w in enumerate(GOOD_W)]


# (model, field, bad value, class of badness). Every field of the three scheduling models.
MATRIX = [
    # StudySettings
    (StudySettings, "desired_retention", "high", "wrong type"),
    (StudySettings, "desired_retention", 0.5, "too low"),
    (StudySettings, "desired_retention", 5.0, "too high"),
    (StudySettings, "desired_retention", NAN, "NaN"),
    (StudySettings, "desired_retention", INF, "inf"),
    (StudySettings, "new_cards_per_day", -1, "too low"),
    (StudySettings, "new_cards_per_day", 10_000, "too high"),
    (StudySettings, "new_cards_per_day", "many", "wrong type"),
    (StudySettings, "reviews_per_day", -1, "too low"),
    (StudySettings, "reviews_per_day", 100_000, "too high"),
    (StudySettings, "learning_steps", "abc", "wrong type"),
    (StudySettings, "learning_steps", [-60], "too low"),
    (StudySettings, "learning_steps", [MAX_STEP_SECONDS + 1], "too high"),
    (StudySettings, "learning_steps", [1.5], "wrong type"),
    (StudySettings, "learning_steps", [True], "wrong type"),
    (StudySettings, "learning_steps", [60] * 11, "too long"),
    (StudySettings, "relearning_steps", {"a": 1}, "wrong type"),
    (StudySettings, "relearning_steps", [0], "too low"),
    (StudySettings, "timezone", "Mars/Olympus_Mons", "unknown zone"),
    (StudySettings, "timezone", "../../../etc/passwd", "path-like zone"),
    (StudySettings, "timezone", "localtime", "server zone"),
    (StudySettings, "timezone", "UTC\x00", "NUL"),
    (StudySettings, "timezone", "x" * 65, "too long"),
    (StudySettings, "day_start_hour", -1, "too low"),
    (StudySettings, "day_start_hour", 24, "too high"),
    (StudySettings, "day_start_hour", 99, "too high"),
    (StudySettings, "learn_ahead_minutes", -1, "too low"),
    (StudySettings, "learn_ahead_minutes", 1441, "too high"),
    (StudySettings, "maximum_interval", 0, "too low"),
    (StudySettings, "maximum_interval", 36_501, "too high"),
    (StudySettings, "rating_scale", "seven", "not a choice"),
    (StudySettings, "fsrs_parameters", "x", "wrong type"),
    (StudySettings, "fsrs_parameters", [1, 2], "wrong length"),
    (StudySettings, "fsrs_parameters", GOOD_W[:19], "wrong length (FSRS-5)"),
    (StudySettings, "fsrs_parameters", [*GOOD_W, 0.1], "wrong length"),
    (StudySettings, "fsrs_parameters", weights(3, NAN), "NaN"),
    (StudySettings, "fsrs_parameters", weights(3, INF), "inf"),
    (StudySettings, "fsrs_parameters", weights(0, -1.0), "too low"),
    (StudySettings, "fsrs_parameters", weights(0, 1e9), "too high"),
    (StudySettings, "fsrs_parameters", weights(20, 0.0), "decay zero"),
    (StudySettings, "fsrs_parameters", weights(5, "a"), "wrong type"),
    (StudySettings, "leech_threshold", -1, "too low"),
    (StudySettings, "leech_threshold", 1000, "too high"),
    (StudySettings, "leech_action", "delete", "not a choice"),
    (StudySettings, "bury_new_siblings", "maybe", "not a boolean"),
    (StudySettings, "bury_review_siblings", "maybe", "not a boolean"),
    (StudySettings, "bury_interday_siblings", None, "not a boolean"),
    (StudySettings, "boost_day", "soon", "wrong type"),
    (StudySettings, "boost_new", -1, "too low"),
    (StudySettings, "boost_reviews", INT_MAX + 1, "too high"),
    # ReviewLog
    (ReviewLog, "rating", 0, "too low"),
    (ReviewLog, "rating", 6, "too high"),
    (ReviewLog, "rating", 40_000, "smallint"),
    (ReviewLog, "rating_scale", "seven", "not a choice"),
    (ReviewLog, "grade", 0, "too low"),
    (ReviewLog, "grade", 9, "too high"),
    (ReviewLog, "reviewed_at", at(1960), "too early"),
    (ReviewLog, "reviewed_at", at(3000), "too late"),
    (ReviewLog, "reviewed_at", NOW + timedelta(days=2), "future"),
    (ReviewLog, "duration_ms", -1, "too low"),
    (ReviewLog, "duration_ms", INT_MAX + 1, "too high"),
    (ReviewLog, "review_token", "t\x00", "NUL"),
    (ReviewLog, "review_token", "t" * 65, "too long"),
    (ReviewLog, "fuzz_seed", "1:0\x00", "NUL"),
    (ReviewLog, "fuzz_seed", "1" * 65, "too long"),
    (ReviewLog, "state_before", 4, "not a choice"),
    (ReviewLog, "state_before", 40_000, "smallint"),
    (ReviewLog, "before", [], "wrong type"),
    (ReviewLog, "before", {"exists": True, "state": 2}, "incomplete"),
    (ReviewLog, "elapsed_days", INT_MAX + 1, "too high"),
    (ReviewLog, "retrievability", -0.1, "too low"),
    (ReviewLog, "retrievability", 1.1, "too high"),
    (ReviewLog, "retrievability", NAN, "NaN"),
    (ReviewLog, "state_after", 99, "not a choice"),
    (ReviewLog, "stability_after", 0.0, "too low"),
    (ReviewLog, "stability_after", INF, "inf"),
    (ReviewLog, "difficulty_after", 0.5, "too low"),
    (ReviewLog, "difficulty_after", 11.0, "too high"),
    (ReviewLog, "difficulty_after", NAN, "NaN"),
    (ReviewLog, "due_after", at(2300), "too late"),
    (ReviewLog, "due_after", at(1960), "too early"),
    # MemoryState
    (MemoryState, "state", 99, "not a choice"),
    (MemoryState, "step", -1, "too low"),
    (MemoryState, "step", SMALLINT_MAX + 1, "smallint"),
    (MemoryState, "stability", 0.0, "too low"),
    (MemoryState, "stability", NAN, "NaN"),
    (MemoryState, "stability", INF, "inf"),
    (MemoryState, "difficulty", 0.0, "too low"),
    (MemoryState, "difficulty", 11.0, "too high"),
    (MemoryState, "due", at(2300), "too late"),
    (MemoryState, "last_review", at(3000), "too late"),
    (MemoryState, "reps", -1, "too low"),
    (MemoryState, "lapses", INT_MAX + 1, "too high"),
    (MemoryState, "version", -1, "too low"),
    (MemoryState, "suspended", "maybe", "wrong type"),
    (MemoryState, "buried_until", at(2300), "too late"),
    (MemoryState, "flag", 8, "not a choice"),
    (MemoryState, "leech", "maybe", "wrong type"),
    # Card and Deck text
    (Card, "question", "Q\x00", "NUL"),
    (Card, "question", "q" * (CARD_LIMIT + 1), "too long"),
    (Card, "answer", "A\x00", "NUL"),
    (Card, "answer", "a" * (CARD_LIMIT + 1), "too long"),
    (Card, "external_id", "x\x00", "NUL"),
    (Card, "external_id", "x" * 101, "too long"),
    (Card, "tags", "t\x00", "NUL"),
    (Card, "position", -1, "too low"),
    (Card, "position", INT_MAX + 1, "too high"),
    (Deck, "name", "D\x00", "NUL"),
    (Deck, "name", "d" * 201, "too long"),
    (Deck, "description", "x\x00", "NUL"),
]


def _id(row):
    model, name, _, kind = row
    return f"{model.__name__}.{name}-{kind}"


ROWS = [pytest.param(*row, id=_id(row)) for row in MATRIX]


@pytest.fixture
def base(db):
    user = make_user("vera")
    deck = Deck.objects.create(owner=user, name="D")
    card = Card.objects.create(deck=deck, question="Q", answer="A", external_id="c1")
    return SimpleNamespace(user=user, deck=deck, card=card)


def build(model, base):
    """A valid, unsaved instance of `model`."""
    if model is StudySettings:
        return StudySettings(user=base.user)
    if model is ReviewLog:
        return ReviewLog(
            user=base.user, card=base.card, deck=base.deck, rating=4, rating_scale="five",
            grade=3, reviewed_at=NOW - timedelta(days=3), state_before=0,
            before={"exists": False}, state_after=2, stability_after=3.0, difficulty_after=5.0,
            due_after=NOW + timedelta(days=4),
        )  # fmt: skip
    if model is MemoryState:
        return MemoryState(
            user=base.user, card=base.card, deck=base.deck, state=2, stability=3.0,
            difficulty=5.0, due=NOW + timedelta(days=4), last_review=NOW - timedelta(days=3),
        )  # fmt: skip
    if model is Card:
        return Card(deck=base.deck, question="Q2", answer="A2")
    return Deck(owner=base.user, name="E")


@override_settings(CARD_TEXT_MAX_CHARS=CARD_LIMIT)
@pytest.mark.parametrize("model", [StudySettings, ReviewLog, MemoryState, Card, Deck])
def test_the_valid_instances_pass(base, model):
    build(model, base).full_clean()


@override_settings(CARD_TEXT_MAX_CHARS=CARD_LIMIT)
@pytest.mark.parametrize("model, name, value, kind", ROWS)
def test_full_clean_names_the_field(base, model, name, value, kind):
    instance = build(model, base)
    setattr(instance, name, value)
    with pytest.raises(ValidationError) as caught:
        instance.full_clean(validate_constraints=False)
    assert name in caught.value.message_dict, caught.value.message_dict


def test_every_field_of_the_scheduling_models_is_in_the_matrix():
    covered = {(model, name) for model, name, _, _ in MATRIX}
    skip = {"id", "user", "card", "deck", "updated_at", "studyable"}
    for model in (StudySettings, ReviewLog, MemoryState):
        for field in model._meta.fields:
            if field.name not in skip:
                assert (model, field.name) in covered, f"{model.__name__}.{field.name}"


def test_a_rating_off_its_scale_is_refused(base):
    log = build(ReviewLog, base)
    log.rating_scale, log.rating = "four", 5
    with pytest.raises(ValidationError, match="out of range for the four-point scale"):
        log.full_clean()


def test_a_reviewed_state_needs_its_memory(base):
    state = build(MemoryState, base)
    state.stability = None
    with pytest.raises(ValidationError) as caught:
        state.full_clean()
    assert "stability" in caught.value.message_dict


# --- the JSON data import: the function and the web view ------------------------------------

# Where each model's row sits in the file; the deck name is cut to 200 characters on import.
PLACE = {StudySettings: "settings", ReviewLog: "review_logs__0", MemoryState: "memory_states__0",
         Card: "decks__0__cards__0", Deck: "decks__0"}  # fmt: skip
IN_FILE = {StudySettings: set(SETTINGS_FIELDS), ReviewLog: {*LOG_FIELDS, "fuzz_seed"},
           MemoryState: set(STATE_FIELDS), Card: set(CARD_FIELDS),
           Deck: {"name", "description"}}  # fmt: skip
JSON_ROWS = [
    row
    for row in ROWS
    if row.values[1] in IN_FILE[row.values[0]] and row.id != "Deck.name-too long"
]


def _json_value(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _bad_file(model, name, value) -> bytes:
    if model is StudySettings:
        data = payload(settings={name: _json_value(value)})
    else:
        data = payload(**{f"{PLACE[model]}__{name}": _json_value(value)})
    return json.dumps(data).encode()  # NaN and Infinity as JSON's common extension


def _path(model, name) -> str:
    parts = PLACE[model].split("__")
    text = parts[0] + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts[1:])
    return f"{text}.{name}"


@override_settings(CARD_TEXT_MAX_CHARS=CARD_LIMIT)
@pytest.mark.parametrize("model, name, value, kind", JSON_ROWS)
def test_the_data_import_names_the_field(base, model, name, value, kind):
    before = db_fingerprint()
    with pytest.raises(TransferError) as caught:
        import_user_data(base.user, parse_user_data(_bad_file(model, name, value)))
    assert f"{_path(model, name)}" in str(caught.value)
    assert diff_fingerprints(before, db_fingerprint()) == []


@override_settings(CARD_TEXT_MAX_CHARS=CARD_LIMIT)
@pytest.mark.parametrize("model, name, value, kind", JSON_ROWS)
def test_the_data_import_page_names_the_field(client, base, model, name, value, kind):
    client.force_login(base.user)
    refused(client, _bad_file(model, name, value), _path(model, name))


# --- the revlog import (import_revlog) ------------------------------------------------------

REVLOG = [
    ("review_rating", "0", "review_rating '0' must be 1, 2, 3 or 4"),
    ("review_rating", "5", "review_rating '5' must be 1, 2, 3 or 4"),
    ("review_rating", "x", "review_rating 'x' must be 1, 2, 3 or 4"),
    ("review_time", "-1", "review_time -1 is not after 1970"),
    ("review_time", "x", "review_time 'x' is not a whole number"),
    ("review_time", str(10**16), f"review_time {10**16} (after the year 9999) is in the future"),
    ("review_time", str(10**40), "is not a whole number of milliseconds"),
    ("review_duration", "-1", "review_duration '-1' must be a whole number"),
    ("review_duration", str(INT_MAX + 1), "must be a whole number of milliseconds"),
]


@pytest.mark.parametrize("column, value, message", REVLOG)
def test_the_revlog_import_names_the_row_and_column(base, tmp_path, column, value, message):
    StudySettings.objects.create(user=base.user)
    row = {"card_id": "c1", "review_time": str(int(NOW.timestamp() * 1000) - 1000),
           "review_rating": "3", "review_duration": "1000"}  # fmt: skip
    row[column] = value
    path = tmp_path / "revlog.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n")
    before = db_fingerprint()
    with pytest.raises(CommandError) as caught:
        call_command("import_revlog", str(path), "--user", "vera", "--deck", "D", stdout=None)
    assert "row 2: " in str(caught.value) and message in str(caught.value)
    assert diff_fingerprints(before, db_fingerprint()) == []


# --- restore_site ---------------------------------------------------------------------------

RESTORE = [
    ("cards.studysettings", "timezone", "Mars/Olympus_Mons"),
    ("cards.studysettings", "fsrs_parameters", [1, 2]),
    ("cards.studysettings", "learning_steps", [-60]),
    ("cards.reviewlog", "grade", 9),
    ("cards.reviewlog", "reviewed_at", "3000-01-01T00:00:00Z"),
    ("cards.memorystate", "state", 99),
    ("cards.memorystate", "stability", -1.0),
    ("cards.card", "question", "Q\x00"),
    ("cards.deck", "name", "D\x00"),
]


@pytest.fixture
def site_backup(base, tmp_path):
    StudySettings.objects.create(user=base.user)
    build(ReviewLog, base).save()
    build(MemoryState, base).save()
    path = tmp_path / "site.json"
    call_command("backup_site", "--output", str(path), "--format", "json", verbosity=0)
    return path


@pytest.mark.parametrize("label, name, value", RESTORE)
def test_restore_site_names_the_row_and_field(site_backup, label, name, value):
    rows = json.loads(site_backup.read_text())
    row = next(row for row in rows if row["model"] == label)
    row["fields"][name] = value
    site_backup.write_text(json.dumps(rows))
    before = db_fingerprint()
    with pytest.raises(CommandError, match=rf"{label} {row['pk']}: {name}: "):
        call_command("restore_site", str(site_backup), "--yes")
    assert diff_fingerprints(before, db_fingerprint()) == []


# --- the settings form and the admin --------------------------------------------------------

FORM_OK = {"desired_retention": "0.9", "new_cards_per_day": "20", "reviews_per_day": "200",
           "learning_steps": "1m 10m", "relearning_steps": "10m", "timezone": "UTC",
           "day_start_hour": "4", "learn_ahead_minutes": "20", "maximum_interval": "36500",
           "rating_scale": "five", "leech_threshold": "8", "leech_action": "tag"}  # fmt: skip
FORM_BAD = [
    ("desired_retention", "0.5"), ("desired_retention", "5"), ("desired_retention", "nan"),
    ("desired_retention", "inf"), ("new_cards_per_day", "-1"), ("new_cards_per_day", "10000"),
    ("reviews_per_day", "100000"), ("learning_steps", "abc"), ("learning_steps", "-60"),
    ("learning_steps", "31d"), ("learning_steps", " ".join(["1m"] * 11)),
    ("relearning_steps", "0s"), ("timezone", "Mars/Olympus_Mons"),
    ("timezone", "../../../etc/passwd"), ("day_start_hour", "24"), ("day_start_hour", "-1"),
    ("maximum_interval", "0"), ("maximum_interval", "36501"), ("rating_scale", "seven"),
    ("leech_threshold", "-1"), ("leech_threshold", "1000"), ("leech_action", "delete"),
]  # fmt: skip


@pytest.mark.parametrize("name, value", FORM_BAD)
def test_the_settings_form_names_the_field(client, base, name, value):
    client.force_login(base.user)
    assert client.post("/settings/", FORM_OK).status_code == 302  # the good data is good
    before = db_fingerprint()
    response = client.post("/settings/", {**FORM_OK, name: value})
    assert response.status_code == 200
    assert name in response.context["form"].errors
    assert diff_fingerprints(before, db_fingerprint()) == []


ADMIN_OK = {**FORM_OK, "learning_steps": "[60, 600]", "relearning_steps": "[600]",
            "boost_new": "0", "boost_reviews": "0"}  # fmt: skip
ADMIN_BAD = [
    ("desired_retention", "5.0"), ("new_cards_per_day", "-1"), ("learning_steps", '"abc"'),
    ("learning_steps", "[-60]"), ("relearning_steps", "[1.5]"),
    ("timezone", "Mars/Olympus_Mons"), ("day_start_hour", "99"), ("maximum_interval", "0"),
    ("rating_scale", "seven"),
]  # fmt: skip


@pytest.mark.parametrize("name, value", ADMIN_BAD)
def test_the_admin_change_form_names_the_field(client, base, name, value):
    staff = make_user("sam", is_staff=True, is_superuser=True)
    settings = StudySettings.objects.create(user=base.user)
    client.force_login(staff)
    url = f"/admin/cards/studysettings/{settings.pk}/change/"
    assert client.post(url, ADMIN_OK).status_code == 302  # the good data is good
    before = db_fingerprint()
    response = client.post(url, {**ADMIN_OK, name: value})
    assert response.status_code == 200
    assert name in response.context["adminform"].form.errors
    assert diff_fingerprints(before, db_fingerprint()) == []
