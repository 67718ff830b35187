"""Anki's search language over the cards a user may see: parse, then filter.

    cards = search_cards(user, 'deck:French tag:verbs -is:suspended prop:ivl>=10')

parser.py reads the text into a tree (nodes.py, terms.py); compiler.py turns the tree into a
Django filter; sql.py holds the database-specific text matching over the indexes that
migration 0011 builds (PostgreSQL trigram GIN, SQLite FTS5).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from cards.search.parser import SearchError, parse


def search_cards(user, query: str, now: datetime | None = None):
    """The cards `user` may see that match `query` (raises SearchError)."""
    from cards.search.compiler import search_q, visible_cards

    node = parse(query)
    return visible_cards(user).filter(search_q(user, node, now or timezone.now()))


__all__ = ["SearchError", "parse", "search_cards"]
