"""Every filter kind over a generated collection: the database's answer equals the query
read in plain Python (tests/search/collection.py). Run on both databases:
    .venv/bin/pytest -q tests/search/test_equality.py
    DATABASE_URL=postgres://…/sa_h6 .venv/bin/pytest -q tests/search/test_equality.py
so the two databases agree with each other through the same expected sets."""

import re

import pytest

from cards.search import search_cards, sql
from tests.search.collection import NOW, build, expected

QUERIES = [
    # words, phrases, wildcards; case and accents folded
    "", "chat", "CHAT", "eleve", "élève", "cafe", "Café", "strasse", "STRASSE", "oeuvre",
    "sofia", "ΣΟΦΙΑ", "unicode", '"chat chien"', "ch*n", "c_fe", r"dog\_bone", "dog_bone",
    "100%", r"a\*b", "well-known", "x", r"back\\slash", "-chat", "chat chien", "chat or chien",
    "(chat or chien) -eleve", "-(chat or x)", "*",
    # fields
    "front:chat", "front:chat*", "back:x", "back:*cafe*", 'front:"chat chien"',
    # decks, tags
    "deck:French", "deck:french::verbs", "deck:Fr*", "deck:cafe*", "deck:Géographie",
    "deck:geographie", "deck:*", "deck:French -deck:French::Verbs", "deck:nothing",
    "deck:French*secret",
    "tag:verbs", "tag:verbs::irregular", "tag:VERBS::regular", "tag:geo", "tag:GÉO", "tag:a::b",
    "tag:a*", "tag:a", "tag:none", "-tag:none", "tag:*::*", "tag:ab",
    # per-learner states and marks
    "is:new", "is:learn", "is:review", "is:due", "is:suspended", "is:buried", "is:leech",
    "-is:new", "is:review -is:learn", "flag:0", "flag:1", "flag:7", "-flag:0", "flag:5",
    # properties
    "prop:ivl>=10", "prop:ivl<5", "prop:ivl<=3", "prop:ivl!=0", "prop:ivl>30", "prop:ivl<=0",
    "prop:due<=3", "prop:due=0", "prop:due<0", "prop:due>-2", "prop:due!=1", "prop:due>=10",
    "prop:lapses>3", "prop:lapses=0", "prop:lapses<1", "prop:reps>=5", "prop:reps<2",
    "prop:s>30", "prop:s<=1", "prop:d>0.8", "prop:d<0.2", "prop:r<0.8", "prop:r>=0.9",
    "prop:r>0.5", "prop:r=0.9", "prop:r!=0.9", "prop:r<=1", "prop:r>0",
    # history and dates
    "rated:1", "rated:7", "rated:30:1", "rated:10:4", "-rated:30", "introduced:7",
    "introduced:30", "added:1", "added:10", "edited:3", "edited:20",
    # words joined by or are one text condition; a deck: term narrows the text read beside it
    "chat or eleve or is:new", r"chat or dog\_bone or cafe", "deck:French (chat or chien)",
    "deck:French -chat", "deck:Fr* tag:verbs", "deck:French (front:chat or cafe)",
    "deck:French deck:Géographie chat", "(deck:French chat) or (deck:Géographie cafe)",
    "deck:French* -deck:French::Verbs chat",
]  # fmt: skip


@pytest.fixture
def collection(owner, other):
    return build(owner, other)


@pytest.mark.parametrize("query", QUERIES)
def test_database_agrees_with_python(collection, owner, query):
    found = set(search_cards(owner, query, now=NOW).values_list("pk", flat=True))
    assert found == expected(collection, query, owner)


TEXT_QUERIES = [
    q
    for q in QUERIES
    if not re.match(r"-?\(?(deck|is|flag|prop|rated|introduced|added|edited):", q)
]


@pytest.mark.parametrize("query", TEXT_QUERIES)
def test_common_words_take_the_per_card_path_with_the_same_answer(
    collection, owner, query, monkeypatch
):
    # SQLite checks a word every user's cards often have card by card (sql._fts_row), a rare
    # one through the index's list of matches: with RARE = 0 every word is common.
    monkeypatch.setattr(sql, "RARE", 0)
    found = set(search_cards(owner, query, now=NOW).values_list("pk", flat=True))
    assert found == expected(collection, query, owner)


def test_the_collection_exercises_each_query(collection, owner):
    # A query that matches nothing or everything proves little: most of them do neither.
    # flag:5 is the other learner's flag and deck:French*secret their private deck: none.
    trivial = [q for q in QUERIES if len(expected(collection, q, owner)) in (0, len(collection))]
    assert set(trivial) <= {
        "", "*", "deck:*", "deck:nothing", "deck:French*secret", "prop:r<=1", "flag:5",
        'front:"chat chien"', "deck:French deck:Géographie chat",
    }  # fmt: skip


def test_cid_and_combinations(collection, owner):
    ids = [row.card.pk for row in collection[:5]]
    query = f"cid:{','.join(map(str, ids))} or (tag:verbs is:due) or -deck:French"
    found = set(search_cards(owner, query, now=NOW).values_list("pk", flat=True))
    assert found == expected(collection, query, owner)
