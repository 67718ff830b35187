"""SQL for the text terms, per database: the indexes migration 0011 builds are used here.

- PostgreSQL: `studyapp_fold(column) LIKE studyapp_fold(pattern)`, each column with a GIN
  trigram index (pg_trgm) on its folded text, so substrings and wildcards use the index.
- SQLite: the FTS5 table cards_card_fts (trigram tokenizer) holds the folded question, answer
  and tags of each card, kept by triggers; each visible card's row is looked up by rowid
  (see _fts_row) and its folded text compared there, in C.
Both compare folded text, so a term finds the same cards on either database.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Expression, F, FloatField, Func

from cards.search.fold import fold

FTS_TABLE = "cards_card_fts"


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
    """The folded question and/or answer matches a LIKE pattern (from patterns.like_pattern)."""

    def __init__(self, columns: tuple[str, ...], pattern: str, escaped: bool, few=False):
        super().__init__(*columns)
        self.columns, self.pattern, self.escaped = columns, pattern, escaped
        self.few = few  # SQLite: few cards of all users match (see rare_in_sqlite)

    def postgresql(self, pk_sql, columns):
        # PostgreSQL's LIKE escapes with a backslash by default.
        parts = [f"studyapp_fold({column}) LIKE studyapp_fold(%s)" for column in columns]
        return f"({' OR '.join(parts)})", [self.pattern] * len(columns)

    def sqlite(self, pk_sql, columns):
        params = [fold(self.pattern)] * len(self.columns)
        if self.few:  # the index's matches, as a list
            selects = [f"SELECT rowid FROM {FTS_TABLE} WHERE {c} LIKE %s" for c in self.columns]
            return f"{pk_sql} IN ({' UNION ALL '.join(selects)})", params
        escape = " ESCAPE '\\'" if self.escaped else ""
        likes = " OR ".join(f"+f.{column} LIKE %s{escape}" for column in self.columns)
        return _fts_row(pk_sql, likes), params


RARE = 2000


def rare_in_sqlite(columns: tuple[str, ...], pattern: str, escaped: bool) -> bool:
    """Whether at most RARE cards, of all users, match: then `id IN (the index's matches)` is
    the fast way (a rare word: under a millisecond), else each visible card's own row is
    checked (_fts_row: bounded by the user's collection). One probe of the trigram index,
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
    part of every match of 3 characters or more, lets SQLite narrow by its trigram index."""

    def __init__(self, regex: str, hint: str = ""):
        super().__init__("tags")
        self.regex, self.hint = regex, hint

    def postgresql(self, pk_sql, columns):
        return f"studyapp_fold({columns[0]}) ~ %s", [self.regex]

    def sqlite(self, pk_sql, columns):
        if self.hint:  # LIKE runs in C: the regular expression (Python) only on candidates
            where, params = "+f.tags LIKE %s AND +f.tags REGEXP %s", [f"%{self.hint}%", self.regex]
        else:
            where, params = "+f.tags REGEXP %s", [self.regex]
        return _fts_row(pk_sql, where), params


def _fts_row(pk_sql: str, condition: str) -> str:
    """The card's own row of the FTS5 table (a rowid look-up) meets `condition`.

    Per card, not `id IN (every match)`: the index holds every user's cards, so a common word
    matched hundreds of thousands of other users' rows (0.3 s at 20 users × 20,000 cards);
    probing the user's visible cards costs what their collection costs (25 ms at 20,000).
    The unary + keeps each condition out of FTS5's own planning: offered `LIKE 'chat%'`, it
    ran the whole trigram query once per card instead of looking the row up (2 s).
    """
    return f"EXISTS (SELECT 1 FROM {FTS_TABLE} f WHERE f.rowid = {pk_sql} AND ({condition}))"


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
