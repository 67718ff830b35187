"""SQL for the text terms, per database, over the folded copies of the text (migrations 0011
and 0014, cards/search/folded.py):

- PostgreSQL: `search_question LIKE studyapp_fold(pattern)`, stored generated columns of the
  folded text, each with a GIN trigram index (pg_trgm), so substrings and wildcards use the
  index and no row is folded at query time.
- SQLite: `id IN (the ids of the user's decks' rows of cards_card_folded that match)`, a
  plain table of the folded text read through its deck_id index; a rare word (few cards of
  all users) instead takes the FTS5 trigram index's list of matches.
Both compare folded text, so a term finds the same cards on either database.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Expression, F, FloatField, Func

from cards.search.fold import fold
from cards.search.folded import FOLDED_TABLE

FTS_TABLE = "cards_card_fts"


def _folded_column(column_sql: str, name: str) -> str:
    """The stored folded column (PostgreSQL) beside a compiled column, same table alias."""
    table, dot, _ = column_sql.rpartition(".")
    return f'{table}{dot}"search_{name}"'


def _in_decks(pk_sql: str, decks, condition: str) -> str:
    """SQLite: the card is among the folded rows of the user's decks (`decks`: the SQL of
    their ids, with its params; none: every deck) that meet `condition`. Uncorrelated:
    SQLite builds the list once, reading only those decks' small rows (deck_id index)."""
    where = f"f.deck_id IN ({decks[0]}) AND ({condition})" if decks[0] else condition
    return f"{pk_sql} IN (SELECT f.id FROM {FOLDED_TABLE} f WHERE {where})"


class _CardCondition(Expression):
    """A boolean condition on the card row (usable in filter() and Q, negatable). Its columns
    are source expressions, so Django qualifies them with the right alias wherever it runs."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, *columns: str):
        super().__init__(output_field=BooleanField())
        self.sources = [F("pk"), *(F(column) for column in columns)]

    def get_source_expressions(self):
        return self.sources

    def set_source_expressions(self, exprs):
        self.sources = list(exprs)

    def as_sql(self, compiler, connection):
        compiled = [compiler.compile(expr)[0] for expr in self.sources]  # columns: no params
        method = self.postgresql if connection.vendor == "postgresql" else self.sqlite
        return method(compiled[0], compiled[1:])


class TextLike(_CardCondition):
    """The folded question and/or answer matches any of some LIKE patterns (from
    patterns.like_pattern, all escaped alike), among the cards of `decks` (the user's
    visible decks). Several patterns (words joined by `or`) are one scan of the text."""

    def __init__(self, columns, patterns, escaped: bool, decks=("", ()), few=False):
        super().__init__(*columns)
        self.columns, self.patterns, self.escaped = columns, list(patterns), escaped
        self.decks = decks  # SQLite: the SQL of the user's visible decks' ids, its params
        self.few = few  # SQLite: few cards of all users match (see rare_in_sqlite)

    def postgresql(self, pk_sql, columns):
        # PostgreSQL's LIKE escapes with a backslash by default.
        parts = [
            f"{_folded_column(sql, name)} LIKE studyapp_fold(%s)"
            for _ in self.patterns
            for sql, name in zip(columns, self.columns, strict=True)
        ]
        params = [pattern for pattern in self.patterns for _ in columns]
        return f"({' OR '.join(parts)})", params

    def sqlite(self, pk_sql, columns):
        params = [fold(pattern) for pattern in self.patterns for _ in self.columns]
        if self.few:  # the index's matches, as a list
            selects = [
                f"SELECT rowid FROM {FTS_TABLE} WHERE {c} LIKE %s"
                for _ in self.patterns
                for c in self.columns
            ]
            return f"{pk_sql} IN ({' UNION ALL '.join(selects)})", params
        escape = " ESCAPE '\\'" if self.escaped else ""
        likes = " OR ".join(
            f"f.{column} LIKE %s{escape}" for _ in self.patterns for column in self.columns
        )
        return _in_decks(pk_sql, self.decks, likes), [*self.decks[1], *params]


RARE = 2000


def rare_in_sqlite(columns: tuple[str, ...], pattern: str, escaped: bool) -> bool:
    """Whether at most RARE cards, of all users, match: then `id IN (the index's matches)` is
    the fast way (a rare word: under a millisecond), else each visible card's own row is
    checked (_in_decks: bounded by the user's collection). One probe of the trigram index,
    stopped at RARE + 1 rows; patterns with an escape are never probed (FTS5 declines
    LIKE … ESCAPE, so the probe would read every row)."""
    if escaped or connection.vendor != "sqlite":
        return False
    selects = " UNION ALL ".join(f"SELECT 1 FROM {FTS_TABLE} WHERE {c} LIKE %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({selects} LIMIT {RARE + 1})", [fold(pattern)] * len(columns)
        )
        (found,) = cursor.fetchone()
    return found <= RARE


class TagsMatch(_CardCondition):
    """The folded tags match a regular expression (patterns.tag_regex); `hint`, a literal
    part of every match of 3 characters or more, lets SQLite skip most rows in C."""

    def __init__(self, regex: str, hint: str = "", decks=("", ())):
        super().__init__("tags")
        self.regex, self.hint, self.decks = regex, hint, decks

    def postgresql(self, pk_sql, columns):
        return f"{_folded_column(columns[0], 'tags')} ~ %s", [self.regex]

    def sqlite(self, pk_sql, columns):
        if self.hint:  # LIKE runs in C: the regular expression (Python) only on candidates
            where, params = "f.tags LIKE %s AND f.tags REGEXP %s", [f"%{self.hint}%", self.regex]
        else:
            where, params = "f.tags REGEXP %s", [self.regex]
        return _in_decks(pk_sql, self.decks, where), [*self.decks[1], *params]


class WholeDaysBetween(Func):
    """Whole 24-hour days from `earlier` to `later` (seconds floored first), as
    cards.scheduling.policy.elapsed_days_anki counts them for retrievability."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        (earlier, p1), (later, p2) = (compiler.compile(e) for e in self.source_expressions)
        sql = f"((CAST(strftime('%%s', {later}) AS INTEGER) - CAST(strftime('%%s', {earlier}) AS INTEGER)) / 86400)"  # noqa: E501
        return sql, (*p2, *p1)

    def as_postgresql(self, compiler, connection, **extra):
        (earlier, p1), (later, p2) = (compiler.compile(e) for e in self.source_expressions)
        sql = (
            f"((floor(EXTRACT(EPOCH FROM {later}))::bigint"
            f" - floor(EXTRACT(EPOCH FROM {earlier}))::bigint) / 86400)"
        )
        return sql, (*p2, *p1)
