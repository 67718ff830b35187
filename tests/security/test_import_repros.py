"""Issue 13's repros (items 3, 4, 5 and 10): each failed on the code before the model validators
(a 500, a traceback, or a stored value that broke the account); each must now be refused with
a message naming the place, and nothing written."""

import io
import json
from datetime import UTC, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from tests.authoring.test_data_transfer import upload
from tests.conftest import make_user
from tests.security.urlwalk import db_fingerprint, diff_fingerprints

IMPORT = "/account/data/import/"
NOW = timezone.now().replace(microsecond=0)
WHEN = (NOW - timedelta(days=3)).astimezone(UTC).isoformat()
DUE = (NOW + timedelta(days=4)).astimezone(UTC).isoformat()


def payload(**parts) -> dict:
    """A valid data file (one deck, one card, one schedule, one review), with `parts` replaced."""
    card = {"question": "Q", "answer": "A", "position": 1, "external_id": "", "tags": "",
            "suspended": False}  # fmt: skip
    state = {"card": "d0.c0", "state": 2, "step": None, "stability": 3.0, "difficulty": 5.0,
             "due": DUE, "last_review": WHEN, "reps": 1, "lapses": 0}  # fmt: skip
    log = {"card": "d0.c0", "rating": 4, "rating_scale": "five", "grade": 3, "reviewed_at": WHEN,
           "duration_ms": 1000, "state_before": 0, "before": {"exists": False},
           "elapsed_days": 0, "retrievability": None, "state_after": 2, "stability_after": 3.0,
           "difficulty_after": 5.0, "due_after": DUE}  # fmt: skip
    data = {
        "format": "studyapp.user-data",
        "version": 1,
        "settings": None,
        "decks": [{"name": "Deck", "description": "", "is_public": False, "cards": [card]}],
        "shared_cards": [],
        "memory_states": [state],
        "review_logs": [log],
    }
    for path, value in parts.items():
        *parents, last = path.split("__")
        target = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return data


def post(client, data) -> tuple[int, str]:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    response = client.post(IMPORT, {"file": upload(body)})
    errors = response.context["form"].errors["file"] if response.status_code == 200 else []
    return response.status_code, " ".join(errors)


@pytest.fixture
def learner(client, db):
    user = make_user("lena")
    client.force_login(user)
    return user


def refused(client, data, *names):
    """The import answers the form again with an error naming each of `names`; no row changed."""
    before = db_fingerprint()
    status, error = post(client, data)
    assert status == 200, error
    for name in names:
        assert name in error, error
    assert "Nothing was imported" in error
    assert diff_fingerprints(before, db_fingerprint()) == []
    return error


def test_the_valid_file_these_repros_start_from_imports(client, learner):
    status, error = post(client, payload())
    assert (status, error) == (302, "")
    assert ReviewLog.objects.filter(user=learner).count() == 1


# --- 3. a 500 instead of the field's name ---------------------------------------------------


def test_deep_nesting_is_refused_before_parsing(client, learner):
    data = b'{"format": "studyapp.user-data", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error = refused(client, data, "line 1, column 102: nested more than 64 levels deep")
    assert "Recursion" not in error


def test_a_5000_digit_integer_is_named(client, learner):
    text = json.dumps(payload()).replace('"duration_ms": 1000', '"duration_ms": ' + "9" * 5000)
    refused(client, text.encode(), "review_logs[0].duration_ms: a 5000-digit number is too large")


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_time_past_the_calendar_is_named(client, learner, moment):
    refused(client, payload(review_logs__0__reviewed_at=moment), "review_logs[0].reviewed_at")


def test_a_duplicated_memory_state_names_both_places(client, learner):
    data = payload()
    data["memory_states"].append(dict(data["memory_states"][0]))
    refused(
        client, data, "memory_states[1].card: 'd0.c0' already has a schedule at memory_states[0]"
    )


# PostgreSQL refused these with a DataError (a 500); SQLite stored them.
@pytest.mark.parametrize(
    "part, value, name",
    [
        ("memory_states__0__step", 40_000, "memory_states[0].step"),
        ("review_logs__0__state_before", 40_000, "review_logs[0].state_before"),
        ("decks__0__cards__0__question", "Q\x00", "decks[0].cards[0].question"),
        ("decks__0__name", "Deck\x00", "decks[0].name"),
    ],
)
def test_a_value_postgresql_cannot_store_is_named(client, learner, part, value, name):
    refused(client, payload(**{part: value}), name)


# --- 4. settings that break the account -----------------------------------------------------

BAD_SETTINGS = [
    ("timezone", "Mars/Olympus_Mons"),
    ("day_start_hour", 99),
    ("desired_retention", 5.0),
    ("fsrs_parameters", "x"),
    ("fsrs_parameters", [1, 2]),
    ("learning_steps", "abc"),
    ("learning_steps", [-60]),
    ("maximum_interval", 0),
]


@pytest.mark.parametrize("name, value", BAD_SETTINGS)
def test_settings_that_break_the_account_are_refused(client, learner, name, value):
    refused(client, payload(settings={name: value}), f"settings.{name}")
    assert client.get("/").status_code == 200
    assert client.get("/stats/").status_code == 200


# Stored by raw SQL before this fix (the values the database constraints still let through).
STORED_BAD = [
    ("timezone", "Mars/Olympus_Mons"),
    ("fsrs_parameters", "x"),
    ("fsrs_parameters", [1, 2]),
    ("learning_steps", "abc"),
    ("learning_steps", [-60]),
]


@pytest.mark.parametrize("name, value", STORED_BAD)
@pytest.mark.parametrize("url", ["/", "/study/", "/stats/", "/settings/"])
def test_stored_bad_settings_do_not_break_the_pages(client, learner, name, value, url, caplog):
    deck = Deck.objects.create(owner=learner, name="D")  # so the pages read the settings
    Card.objects.create(deck=deck, question="Q", answer="A")
    StudySettings.objects.create(user=learner)
    StudySettings.objects.filter(user=learner).update(**{name: value})
    assert client.get(url).status_code == 200
    assert f"{name} {value!r} is invalid" in caplog.text


@pytest.mark.parametrize("name, value", STORED_BAD)
def test_rebuild_states_reports_a_user_with_bad_settings_and_goes_on(learner, name, value):
    deck = Deck.objects.create(owner=learner, name="D")
    card = Card.objects.create(deck=deck, question="Q", answer="A")
    other = make_user("otto")
    for user in (learner, other):
        StudySettings.objects.create(user=user)
        ReviewLog.objects.create(
            user=user, card=card, deck=deck, rating=4, grade=3, reviewed_at=NOW - timedelta(days=2),
            state_before=0, state_after=1, due_after=NOW, before={"exists": False},
        )  # fmt: skip
    StudySettings.objects.filter(user=learner).update(**{name: value})
    for check in ([], ["--check"]):
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match=r"1 user\(s\) skipped"):
            call_command("rebuild_states", *check, stdout=out, stderr=err)
        assert f"lena: settings.{name}" in err.getvalue()
        assert "otto: 1 cards replayed from 1 reviews" in out.getvalue()
    assert MemoryState.objects.filter(user=other).count() == 1  # the other user was rebuilt
    assert not MemoryState.objects.filter(user=learner).exists()  # lena's left untouched


# --- 5. impossible history ------------------------------------------------------------------


@pytest.mark.parametrize(
    "part, value",
    [
        ("review_logs__0__grade", 0),
        ("review_logs__0__grade", 9),
        ("review_logs__0__rating", 0),
        ("review_logs__0__rating", 40_000),
        ("memory_states__0__state", 99),
        ("review_logs__0__reviewed_at", "3000-01-01T00:00:00+00:00"),
    ],
)
def test_impossible_history_is_refused(client, learner, part, value):
    _, index, name = part.split("__")
    refused(client, payload(**{part: value}), f"{part.split('__')[0]}[{index}].{name}")


def test_the_grade_error_says_what_a_grade_is(client, learner):
    error = refused(client, payload(review_logs__0__grade=9), "review_logs[0].grade")
    assert "must be 1–4 (Again, Hard, Good, Easy), not 9" in error


@pytest.mark.parametrize("grade", [0, 9])
def test_the_database_refuses_a_grade_off_the_scale(learner, grade):
    deck = Deck.objects.create(owner=learner, name="D")
    card = Card.objects.create(deck=deck, question="Q", answer="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewLog.objects.create(
            user=learner, card=card, deck=deck, rating=1, grade=grade, state_before=0,
            state_after=1, due_after=NOW,
        )  # fmt: skip


# --- 10. tracebacks from the commands -------------------------------------------------------


@pytest.mark.parametrize("review_time", ["9999999999999999", "9" * 30])
def test_import_revlog_names_a_huge_review_time(learner, tmp_path, review_time):
    deck = Deck.objects.create(owner=learner, name="D")
    Card.objects.create(deck=deck, question="Q", answer="A", external_id="c1")
    StudySettings.objects.create(user=learner)
    path = tmp_path / "revlog.csv"
    path.write_text(f"card_id,review_time,review_rating\nc1,{review_time},3\n")
    with pytest.raises(CommandError, match=rf"row 2: review_time {review_time} .* future"):
        call_command("import_revlog", str(path), "--user", "lena", "--deck", "D", stdout=None)
    assert not ReviewLog.objects.exists()


def test_restore_site_names_a_truncated_json_backup(learner, tmp_path):
    Deck.objects.create(owner=learner, name="Kept")
    backup = tmp_path / "site.json"
    call_command("backup_site", "--output", str(backup), "--format", "json", verbosity=0)
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])
    before = db_fingerprint()
    with pytest.raises(CommandError, match="not a complete JSON backup") as caught:
        call_command("restore_site", str(backup), "--yes")
    assert "DeserializationError" not in str(caught.value)
    assert diff_fingerprints(before, db_fingerprint()) == []


def test_restore_site_refuses_a_backup_with_an_invalid_value(learner, tmp_path):
    deck = Deck.objects.create(owner=learner, name="Kept")
    Card.objects.create(deck=deck, question="Q", answer="A")
    backup = tmp_path / "site.json"
    call_command("backup_site", "--output", str(backup), "--format", "json", verbosity=0)
    rows = json.loads(backup.read_text())
    card_row = next(row for row in rows if row["model"] == "cards.card")
    card_row["fields"]["question"] = "Q\x00"
    backup.write_text(json.dumps(rows))
    before = db_fingerprint()
    with pytest.raises(CommandError, match=rf"cards.card {card_row['pk']}: question: "):
        call_command("restore_site", str(backup), "--yes")
    assert diff_fingerprints(before, db_fingerprint()) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's column limits")
def test_on_postgresql_nothing_reaches_the_database_error(client, learner):
    # The same two values PostgreSQL answered with a DataError: refused before any write.
    refused(client, payload(memory_states__0__step=40_000), "memory_states[0].step")
    refused(client, payload(decks__0__name="D\x00"), "decks[0].name")


# --- the write phase: batches, progress, and undoing a failed write ------------------------


def _two_decks_file() -> dict:
    data = payload()
    cards = [dict(data["decks"][0]["cards"][0], question=f"Q{i}") for i in range(5)]
    data["decks"][0]["cards"] = cards
    data["decks"].append({"name": "Second", "description": "", "is_public": False,
                          "cards": [dict(cards[0])]})  # fmt: skip
    return data


def test_a_checked_file_is_written_in_batches_with_progress(learner, monkeypatch):
    from cards.services import data_import
    from cards.services.transfer import import_user_data

    monkeypatch.setattr(data_import, "WRITE_BATCH", 2)
    seen = []
    import_user_data(learner, _two_decks_file(), progress=lambda *step: seen.append(step))
    # 2 decks + 6 cards + 1 state + 1 log: cards in batches of 2, then the state, then the log.
    assert seen == [(3, 10), (5, 10), (6, 10), (8, 10), (9, 10), (10, 10)]
    assert Card.objects.filter(deck__owner=learner).count() == 6


@pytest.mark.parametrize("failing", ["cards", "states", "logs"])
def test_a_write_that_fails_midway_leaves_nothing(learner, monkeypatch, failing):
    from django.db.models import QuerySet

    from cards.services import data_import
    from cards.services.transfer import import_user_data

    monkeypatch.setattr(data_import, "WRITE_BATCH", 1)  # two batches of states and of logs
    public = Deck.objects.create(owner=make_user("pia"), name="Public", is_public=True)
    shared = Card.objects.create(deck=public, question="Shared Q", answer="A")
    data = _two_decks_file()
    data["shared_cards"] = [{"id": shared.pk, "deck": "Public", "question": "Shared Q"}]
    data["memory_states"].append(dict(data["memory_states"][0], card="s0"))
    data["review_logs"].append(dict(data["review_logs"][0], card="s0"))
    model = {"cards": Card, "states": MemoryState, "logs": ReviewLog}[failing]
    real = QuerySet.bulk_create
    calls = []

    def bulk_create(self, objs, *args, **kwargs):
        if self.model is model:
            calls.append(len(objs))
            if len(calls) == 2:  # the second batch: the first is written already
                raise IntegrityError("disk full")
        return real(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", bulk_create)
    before = db_fingerprint()
    with pytest.raises(IntegrityError, match="disk full"):
        import_user_data(learner, data)
    assert diff_fingerprints(before, db_fingerprint()) == []
