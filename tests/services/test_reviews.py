from datetime import timedelta

import pytest
from django.core import signing
from django.db import DatabaseError

from cards.models import Deck, MemoryState, ReviewLog
from cards.scheduling import FuzzDraw, Grade, State, format_interval, study_day
from cards.services.queue import next_card, queue_counts
from cards.services.reviews import (
    InvalidReview,
    StaleReview,
    issue_review_token,
    preview_intervals,
    record_review,
    undo_last_review,
)
from cards.services.settings import get_study_settings

from .conftest import answer, local, make_cards

NOW = local(2026, 6, 10, 15, 0)
NY = "America/New_York"
STATE_FIELDS = ["state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses"]


@pytest.fixture
def card(deck):
    return make_cards(deck, 1)[0]


def fields(memory):
    memory.refresh_from_db()
    return {name: getattr(memory, name) for name in STATE_FIELDS}


def test_record_review_writes_one_log_and_the_new_state(learner, card):
    result = record_review(learner, issue_review_token(learner, card, None), 2, 4200, now=NOW)
    assert result.created
    log = ReviewLog.objects.get()
    assert log == result.log
    assert (log.rating, log.rating_scale, log.grade) == (2, "five", Grade.AGAIN)  # raw 2 kept
    assert (log.duration_ms, log.reviewed_at, log.state_before) == (4200, NOW, State.NEW)
    assert log.before == {"exists": False}
    memory = MemoryState.objects.get()
    assert memory == result.memory
    assert (memory.state, memory.step, memory.reps, memory.version) == (State.LEARNING, 0, 1, 1)
    # The 1-minute step, delayed by Anki's learning fuzz (up to 25%) drawn from the log's seed.
    delay = FuzzDraw.from_seed(log.fuzz_seed).learning_delay(60)
    assert 60 <= delay < 75 and memory.due == NOW + timedelta(seconds=delay)
    assert (log.state_after, log.due_after) == (memory.state, memory.due)
    assert (log.stability_after, log.difficulty_after) == (memory.stability, memory.difficulty)
    assert memory.deck_id == card.deck_id


def test_second_review_logs_the_full_previous_state_and_recall(learner, card):
    answer(learner, card, 5, NOW)  # Easy: straight to review
    memory = MemoryState.objects.get()
    assert memory.state == State.REVIEW
    later = memory.due + timedelta(hours=2)
    log = answer(learner, card, 4, later).log
    assert log.state_before == State.REVIEW
    assert log.before["stability"] == memory.stability
    assert log.before["version"] == 1
    assert log.elapsed_days >= 1
    assert 0 < log.retrievability < 1


def test_four_grade_scale(learner, card):
    settings = get_study_settings(learner)
    settings.rating_scale = "four"
    settings.save()
    log = answer(learner, card, 2, NOW).log
    assert (log.rating, log.rating_scale, log.grade) == (2, "four", Grade.HARD)
    with pytest.raises(InvalidReview, match="Rating"):
        answer(learner, card, 5, NOW + timedelta(minutes=10))


@pytest.mark.parametrize("rating", [0, 6, "six", None, 2.5, True])
def test_bad_rating_is_refused_and_writes_nothing(learner, card, rating):
    with pytest.raises(InvalidReview, match="Rating"):
        record_review(learner, issue_review_token(learner, card, None), rating, 0, now=NOW)
    assert not ReviewLog.objects.exists() and not MemoryState.objects.exists()


def test_rating_as_posted_text_and_odd_durations(learner, card):
    token = issue_review_token(learner, card, None)
    log = record_review(learner, token, "4", -5, now=NOW).log
    assert (log.rating, log.duration_ms) == (4, 0)
    with pytest.raises(InvalidReview, match="Duration"):
        record_review(learner, issue_review_token(learner, card, None), 4, "soon", now=NOW)


def test_forged_garbled_or_foreign_tokens_are_refused(learner, other, card):
    token = issue_review_token(learner, card, None)
    payload = signing.loads(token, salt="studyapp.review")
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature tampered
        signing.dumps({**payload, "v": 7}, salt="another.salt"),  # signed for something else
        signing.dumps({**payload, "v": 7}, key="not the secret key", salt="studyapp.review"),
        "garbage",
        "",
    ]
    for bad in forged:
        with pytest.raises(InvalidReview, match="token"):
            record_review(learner, bad, 4, 0, now=NOW)
    with pytest.raises(InvalidReview, match="another user"):
        record_review(other, token, 4, 0, now=NOW)
    incomplete = signing.dumps({"c": card.pk, "u": learner.pk}, salt="studyapp.review")
    with pytest.raises(InvalidReview, match="incomplete"):
        record_review(learner, incomplete, 4, 0, now=NOW)
    assert not ReviewLog.objects.exists()


def test_card_of_a_deck_that_became_private_is_refused(learner, other):
    deck = Deck.objects.create(owner=other, name="Shared", is_public=True)
    [card] = make_cards(deck, 1)
    token = issue_review_token(learner, card, None)
    Deck.objects.filter(pk=deck.pk).update(is_public=False)
    with pytest.raises(InvalidReview, match="no longer"):
        record_review(learner, token, 4, 0, now=NOW)


def test_same_token_twice_gives_one_log_and_created_false(learner, card):
    token = issue_review_token(learner, card, None)
    first = record_review(learner, token, 4, 1000, now=NOW)
    again = record_review(learner, token, 1, 9999, now=NOW + timedelta(seconds=3))
    assert (first.created, again.created) == (True, False)
    assert again.log.pk == first.log.pk and again.log.rating == 4
    assert ReviewLog.objects.count() == 1
    assert again.memory.version == 1 and again.memory.pk == first.memory.pk


def test_two_tokens_for_the_same_state_apply_once(learner, card):
    answer(learner, card, 4, NOW)
    memory = MemoryState.objects.get()
    tab_one = issue_review_token(learner, card, memory)
    tab_two = issue_review_token(learner, card, memory)
    later = NOW + timedelta(minutes=15)
    assert record_review(learner, tab_one, 4, 0, now=later).created
    before = fields(memory)
    with pytest.raises(StaleReview):
        record_review(learner, tab_two, 1, 0, now=later)
    assert ReviewLog.objects.count() == 2
    assert fields(memory) == before


def test_log_and_state_are_written_in_one_transaction(learner, card, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(ReviewLog, "save", broken)
    with pytest.raises(DatabaseError):
        record_review(learner, issue_review_token(learner, card, None), 4, 0, now=NOW)
    assert not MemoryState.objects.exists()  # the state saved first was rolled back


def test_undo_restores_the_exact_previous_state_and_refuses_old_tokens(learner, deck):
    cards = make_cards(deck, 2)
    moment = NOW
    for rating in (4, 4, 4, 2, 1, 4):
        answer(learner, cards[0], rating, moment)
        moment = MemoryState.objects.get(card=cards[0]).due + timedelta(hours=1)
    memory = MemoryState.objects.get(card=cards[0])
    previous, previous_version = fields(memory), memory.version
    token = issue_review_token(learner, cards[0], memory)
    record_review(learner, token, 5, 0, now=moment)
    shown_after = issue_review_token(learner, cards[0], MemoryState.objects.get(pk=memory.pk))
    assert fields(memory) != previous

    undone = undo_last_review(learner)
    assert undone.pk is None and undone.card_id == cards[0].pk and undone.rating == 5
    assert fields(memory) == previous
    assert memory.version == previous_version + 2  # +1 for the review, +1 for the undo
    assert ReviewLog.objects.count() == 6
    for old in (token, shown_after):
        with pytest.raises(StaleReview):
            record_review(learner, old, 5, 0, now=moment)
    # The card can be answered again with a fresh token, reproducing the same fuzz.
    assert answer(learner, cards[0], 5, moment).created


def test_undo_of_a_first_review_makes_the_card_new_again(learner, deck):
    settings = get_study_settings(learner)
    settings.new_cards_per_day = 1
    settings.save()
    first, _ = make_cards(deck, 2)
    token = issue_review_token(learner, first, None)
    record_review(learner, token, 4, 0, now=NOW)
    # The day's one new card is used: only its next step is offered (within the learn-ahead).
    item = next_card(learner, now=NOW)
    assert (item.card, item.kind) == (first, "learning")
    undo_last_review(learner, deck)
    assert queue_counts(learner, now=NOW).new == 1  # the undone card no longer counts
    item = next_card(learner, now=NOW)
    assert (item.card, item.kind, item.memory.state) == (first, "new", State.NEW)
    with pytest.raises(StaleReview):
        record_review(learner, token, 4, 0, now=NOW)  # the old token stays refused
    result = record_review(learner, issue_review_token(learner, first, item.memory), 4, 0, NOW)
    assert result.created and result.log.state_before == State.NEW
    assert result.memory.reps == 1 and result.memory.version == 3


def test_undo_picks_the_latest_review_in_the_deck(learner, deck):
    other_deck = Deck.objects.create(owner=learner, name="French")
    [spanish] = make_cards(deck, 1)
    [french] = make_cards(other_deck, 1)
    answer(learner, spanish, 4, NOW)
    answer(learner, french, 4, NOW + timedelta(minutes=1))
    assert undo_last_review(learner, deck).card_id == spanish.pk
    assert list(ReviewLog.objects.values_list("card_id", flat=True)) == [french.pk]
    assert undo_last_review(learner).card_id == french.pk
    assert undo_last_review(learner) is None


def test_preview_intervals_match_what_the_answer_does(learner, card):
    answer(learner, card, 5, NOW)
    memory = MemoryState.objects.get()
    later = memory.due + timedelta(hours=5)
    preview = preview_intervals(learner, card, memory, now=later)
    assert [(rating, label) for rating, label, _ in preview] == [
        (1, "Not at all"),
        (2, "Not really"),
        (3, "With effort"),
        (4, "Well"),
        (5, "Perfectly"),
    ]
    assert preview[0][2] == "10m"  # a lapse goes to the 10-minute relearning step
    result = answer(learner, card, 4, later)
    days = (study_day(result.memory.due, NY, 4) - study_day(later, NY, 4)).days
    assert preview[3][2] == format_interval(timedelta(days=days))
    new_preview = preview_intervals(learner, make_cards(card.deck, 1, start=5)[0], None, NOW)
    assert [text for _, _, text in new_preview][:4] == ["1m", "1m", "5.5m", "10m"]


def test_undo_of_a_log_without_snapshot_replays_the_rest_of_the_history(learner, card):
    answer(learner, card, 4, NOW)
    memory = MemoryState.objects.get()
    after_first = fields(memory)
    answer(learner, card, 4, NOW + timedelta(minutes=20))
    ReviewLog.objects.filter(reviewed_at__gt=NOW).update(before={})  # as an import leaves it
    assert undo_last_review(learner).rating == 4
    assert fields(memory) == after_first
