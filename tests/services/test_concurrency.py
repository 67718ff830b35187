"""Idempotency under real concurrency: threads with their own database connections.

On SQLite (a file database in WAL mode) the IMMEDIATE transactions queue writers on the busy
timeout; on PostgreSQL the MemoryState row lock and the unique constraints do the work. Either
way no thread may see "database is locked" or any other error.
"""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from cards.models import Deck, MemoryState, ReviewLog
from cards.services.reviews import StaleReview, issue_review_token, record_review
from cards.services.settings import get_study_settings
from tests.conftest import make_user

from .conftest import make_cards

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 50


def run_in_threads(tokens, user_id, rating=4, now=None):
    """Post each token from its own thread, all released at once; (results, errors)."""
    barrier = threading.Barrier(len(tokens))
    results, errors = [], []

    def post(token):
        try:
            user = get_user_model().objects.get(pk=user_id)  # each request loads its user
            barrier.wait(timeout=30)
            results.append(record_review(user, token, rating, 500, now=now))
        except StaleReview as refused:
            results.append(refused)
        except Exception as error:  # noqa: BLE001 - every other error fails the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.fixture
def setup():
    user = make_user("alice")
    get_study_settings(user)
    deck = Deck.objects.create(owner=user, name="Spanish")
    [card] = make_cards(deck, 1)
    return user, card


@pytest.mark.parametrize("first_review", [True, False], ids=["new-card", "known-card"])
def test_fifty_threads_posting_the_same_token_apply_it_once(setup, first_review):
    user, card = setup
    now = timezone.now()
    if not first_review:
        token = issue_review_token(user, card, None)
        record_review(user, token, 4, 0, now=now - timedelta(hours=1))
    memory = MemoryState.objects.filter(user=user, card=card).first()
    version = memory.version if memory else 0
    token = issue_review_token(user, card, memory)

    results, errors = run_in_threads([token] * THREADS, user.pk, now=now)

    assert errors == []  # no "database is locked", no IntegrityError leaking out
    assert len(results) == THREADS
    assert not any(isinstance(result, StaleReview) for result in results)
    assert sum(result.created for result in results) == 1
    assert len({result.log.pk for result in results}) == 1
    assert ReviewLog.objects.filter(user=user, reviewed_at=now).count() == 1
    memory = MemoryState.objects.get(user=user, card=card)
    assert memory.version == version + 1
    assert memory.last_review == now


@pytest.mark.parametrize("first_review", [True, False], ids=["new-card", "known-card"])
def test_two_tokens_against_the_same_state_one_applied_one_refused(setup, first_review):
    user, card = setup
    now = timezone.now()
    if not first_review:
        record_review(user, issue_review_token(user, card, None), 4, 0, now - timedelta(hours=1))
    memory = MemoryState.objects.filter(user=user, card=card).first()
    version = memory.version if memory else 0
    tokens = [issue_review_token(user, card, memory) for _ in range(2)]

    results, errors = run_in_threads(tokens, user.pk, now=now)

    assert errors == []
    applied = [result for result in results if not isinstance(result, StaleReview)]
    refused = [result for result in results if isinstance(result, StaleReview)]
    assert (len(applied), len(refused)) == (1, 1)
    assert applied[0].created
    assert ReviewLog.objects.filter(user=user, reviewed_at=now).count() == 1
    assert MemoryState.objects.get(user=user, card=card).version == version + 1


def test_many_users_reviewing_at_once_do_not_lock_each_other_out():
    deck = Deck.objects.create(owner=None, name="Site deck", is_public=True)
    cards = make_cards(deck, 2)
    users = [make_user(f"user{i}") for i in range(10)]
    barrier = threading.Barrier(len(users))
    errors = []

    def study(user):
        try:
            barrier.wait(timeout=30)
            for card in cards:
                record_review(user, issue_review_token(user, card, None), 4, 100)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=study, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert ReviewLog.objects.count() == MemoryState.objects.count() == 20
