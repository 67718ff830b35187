"""Indexes for the card browser's filters (bench/search.py), the same SQL on both databases.

Declared here rather than in the models' Meta, as 0011 and 0014 keep the search's own
structures: they serve cards/search alone.

- card_deck_created (deck_id, created_at): the page's ids are chosen sorted by "added"
  (browse.page_of, the default sort) and added:N filters by it; with this index both read
  only the index, never the card rows.
- memory_user_state_card (user_id, state, card_id): is:new, is:learn, is:review and prop:s/d
  list the card ids of the learner's memory states in some states; the card id comes from the
  index instead of a row read per memory state.
- memory_user_flag_card (user_id, flag, card_id): flag:N likewise.
- memory_user_suspended_card (user_id, card_id) WHERE suspended: is:suspended, and every
  search with -is:suspended, reads the few suspended cards, not every memory state.
"""

from django.db import migrations

INDEXES = {
    "card_deck_created": "cards_card (deck_id, created_at)",
    "memory_user_state_card": (
        "cards_memorystate (user_id, state, card_id, due, last_review, stability)"
    ),
    "memory_user_flag_card": "cards_memorystate (user_id, flag, card_id)",
    "memory_user_suspended_card": "cards_memorystate (user_id, card_id) WHERE suspended",
}


NEEDS_ANSWER = """CREATE INDEX "card_deck_needs_answer" ON "cards_card" ("deck_id") WHERE "answer" = ''"""


def analyze(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return  # PostgreSQL's planner reads the tables' statistics, kept by autovacuum
    with connection.cursor() as cursor:
        # Without statistics (a database never ANALYZEd, as `make run` leaves it) SQLite breaks
        # a cost tie between two indexes on deck_id by taking the newer one: card_deck_created
        # would then count the dashboard's blank cards by reading every card of the deck.
        # Made again after it, the partial index wins the tie (tests/perf/test_query_budgets).
        cursor.execute("DROP INDEX card_deck_needs_answer")
        cursor.execute(NEEDS_ANSWER)
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            for name in INDEXES:
                cursor.execute(f"ANALYZE {name}")


class Migration(migrations.Migration):
    dependencies = [("cards", "0017_card_trash")]

    operations = [
        migrations.RunSQL(
            [f"CREATE INDEX {name} ON {target}" for name, target in INDEXES.items()],
            [f"DROP INDEX {name}" for name in INDEXES],
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
