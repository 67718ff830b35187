"""The folded copy of each card's text, for searching without folding at query time
(migration 0014_search_speed).

Folding (lower case, accents removed) at query time cost most of a search: PostgreSQL ran
unaccent() on every candidate row (a wildcard over 25,000 visible cards: 130 ms), SQLite
looked each visible card up in the FTS5 table (a virtual table: about 1 µs a card, 45 ms).
- PostgreSQL: stored generated columns search_question, search_answer, search_tags on
  cards_card (studyapp_fold() is IMMUTABLE), with the trigram GIN indexes on them; nothing
  in Python writes them. A future change of a text column's type must drop them first.
- SQLite: a plain table cards_card_folded (id, deck_id and the folded texts) kept by
  triggers, with an index on deck_id, so a search reads only the user's decks' rows, small
  rows, never the card rows. The FTS5 table stays, for rare words (cards/search/sql.py).
"""

from __future__ import annotations

FOLDED_TABLE = "cards_card_folded"
_VALUES = (
    "new.id, new.deck_id, studyapp_fold(new.question), studyapp_fold(new.answer), "
    "studyapp_fold(new.tags)"
)
_UPSERT = (
    f"INSERT OR REPLACE INTO {FOLDED_TABLE}(id, deck_id, question, answer, tags) "
    f"VALUES ({_VALUES});"
)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS cards_card_folded_insert AFTER INSERT ON cards_card
    BEGIN {_UPSERT} END""",
    f"""CREATE TRIGGER IF NOT EXISTS cards_card_folded_delete AFTER DELETE ON cards_card
    BEGIN DELETE FROM {FOLDED_TABLE} WHERE id = old.id; END""",
    f"""CREATE TRIGGER IF NOT EXISTS cards_card_folded_update
    AFTER UPDATE OF id, deck_id, question, answer, tags ON cards_card
    BEGIN DELETE FROM {FOLDED_TABLE} WHERE id = old.id; {_UPSERT} END""",
]
SQLITE_FILL = [
    f"DELETE FROM {FOLDED_TABLE}",
    f"""INSERT INTO {FOLDED_TABLE}(id, deck_id, question, answer, tags)
    SELECT id, deck_id, studyapp_fold(question), studyapp_fold(answer), studyapp_fold(tags)
    FROM cards_card""",
]
SQLITE_FORWARDS = [
    f"""CREATE TABLE {FOLDED_TABLE} (id INTEGER PRIMARY KEY, deck_id INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, tags TEXT NOT NULL)""",
    f"CREATE INDEX cards_card_folded_deck ON {FOLDED_TABLE}(deck_id)",
    *SQLITE_FILL,
    *SQLITE_TRIGGERS,
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS cards_card_folded_insert",
    "DROP TRIGGER IF EXISTS cards_card_folded_delete",
    "DROP TRIGGER IF EXISTS cards_card_folded_update",
    f"DROP TABLE IF EXISTS {FOLDED_TABLE}",
]

_COLUMNS = ("question", "answer", "tags")
POSTGRESQL_FORWARDS = [
    "DROP INDEX IF EXISTS card_question_fold_trgm",
    "DROP INDEX IF EXISTS card_answer_fold_trgm",
    "DROP INDEX IF EXISTS card_tags_fold_trgm",
    "ALTER TABLE cards_card "
    + ", ".join(
        f"ADD COLUMN search_{c} text GENERATED ALWAYS AS (studyapp_fold({c})) STORED"
        for c in _COLUMNS
    ),
    *(
        f"CREATE INDEX card_search_{c}_trgm ON cards_card USING gin (search_{c} gin_trgm_ops)"
        for c in _COLUMNS
    ),
]
POSTGRESQL_BACKWARDS = [
    *(f"DROP INDEX IF EXISTS card_search_{c}_trgm" for c in _COLUMNS),
    "ALTER TABLE cards_card " + ", ".join(f"DROP COLUMN IF EXISTS search_{c}" for c in _COLUMNS),
    *(
        f"CREATE INDEX card_{c}_fold_trgm ON cards_card USING gin (studyapp_fold({c}) gin_trgm_ops)"
        for c in _COLUMNS
    ),
]


def mend_sqlite_folded(cursor) -> None:
    """After a migrate: the folded table's triggers exist and its rows match the cards (a
    rebuild of cards_card by Django's SQLite schema editor drops the triggers)."""
    cursor.execute("SELECT name FROM sqlite_master WHERE name = %s", [FOLDED_TABLE])
    if not cursor.fetchall():
        return  # before migration 0014, or after it was reversed
    mend_triggered_copy(cursor, FOLDED_TABLE, "cards_card_folded_%", SQLITE_FILL, SQLITE_TRIGGERS)


def mend_triggered_copy(cursor, table: str, trigger_pattern: str, fill, triggers) -> None:
    """Refill `table` (a copy of cards_card kept by triggers) and recreate its triggers unless
    every trigger exists and the row counts match."""
    cursor.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
        [trigger_pattern],
    )
    (found,) = cursor.fetchone()
    cursor.execute(f"SELECT (SELECT COUNT(*) FROM {table}), (SELECT COUNT(*) FROM cards_card)")
    copied, cards = cursor.fetchone()
    if found == len(triggers) and copied == cards:
        return
    for statement in [*fill, *triggers]:
        cursor.execute(statement)
