"""Malformed uploads through the web: a clear message naming what and where, nothing saved."""

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
