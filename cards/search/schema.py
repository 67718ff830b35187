"""The search indexes, per database: built by migration 0011, mended after every migrate.

SQLite keeps an FTS5 table of each card's folded question, answer and tags, in sync through
triggers. Django's SQLite schema editor rebuilds a table to alter it (new table, copy, drop,
rename), and dropping cards_card drops its triggers: `mend_sqlite_search` (post_migrate,
cards/apps.py) puts them back and refills the table when its rows no longer match.
"""

from __future__ import annotations

from cards.search.folded import mend_sqlite_folded, mend_triggered_copy

FTS_TABLE = "cards_card_fts"
_FOLDED = "studyapp_fold(new.question), studyapp_fold(new.answer), studyapp_fold(new.tags)"
_INSERT = f"INSERT INTO {FTS_TABLE}(rowid, question, answer, tags) VALUES (new.id, {_FOLDED});"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS cards_card_fts_insert AFTER INSERT ON cards_card
    BEGIN {_INSERT} END""",
    f"""CREATE TRIGGER IF NOT EXISTS cards_card_fts_delete AFTER DELETE ON cards_card
    BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.id; END""",
    f"""CREATE TRIGGER IF NOT EXISTS cards_card_fts_update
    AFTER UPDATE OF id, question, answer, tags ON cards_card
    BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.id; {_INSERT} END""",
]
SQLITE_FILL = [
    f"DELETE FROM {FTS_TABLE}",
    f"""INSERT INTO {FTS_TABLE}(rowid, question, answer, tags)
    SELECT id, studyapp_fold(question), studyapp_fold(answer), studyapp_fold(tags)
    FROM cards_card""",
]
SQLITE_FORWARDS = [
    # Trigram: LIKE '%…%' on a column uses the index. The text stored is already folded.
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(question, answer, tags, tokenize='trigram')",
    *SQLITE_FILL,
    *SQLITE_TRIGGERS,
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS cards_card_fts_insert",
    "DROP TRIGGER IF EXISTS cards_card_fts_delete",
    "DROP TRIGGER IF EXISTS cards_card_fts_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]

POSTGRESQL_FORWARDS = [
    # Both are trusted extensions (PostgreSQL 13+): the database owner may create them.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # unaccent() is only STABLE (its dictionary could change); naming the dictionary makes the
    # wrapper safe to declare IMMUTABLE, which an expression index needs.
    """CREATE OR REPLACE FUNCTION studyapp_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$""",
    "CREATE INDEX card_question_fold_trgm ON cards_card"
    " USING gin (studyapp_fold(question) gin_trgm_ops)",
    "CREATE INDEX card_answer_fold_trgm ON cards_card"
    " USING gin (studyapp_fold(answer) gin_trgm_ops)",
    "CREATE INDEX card_tags_fold_trgm ON cards_card USING gin (studyapp_fold(tags) gin_trgm_ops)",
]
POSTGRESQL_BACKWARDS = [
    "DROP INDEX IF EXISTS card_question_fold_trgm",
    "DROP INDEX IF EXISTS card_answer_fold_trgm",
    "DROP INDEX IF EXISTS card_tags_fold_trgm",
    "DROP FUNCTION IF EXISTS studyapp_fold(text)",
    # The extensions stay: other objects may have come to depend on them.
]


def mend_sqlite_search(sender=None, using="default", **kwargs):
    """post_migrate receiver: the FTS5 table's triggers exist and its rows match the cards."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name IN (%s, %s)", [FTS_TABLE, "cards_card"]
        )
        if len(cursor.fetchall()) < 2:
            return  # before migration 0011, or after it was reversed
        mend_sqlite_folded(cursor)
        mend_triggered_copy(cursor, FTS_TABLE, "cards_card_fts_%", SQLITE_FILL, SQLITE_TRIGGERS)
