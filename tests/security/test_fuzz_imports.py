"""Property-based fuzzing of every file parser and importer (hypothesis).

Properties: a parser returns a result or raises its documented error (ImportFileError,
RevlogErrors, TransferError — all ValueError subclasses with a message that names the place);
nothing else escapes. An import that fails leaves the database exactly as it was; one that
succeeds stores only values that fit their columns (PostgreSQL would refuse the others).
"""

import json
from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.importers.csvfile import parse_cards_csv
from cards.importers.errors import ImportFileError, ParsedDeck
from cards.importers.load import parse_deck_file, save_deck
from cards.importers.seed import parse_seed_export
from cards.importers.text import decode_text
from cards.services.transfer import TransferError, import_user_data, parse_user_data
from tests.security.urlwalk import db_fingerprint, diff_fingerprints

# Derandomized: the same examples on every run, so CI is repeatable (a new finding shows up when
# the code or the strategies change, not at random).
PURE = settings(max_examples=300, deadline=None, derandomize=True, database=None)
WITH_DB = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Lines that mean something to the seed parser, mixed with noise.
SEED_TOKENS = ["Q", "A", "", " ", "1", "2", "3", "10", "How well did you know this?",
               "Not at all", "4", "5", "Perfectly", "•", "**bold", "** text",
               "²", "٣", "1" * 5000]  # fmt: skip
seed_lines = st.lists(st.one_of(st.sampled_from(SEED_TOKENS), st.text(max_size=20)), max_size=40)
CSV_TOKENS = ["question", "answer", "id", "tags", "Question ", "ANSWER", '"', '""', ",", "\n",
              "\r\n", "\r", "x", "a,b", '"q, with comma"', "\x00", "\ufeff", " "]  # fmt: skip
csv_text = st.lists(st.one_of(st.sampled_from(CSV_TOKENS), st.text(max_size=10)), max_size=60)


def _check_error(exc: ValueError):
    assert str(exc).strip()
    if isinstance(exc, ImportFileError):
        assert exc.line is None or exc.line >= 1


def _check_deck(deck: ParsedDeck):
    assert deck.cards
    for card in deck.cards:
        assert card.question.strip()
        assert isinstance(card.answer, str)


@PURE
@given(st.binary(max_size=300))
def test_decode_text(data):
    try:
        text = decode_text(data)
    except ImportFileError as exc:
        _check_error(exc)
    else:
        assert "\r" not in text


@PURE
@given(st.one_of(st.text(max_size=300), seed_lines.map("\n".join)))
def test_parse_seed_export(text):
    try:
        deck = parse_seed_export(text)
    except ImportFileError as exc:
        _check_error(exc)
    else:
        assert deck.title.strip()
        _check_deck(deck)


@PURE
@given(st.one_of(st.text(max_size=300), csv_text.map("".join)))
def test_parse_cards_csv(text):
    try:
        deck = parse_cards_csv(text, title="t")
    except ImportFileError as exc:
        _check_error(exc)
    else:
        _check_deck(deck)
        ids = [card.external_id for card in deck.cards if card.external_id]
        assert len(ids) == len(set(ids))


@PURE
@given(
    st.one_of(st.binary(max_size=300), csv_text.map(lambda t: "".join(t).encode())),
    st.sampled_from(["deck.csv", "deck.txt", "DECK.CSV", "", "x"]),
)
def test_parse_deck_file(data, filename):
    try:
        deck = parse_deck_file(data, filename)
    except ImportFileError as exc:
        _check_error(exc)
    else:
        _check_deck(deck)


# --- the JSON data file ----------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=12),
    st.sampled_from(["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00", "d0.c0", "s0", "five"]),
)  # fmt: skip
GOOD_CARD = {"question": "q", "answer": "a", "position": 1, "external_id": "", "tags": "",
             "suspended": False}  # fmt: skip
GOOD_TIME = "2026-01-01T00:00:00+00:00"
GOOD_STATE = {"card": "d0.c0", "state": 2, "step": None, "stability": 3.0, "difficulty": 5.0,
              "due": GOOD_TIME, "last_review": GOOD_TIME, "reps": 1, "lapses": 0}  # fmt: skip
GOOD_LOG = {"card": "d0.c0", "rating": 4, "rating_scale": "five", "grade": 3,
            "reviewed_at": GOOD_TIME, "duration_ms": 1000, "state_before": 0, "before": {},
            "elapsed_days": 0, "retrievability": None, "state_after": 2,
            "stability_after": 3.0, "difficulty_after": 5.0, "due_after": GOOD_TIME}  # fmt: skip


def _mutated(good: dict):
    """A valid row with some fields given random values and some removed."""
    return (
        st.fixed_dictionaries(
            {},
            optional={key: json_scalars for key in good},
        ).map(lambda changes: {**good, **changes})
        | st.just(dict(good))
        | st.builds(
            lambda drop: {k: v for k, v in good.items() if k != drop}, st.sampled_from(list(good))
        )
    )


user_data = st.fixed_dictionaries(
    {
        "format": st.just("studyapp.user-data"),
        "version": st.just(1),
        "settings": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "desired_retention": json_scalars,
                    "new_cards_per_day": json_scalars,
                    "timezone": st.sampled_from(["UTC", "Mars/Olympus", "", "Europe/Paris"]),
                    "day_start_hour": json_scalars,
                    "learning_steps": st.lists(json_scalars),
                    "rating_scale": json_scalars,
                    "fsrs_parameters": st.lists(json_scalars),
                },
            ),  # fmt: skip
        ),
        "decks": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.one_of(st.text(max_size=250), json_scalars),
                    "description": st.one_of(st.just(""), json_scalars),
                    "is_public": st.one_of(st.booleans(), json_scalars),
                    "cards": st.lists(_mutated(GOOD_CARD), max_size=3),
                }
            ),
            max_size=2,
        ),
        "shared_cards": st.lists(
            st.fixed_dictionaries(
                {"id": json_scalars, "deck": json_scalars, "question": json_scalars}
            ),
            max_size=2,
        ),  # fmt: skip
        "memory_states": st.lists(_mutated(GOOD_STATE), max_size=2),
        "review_logs": st.lists(_mutated(GOOD_LOG), max_size=3),
    }
)


@PURE
@given(st.one_of(st.binary(max_size=200), user_data.map(lambda d: json.dumps(d).encode())))
def test_parse_user_data(data):
    try:
        parse_user_data(data)
    except TransferError as exc:
        _check_error(exc)


def _assert_fits_columns():
    """What a successful import stored fits its columns. PostgreSQL enforces max_length and
    integer ranges (a DataError, so a 500); SQLite does not, so this check stands in for it."""
    from django.apps import apps
    from django.db import models
    from django.db.backends.base.operations import BaseDatabaseOperations

    ranges = BaseDatabaseOperations.integer_field_ranges
    for model in apps.get_app_config("cards").get_models():
        for field in model._meta.fields:
            values = [
                v for v in model.objects.values_list(field.attname, flat=True) if v is not None
            ]
            if isinstance(field, models.CharField):
                too_long = [v for v in values if len(v) > field.max_length]
                assert not too_long, f"{model.__name__}.{field.name}: {too_long[0][:40]!r}…"
            elif field.get_internal_type() in ranges and not field.is_relation:
                low, high = ranges[field.get_internal_type()]
                bad = [v for v in values if not low <= v <= high]
                assert not bad, f"{model.__name__}.{field.name}: {bad[0]} is out of range"


def _in_rollback(check):
    """Run one example and undo it, so examples do not see each other's rows."""
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


@pytest.mark.django_db
@WITH_DB
@given(payload=user_data)
def test_import_user_data_is_all_or_nothing(owner, payload):
    def check():
        before = db_fingerprint()
        try:
            data = parse_user_data(json.dumps(payload).encode())
            import_user_data(owner, data)
        except TransferError as exc:
            _check_error(exc)
            assert diff_fingerprints(before, db_fingerprint()) == []
        else:
            _assert_fits_columns()

    _in_rollback(check)


@pytest.mark.django_db
@WITH_DB
@given(
    data=st.one_of(csv_text.map(lambda t: "".join(t).encode()), st.binary(max_size=200)),
    filename=st.sampled_from(["deck.csv", "deck.txt"]),
    name=st.one_of(st.none(), st.text(max_size=210)),
)
def test_deck_import_is_all_or_nothing(owner, data, filename, name):
    def check():
        before = db_fingerprint()
        try:
            save_deck(parse_deck_file(data, filename), owner=owner, name=name)
        except ImportFileError as exc:
            _check_error(exc)
            assert diff_fingerprints(before, db_fingerprint()) == []
        else:
            _assert_fits_columns()

    _in_rollback(check)


REVLOG_TOKENS = ["card_id", "review_time", "review_rating", "review_state", "review_duration",
                 ",", "\n", "1", "2", "4", "5", "0", "-1", "x1", "x2", "1700000000000",
                 "99999999999999999999", "1.5", '"', " "]  # fmt: skip


@pytest.mark.django_db
@WITH_DB
@given(st.lists(st.sampled_from(REVLOG_TOKENS), max_size=50).map("".join))
def test_revlog_import_is_all_or_nothing(owner, text):
    from cards.importers.revlog import import_revlog
    from cards.models import Card, Deck
    from cards.services.settings import get_study_settings

    get_study_settings(owner)  # made on first use (any page does); not part of the import

    def check():
        deck = Deck.objects.create(owner=owner, name="revlog")
        Card.objects.create(deck=deck, question="one", answer="a", external_id="x1")
        Card.objects.create(deck=deck, question="two", answer="b", external_id="x2")
        before = db_fingerprint()
        now = datetime(2026, 6, 1, tzinfo=UTC)
        try:
            import_revlog(text, owner, deck, now=now)
        except ImportFileError as exc:
            _check_error(exc)
            assert diff_fingerprints(before, db_fingerprint()) == []
        else:
            _assert_fits_columns()

    _in_rollback(check)


def test_a_card_id_longer_than_its_column_is_a_clear_error(owner):
    """PostgreSQL would raise DataError (a 500) on an over-long id; the importer must say so."""
    text = "question,answer,id\nq,a," + "x" * 101 + "\n"
    try:
        save_deck(parse_deck_file(text.encode(), "deck.csv"), owner=owner)
    except ImportFileError as exc:
        assert "id" in str(exc)
    else:
        _assert_fits_columns()


def test_a_number_too_big_for_its_column_is_a_clear_error(owner):
    card = {**GOOD_CARD, "position": 2**40}
    payload = {"format": "studyapp.user-data", "version": 1, "settings": None,
               "decks": [{"name": "d", "description": "", "is_public": False, "cards": [card]}],
               "shared_cards": [], "memory_states": [], "review_logs": []}  # fmt: skip
    try:
        import_user_data(owner, parse_user_data(json.dumps(payload).encode()))
    except TransferError as exc:
        assert "position" in str(exc)
    else:
        _assert_fits_columns()
