"""Query counts constant in the collection's size: the browser's page and every bulk action
on every card a search finds cost the same queries at 6 cards as at 60."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, Deck, MemoryState
from cards.scheduling import State

# action: (extra form fields, queries), the same at both sizes and on both databases. Each
# includes the request's own (session, user, the form's decks, the search's ids, settings),
# the action's reads and writes (a chunk of 500 cards per statement), its undo record, and
# the savepoints of its transaction.
ACTIONS = {
    "suspend": ({}, 16),
    "unsuspend": ({}, 16),
    "bury": ({}, 16),
    "flag": ({"flag": "2"}, 17),
    # Tags: one more, the notes taking their cards' tags (note_bulk.sync_note_tags), and four
    # for the undo record (tags before and after, the record, the trim of the undo stack).
    "add_tags": ({"tags": "new"}, 21),
    "remove_tags": ({"tags": "old"}, 21),
    "move": ({}, 28),  # five for undo: decks before, the record and trim, a savepoint pair
    "forget": ({}, 16),
    "set_due": ({"due": "3"}, 16),
    "delete": ({}, 24),
}


def collection(owner, size):
    now = timezone.now()
    mine = Deck.objects.create(owner=owner, name="Mine")
    spare = Deck.objects.create(owner=owner, name="Spare")
    cards = Card.objects.bulk_create(
        Card(deck=mine, question=f"word {i}", answer="a", tags="old") for i in range(size)
    )
    MemoryState.objects.bulk_create(
        MemoryState.of(
            owner,
            card,
            state=State.REVIEW,
            due=now + timedelta(days=2),
            stability=3.0,
            difficulty=5.0,
            last_review=now - timedelta(days=1),
            reps=2,
            flag=2 * (i % 2),
            suspended=i % 3 == 0,
        )  # fmt: skip
        for i, card in enumerate(cards)
    )
    return spare


@pytest.mark.parametrize("size", [6, 60])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_bulk_action_queries(owner_client, owner, django_assert_num_queries, action, size):
    spare = collection(owner, size)
    fields, queries = ACTIONS[action]
    if action == "move":
        fields = {"deck": spare.pk}
    data = {"action": action, "scope": "all", "q": "deck:Mine tag:old", **fields}
    with django_assert_num_queries(queries):
        response = owner_client.post(reverse("card_browser_action"), data)
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"{size // (2 if action == 'flag' else 1)} card" in message or action in (
        "suspend",
        "unsuspend",
    )
    assert "Nothing changed" not in message


@pytest.mark.parametrize("query", ["word", "tag:old", "-word", "word or deck:Spare", "tag:none"])
def test_the_one_pass_count_is_the_count(owner, query):
    # page_of(one_pass=True) counts with COUNT(*) OVER (): the same total, the same page.
    from cards.search import browse, parse
    from cards.search.compiler import Context, compile_node, scans_text, visible_cards

    collection(owner, 60)
    ctx = Context.of(owner, timezone.now())
    node = parse(query)
    assert scans_text(node)
    cards = visible_cards(owner).filter(compile_node(node, ctx))
    one = browse.page_of(cards, ctx, "added", True, None, one_pass=True)
    two = browse.page_of(cards, ctx, "added", True, None)
    assert (one.total, one.next_cursor) == (two.total, two.next_cursor)
    assert one.total == cards.count()
    assert [row.card.pk for row in one.rows] == [row.card.pk for row in two.rows]
