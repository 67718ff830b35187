"""The review loop's hand-written row reads return what the equivalent querysets return."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards.models import Card, Deck, MemoryState
from cards.services.queue_sql import memory_to_answer, memory_to_show
from tests.conftest import make_user

from .conftest import answer, local

NOW = local(2026, 6, 10, 15, 0)


def values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def assert_same(got, expected):
    assert type(got) is type(expected)
    assert values(got) == values(expected)
    for name, value in values(expected).items():
        # Same types too: aware datetimes, decoded JSON, real booleans.
        assert type(getattr(got, name)) is type(value), name
    assert got._state.adding is False
    assert got._state.db == "default"


@pytest.fixture
def studied(learner, deck):
    """A card with Markdown and tags, suspended, reviewed twice; and a blank one reviewed once."""
    card = Card.objects.create(
        deck=deck, question="**Bold** `code`", answer="- a\n- b", tags="x y", position=3
    )
    answer(learner, card, 4, NOW - timedelta(days=3))
    answer(learner, card, 2, NOW - timedelta(days=1))
    Card.objects.filter(pk=card.pk).update(suspended=True)
    blank = Card.objects.create(deck=deck, question="No answer yet", answer="x", position=4)
    answer(learner, blank, 1, NOW)  # learning, with a step, stability set
    return MemoryState.objects.get(card=card), MemoryState.objects.get(card=blank)


@pytest.mark.django_db
def test_memory_to_show_is_the_queryset_with_card_and_deck(studied):
    for memory in studied:
        expected = MemoryState.objects.select_related("card__deck").get(pk=memory.pk)
        with CaptureQueriesContext(connection) as queries:
            got = memory_to_show(memory.pk)
            assert_same(got, expected)
            assert_same(got.card, expected.card)
            assert_same(got.card.deck, expected.card.deck)
        assert len(queries) == 1  # nothing loaded lazily


@pytest.mark.django_db
def test_memory_to_show_reads_a_site_deck_without_owner(learner):
    deck = Deck.objects.create(owner=None, name="Site", is_public=True, description="d")
    card = Card.objects.create(deck=deck, question="Q", answer="A")
    answer(learner, card, 3, NOW)
    memory = MemoryState.objects.get(card=card)
    got = memory_to_show(memory.pk)
    assert got.card.deck.owner_id is None
    assert got.card.deck.is_public is True
    assert_same(got.card.deck, Deck.objects.get(pk=deck.pk))


@pytest.mark.django_db
def test_memory_to_answer_needs_a_visible_deck(learner, deck, studied):
    memory, _ = studied
    expected = MemoryState.objects.select_related("card").get(pk=memory.pk)
    got = memory_to_answer(learner.pk, memory.card_id)
    assert_same(got, expected)
    assert_same(got.card, expected.card)

    # Another user has no state of it; once the deck is someone else's and private, the state
    # of a card the learner can no longer see is not returned either.
    stranger = make_user("stranger")
    assert memory_to_answer(stranger.pk, memory.card_id) is None
    Deck.objects.filter(pk=deck.pk).update(owner=stranger)
    assert memory_to_answer(learner.pk, memory.card_id) is None
    Deck.objects.filter(pk=deck.pk).update(is_public=True)
    assert memory_to_answer(learner.pk, memory.card_id).pk == memory.pk


@pytest.mark.django_db
def test_user_with_settings_is_the_queryset(learner, staff):
    from django.contrib.auth import get_user_model

    from cards.models import StudySettings
    from cards.services.sql_rows import user_with_settings

    users = get_user_model().objects.select_related("study_settings")
    expected = users.get(pk=learner.pk)
    with CaptureQueriesContext(connection) as queries:
        got = user_with_settings(learner.pk)
        assert_same(got, expected)
        assert_same(got.study_settings, expected.study_settings)
        assert got.study_settings.user is got
    assert len(queries) == 1

    # No settings yet: the missing row is known without another query, as with select_related.
    StudySettings.objects.filter(user=staff).delete()
    with CaptureQueriesContext(connection) as queries:
        got = user_with_settings(staff.pk)
        assert_same(got, users.get(pk=staff.pk))
        with pytest.raises(StudySettings.DoesNotExist):
            got.study_settings  # noqa: B018
    assert len(queries) == 2  # the two reads above, nothing lazy

    assert user_with_settings(10**9) is None
