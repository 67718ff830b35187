"""The compiler's rules beyond the generated collection: who sees what, the index kept in
sync with every kind of write, the migration both ways, and bounded work."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from cards.models import Card, Deck, MemoryState
from cards.scheduling import State
from cards.search import SearchError, search_cards
from cards.search.schema import mend_sqlite_search
from cards.services.settings import get_study_settings
from tests.conftest import make_user


def ids(user, query):
    return set(search_cards(user, query).values_list("pk", flat=True))


@pytest.fixture
def decks(owner, other):
    return {
        "mine": Deck.objects.create(owner=owner, name="Mine"),
        "public": Deck.objects.create(owner=other, name="Shared", is_public=True),
        "private": Deck.objects.create(owner=other, name="Bob only"),
        "site": Deck.objects.create(owner=None, name="Site"),
    }


def card(deck, question, answer="a", **fields):
    return Card.objects.create(deck=deck, question=question, answer=answer, **fields)


def test_another_users_private_cards_never_match(owner, other, decks):
    mine = card(decks["mine"], "secret word")
    public = card(decks["public"], "secret word")
    card(decks["private"], "secret word")
    card(decks["site"], "secret word")
    assert ids(owner, "secret") == {mine.pk, public.pk}
    assert ids(owner, "") == {mine.pk, public.pk}
    assert ids(owner, "-nothing") == {mine.pk, public.pk}


def test_staff_also_see_site_decks_but_not_private_ones(decks):
    staff = make_user("curator", is_staff=True)
    site = card(decks["site"], "word")
    public = card(decks["public"], "word")
    card(decks["private"], "word")
    assert ids(staff, "word") == {site.pk, public.pk}


def test_deck_names_match_only_visible_decks(owner, decks):
    card(decks["private"], "x")
    assert ids(owner, "deck:Bob*") == set()


def test_another_learners_marks_are_not_mine(owner, other, decks):
    shared = card(decks["public"], "q")
    marks = {"flag": 3, "suspended": True}
    MemoryState.of(other, shared, state=State.NEW, due=timezone.now(), **marks).save()
    assert ids(owner, "flag:3") == set()
    assert ids(owner, "is:suspended") == set()
    assert ids(owner, "is:new flag:0") == {shared.pk}
    assert ids(other, "flag:3 is:suspended") == {shared.pk}


def test_the_authors_suspension_counts_for_everyone(owner, decks):
    suspended = card(decks["mine"], "q", suspended=True)
    assert ids(owner, "is:suspended") == {suspended.pk}


def test_edits_reach_the_index(owner, decks):
    item = card(decks["mine"], "before", tags="old")
    item.question = "Après"
    item.save()
    assert ids(owner, "before") == set()
    assert ids(owner, "apres") == {item.pk}
    Card.objects.filter(pk=item.pk).update(answer="Ünder", tags="new::tag")
    assert ids(owner, "back:under") == {item.pk}
    assert ids(owner, "tag:new") == {item.pk}
    assert ids(owner, "tag:old") == set()


def test_deleted_cards_leave_the_index(owner, decks):
    item = card(decks["mine"], "gone")
    Card.objects.filter(pk=item.pk).delete()
    assert ids(owner, "gone") == set()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM cards_card_fts WHERE rowid = %s", [item.pk])
            assert cursor.fetchone() == (0,)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 triggers")
def test_lost_triggers_are_mended_after_migrate(owner, decks):
    # Django's SQLite schema editor rebuilds a table to alter it, which drops its triggers.
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER cards_card_fts_insert")
    item = card(decks["mine"], "unindexed")
    assert ids(owner, "unindexed") == set()
    mend_sqlite_search()
    assert ids(owner, "unindexed") == {item.pk}
    assert ids(owner, "unindexed") == ids(owner, "front:unindexed")
    later = card(decks["mine"], "unindexed too")
    assert later.pk in ids(owner, "unindexed")


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_and_reapplies(owner):
    deck = Deck.objects.create(owner=owner, name="D")
    item = card(deck, "Reversible")
    executor = MigrationExecutor(connection)
    executor.migrate([("cards", "0010_study_actions")])
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "cards_card_fts" not in tables
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert ids(owner, "reversible") == {item.pk}


def test_prop_due_counts_study_days_from_today(owner, decks):
    item = card(decks["mine"], "q")
    now = timezone.now()
    MemoryState.of(
        owner, item, state=State.REVIEW, due=now + timedelta(days=2, hours=1),
        last_review=now - timedelta(days=3), stability=5, difficulty=5, reps=3,
    ).save()  # fmt: skip
    assert item.pk in ids(owner, "prop:due>=1") | ids(owner, "prop:due>=2")
    assert ids(owner, "prop:due<0") == set()


def test_search_errors_propagate(owner):
    with pytest.raises(SearchError):
        search_cards(owner, "is:nothing")


def test_query_count_is_fixed(owner, decks, django_assert_num_queries):
    for i in range(30):
        card(decks["mine"], f"word {i}")
    get_study_settings(owner)
    owner = type(owner).objects.get(pk=owner.pk)
    # Expect 3 queries: study settings, visible decks (deck:), the cards; on SQLite also the
    # probe of how common the word is (sql.rare_in_sqlite)
    with django_assert_num_queries(4 if connection.vendor == "sqlite" else 3):
        list(search_cards(owner, "deck:Mine word is:new prop:r<0.9 rated:3 tag:x or flag:2"))


@pytest.mark.parametrize("rare", [2000, -1])
def test_a_moved_card_is_found_in_its_new_deck(owner, other, decks, monkeypatch, rare):
    # The SQLite folded copy keeps each card's deck (cards/search/folded.py); RARE = -1 takes
    # it for every word (a common word's path), not the FTS5 index's list.
    monkeypatch.setattr("cards.search.sql.RARE", rare)
    theirs = Deck.objects.create(owner=other, name="Theirs")
    item = card(theirs, "wandering")
    assert ids(owner, "wandering") == set()
    Card.objects.filter(pk=item.pk).update(deck=decks["mine"])
    assert ids(owner, "wandering") == ids(owner, "tag:none wandering") == {item.pk}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's folded-table triggers")
def test_lost_folded_triggers_are_mended_after_migrate(owner, decks):
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER cards_card_folded_insert")
    item = card(decks["mine"], "common enough")
    mend_sqlite_search()
    with connection.cursor() as cursor:
        cursor.execute("SELECT question FROM cards_card_folded WHERE id = %s", [item.pk])
        assert cursor.fetchone() == ("common enough",)
    later = card(decks["mine"], "Later Ça")
    with connection.cursor() as cursor:
        cursor.execute("SELECT question FROM cards_card_folded WHERE id = %s", [later.pk])
        assert cursor.fetchone() == ("later ca",)
