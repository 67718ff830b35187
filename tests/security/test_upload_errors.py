"""Malformed uploads through the web: a clear message naming what and where, nothing saved."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.security.urlwalk import db_fingerprint, diff_fingerprints

DECK_FILES = [
    ("empty.csv", b"", "empty"),
    ("blank.txt", b"  \n\n ", "empty"),
    ("binary.txt", b"Title\n1\nQ\n\x00\x01", "binary"),
    ("latin1.csv", "question,answer\nq,caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("cols.csv", b"question,reply\nq,a\n", "missing: answer"),
    ("short.csv", b"question,answer\nq,a\nonly one field\n", "row 3"),
    ("quote.csv", b'question,answer\n"unclosed,a\n', "row"),
    ("noq.csv", b"question,answer\n,a\n", "question is empty"),
    ("dup.csv", b"question,answer,id\nq,a,1\nr,b,1\n", "already used on row 2"),
    ("seed.txt", b"Deck\n1\nQ\nWhat?\n2\nQ\nNext\nA\nx\n", "line"),
    ("seed-notitle.txt", b"1\nQ\nWhat?\nA\nx\n", "no deck title"),
]
DATA_FILES = [
    ("bad.json", b"{not json", "line 1"),
    ("other.json", b'{"format": "something-else"}', "not a studyapp.user-data file"),
    ("version.json", json.dumps({"format": "studyapp.user-data", "version": 99}).encode(),
     "version 99"),
    ("types.json", json.dumps({"format": "studyapp.user-data", "version": 1, "settings": None,
     "decks": [{"name": "d", "description": "", "is_public": False,
                "cards": [{"question": "q"}]}],
     "shared_cards": [], "memory_states": [], "review_logs": []}).encode(),
     "decks[0].cards[0]"),
    ("latin1.json", b'{"format": "caf\xe9"}', "not UTF-8"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "message"), DECK_FILES, ids=[f[0] for f in DECK_FILES])
def test_a_bad_deck_file_is_explained_and_changes_nothing(owner_client, name, data, message):
    before = db_fingerprint()
    response = owner_client.post("/decks/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert message in response.text, response.text[response.text.find("error") :][:400]
    assert diff_fingerprints(before, db_fingerprint()) == []


@pytest.mark.parametrize(("name", "data", "message"), DATA_FILES, ids=[f[0] for f in DATA_FILES])
def test_a_bad_data_file_is_explained_and_changes_nothing(owner_client, name, data, message):
    before = db_fingerprint()
    response = owner_client.post("/account/data/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert message in response.text, response.text[response.text.find("error") :][:400]
    assert "Nothing was imported" in response.text
    assert diff_fingerprints(before, db_fingerprint()) == []


def test_a_file_over_the_limit_is_refused_by_the_form(owner_client, settings):
    settings.IMPORT_MAX_BYTES = 100
    before = db_fingerprint()
    data = b"question,answer\n" + b"q,a\n" * 50
    response = owner_client.post("/decks/import/", {"file": SimpleUploadedFile("big.csv", data)})
    assert response.status_code == 200
    assert "can be imported" in response.text
    assert diff_fingerprints(before, db_fingerprint()) == []


COMMANDS = [
    ("import_deck", b"question,answer\nq\n", "deck.csv", []),
    ("import_deck", b"\xff\xfe", "deck.txt", []),
    ("import_cards", b"question,answer,id\nq,a,1\nq2,a2,1\n", "cards.csv",
     ["--user", "alice", "--deck", "Mine"]),
    ("import_revlog", b"card_id,review_time,review_rating\n1,notatime,3\n", "revlog.csv",
     ["--user", "alice", "--deck", "Mine"]),
    ("import_revlog", b"card_id,review_time,review_rating\n999,1700000000000,9\n", "revlog.csv",
     ["--user", "alice", "--deck", "Mine"]),
]  # fmt: skip


@pytest.mark.parametrize(("command", "data", "name", "args"), COMMANDS)
def test_a_bad_file_on_the_command_line_is_a_command_error(owner, tmp_path, command, data, name,
                                                           args):  # fmt: skip
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from cards.models import Card, Deck
    from cards.services.settings import get_study_settings

    deck = Deck.objects.create(owner=owner, name="Mine")
    Card.objects.create(deck=deck, question="one", answer="a", external_id="1")
    get_study_settings(owner)
    path = tmp_path / name
    path.write_bytes(data)
    before = db_fingerprint()
    with pytest.raises(CommandError) as error:
        call_command(command, str(path), *args, stdout=io.StringIO())
    assert name in str(error.value) or "row" in str(error.value) or "line" in str(error.value)
    assert diff_fingerprints(before, db_fingerprint()) == []
