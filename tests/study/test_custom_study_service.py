"""Custom study's services: which cards each mode picks, raising today's limits, answering
in a session with and without rescheduling, and the rating gate's rule."""

from datetime import UTC, datetime, timedelta

import pytest

from cards.models import Card, CustomStudySession, Deck, MemoryState, ReviewLog
from cards.scheduling import State
from cards.services import custom_study as cs
from cards.services import custom_study_session as sessions
from cards.services.queue import StudyQueue, deck_queue_counts
from cards.services.rating_gate import Today, may_rate
from cards.services.reviews import InvalidReview, issue_review_token, record_review
from cards.services.settings import get_study_settings

# Noon UTC; the study day starts at 04:00 UTC, so today ends tomorrow at 04:00.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY_END = datetime(2026, 3, 11, 4, 0, tzinfo=UTC)


@pytest.fixture
def user(owner):
    settings = get_study_settings(owner)
    settings.timezone, settings.day_start_hour = "UTC", 4
    settings.new_cards_per_day, settings.reviews_per_day = 3, 100
    settings.save()
    return owner


@pytest.fixture
def deck(user):
    return Deck.objects.create(owner=user, name="Mine")


def card(deck, n, tags="", added=NOW - timedelta(days=30), answer="a"):
    made = Card.objects.create(deck=deck, question=f"q{n}", answer=answer, position=n, tags=tags)
    Card.objects.filter(pk=made.pk).update(created_at=added)
    return made


def review_state(user, made, due, state=State.REVIEW, **marks):
    return MemoryState.of(
        user, made, state=state, stability=5.0, difficulty=5.0, due=due,
        last_review=due - timedelta(days=3), reps=3, step=None if state == State.REVIEW else 0,
        **marks,
    ).save()  # fmt: skip


def rate(user, made, rating, at):
    memory = MemoryState.objects.filter(user=user, card=made).first()
    return record_review(user, issue_review_token(user, made, memory), rating, now=at)


def scope(user, deck=None):
    return cs.Scope(user, deck, NOW)


# -- which cards each mode picks --------------------------------------------------------------


def test_forgotten_cards_are_those_answered_again_within_the_days(user, deck):
    today, yesterday, week_ago, good = (card(deck, n) for n in range(4))
    rate(user, today, 1, NOW - timedelta(hours=2))  # Again today
    rate(user, yesterday, 2, NOW - timedelta(days=1))  # 2 is Again on the 1-5 scale
    rate(user, week_ago, 1, NOW - timedelta(days=7))
    rate(user, good, 4, NOW - timedelta(hours=1))

    assert set(cs.pick_cards(scope(user, deck), cs.FORGOT, days=1)) == {today.pk}
    assert set(cs.pick_cards(scope(user, deck), cs.FORGOT, days=2)) == {today.pk, yesterday.pk}
    assert set(cs.pick_cards(scope(user, deck), cs.FORGOT, days=8)) == {
        today.pk, yesterday.pk, week_ago.pk,
    }  # fmt: skip


def test_review_ahead_takes_cards_due_within_the_days_in_due_order(user, deck):
    cards = [card(deck, n) for n in range(5)]
    review_state(user, cards[0], DAY_END + timedelta(days=1))  # due the day after tomorrow
    review_state(user, cards[1], DAY_END)  # due tomorrow
    review_state(user, cards[2], DAY_END - timedelta(days=2))  # overdue
    review_state(user, cards[3], DAY_END + timedelta(days=9))  # far ahead
    # cards[4] is new: never "due"

    assert cs.pick_cards(scope(user, deck), cs.AHEAD, days=1) == [cards[2].pk, cards[1].pk]
    assert cs.pick_cards(scope(user, deck), cs.AHEAD, days=2) == [
        cards[2].pk, cards[1].pk, cards[0].pk,
    ]  # fmt: skip


def test_review_ahead_takes_learning_cards_due_before_the_days_run_out(user, deck):
    soon, later = card(deck, 1), card(deck, 2)
    review_state(user, soon, NOW + timedelta(hours=30, minutes=7), state=State.LEARNING)
    review_state(user, later, DAY_END + timedelta(days=3, minutes=1), state=State.RELEARNING)

    assert cs.pick_cards(scope(user, deck), cs.AHEAD, days=1) == [soon.pk]
    assert cs.pick_cards(scope(user, deck), cs.AHEAD, days=3) == [soon.pk, later.pk]


def test_preview_takes_unstarted_cards_added_within_the_days_in_added_order(user, deck):
    newest = card(deck, 1, added=NOW - timedelta(hours=1))
    older = card(deck, 2, added=NOW - timedelta(days=2))
    old = card(deck, 3, added=NOW - timedelta(days=20))
    started = card(deck, 4, added=NOW - timedelta(hours=2))
    rate(user, started, 4, NOW - timedelta(minutes=30))

    assert cs.pick_cards(scope(user, deck), cs.PREVIEW, days=1) == [newest.pk]
    assert cs.pick_cards(scope(user, deck), cs.PREVIEW, days=3) == [older.pk, newest.pk]
    assert old.pk not in cs.pick_cards(scope(user, deck), cs.PREVIEW, days=3)


def test_cram_takes_a_tag_or_one_under_it_in_any_case_up_to_the_limit(user, deck):
    tagged = card(deck, 1, tags="grammar verbs")
    child = card(deck, 2, tags="Grammar::nouns")
    other = card(deck, 3, tags="grammarian")
    untagged = card(deck, 4)

    assert set(cs.pick_cards(scope(user, deck), cs.CRAM, tag="grammar", limit=50)) == {
        tagged.pk, child.pk,
    }  # fmt: skip
    everything = cs.pick_cards(scope(user, deck), cs.CRAM, limit=50)
    assert set(everything) == {tagged.pk, child.pk, other.pk, untagged.pk}
    assert len(cs.pick_cards(scope(user, deck), cs.CRAM, limit=2)) == 2


def test_every_mode_leaves_out_blank_suspended_and_buried_cards_and_others_private_decks(
    user, deck, other
):
    blank = card(deck, 1, answer="")
    owner_suspended = card(deck, 2)
    Card.objects.filter(pk=owner_suspended.pk).update(suspended=True)
    suspended, buried, unburied, fine = (card(deck, n) for n in range(3, 7))
    MemoryState.of(user, suspended, state=State.NEW, due=NOW, suspended=True).save()
    MemoryState.of(user, buried, state=State.NEW, due=NOW, buried_until=DAY_END).save()
    MemoryState.of(user, unburied, state=State.NEW, due=NOW, buried_until=NOW).save()
    private = Deck.objects.create(owner=other, name="Bob's")
    card(private, 1)
    public = Deck.objects.create(owner=other, name="Bob's public", is_public=True)
    shared = card(public, 1)

    picked = set(cs.pick_cards(scope(user), cs.CRAM, limit=100))

    assert picked == {unburied.pk, fine.pk, shared.pk}
    assert blank.pk not in picked


def test_no_matching_cards_is_a_clear_error_and_keeps_the_old_session(user, deck):
    card(deck, 1, tags="kept")
    cs.start_session(user, cs.CRAM, deck, tag="kept", now=NOW)

    with pytest.raises(cs.CustomStudyError, match="No cards match these criteria."):
        cs.start_session(user, cs.FORGOT, deck, days=1, now=NOW)
    assert CustomStudySession.objects.get(user=user).mode == cs.CRAM


@pytest.mark.parametrize(
    ("mode", "options", "message"),
    [
        (cs.FORGOT, {"days": 0}, "Days must be a whole number from 1 to 365."),
        (cs.AHEAD, {"days": 366}, "Days must be a whole number from 1 to 365."),
        (cs.CRAM, {"limit": 0}, "The number of cards must be a whole number from 1 to 9999."),
        (cs.CRAM, {"tag": "two tags"}, "Give one tag"),
        ("shuffle", {}, "Unknown custom study mode"),
    ],
)
def test_bad_requests_say_what_is_wrong(user, deck, mode, options, message):
    card(deck, 1)
    with pytest.raises(cs.CustomStudyError, match=message):
        cs.start_session(user, mode, deck, now=NOW, **options)


def test_a_session_records_its_mode_and_whether_it_reschedules(user, deck):
    first, second = card(deck, 1, added=NOW), card(deck, 2, added=NOW)

    session = cs.start_session(user, cs.PREVIEW, deck, days=1, now=NOW)

    assert (session.mode, session.reschedule, session.total, session.done) == (
        cs.PREVIEW, False, 2, 0,
    )  # fmt: skip
    assert session.card_ids == [first.pk, second.pk]
    review_state(user, card(deck, 3), DAY_END)
    assert cs.start_session(user, cs.AHEAD, None, days=1, now=NOW).reschedule
    assert CustomStudySession.objects.count() == 1  # one per user: replaced


# -- raising today's limits --------------------------------------------------------------------


def test_raising_the_new_card_limit_adds_to_today_only(user, deck):
    for n in range(10):
        card(deck, n)
    assert StudyQueue(user, deck, now=NOW).counts().new == 3

    cs.raise_limits(user, new=4, now=NOW)
    cs.raise_limits(user, new=1, now=NOW)

    assert StudyQueue(user, deck, now=NOW).counts().new == 8
    assert deck_queue_counts(user, [deck], now=NOW)[deck.pk].new == 8
    assert StudyQueue(user, deck, now=NOW + timedelta(days=1)).counts().new == 3
    cs.raise_limits(user, new=2, now=NOW + timedelta(days=1))  # a new day starts from zero
    assert get_study_settings(user).boost_new == 2


def test_raising_the_review_limit_lets_more_reviews_in(user, deck):
    settings = get_study_settings(user)
    settings.reviews_per_day = 2
    settings.save()
    for n in range(6):
        review_state(user, card(deck, n), NOW - timedelta(hours=1))
    assert StudyQueue(user, deck, now=NOW).counts().review == 2

    cs.raise_limits(user, reviews=3, now=NOW)

    assert StudyQueue(user, deck, now=NOW).counts().review == 5


def test_a_limit_is_raised_by_at_least_one_and_at_most_9999(user):
    with pytest.raises(cs.CustomStudyError, match="at least 1"):
        cs.raise_limits(user, now=NOW)
    with pytest.raises(cs.CustomStudyError, match="from 1 to 9999"):
        cs.raise_limits(user, new=10_000, now=NOW)


# -- answering in a session --------------------------------------------------------------------


def session_token(user, made):
    memory = MemoryState.objects.filter(user=user, card=made).first()
    return issue_review_token(user, made, memory)


def test_preview_answers_change_no_schedule_and_write_no_history(user, deck):
    first, second = card(deck, 1, added=NOW), card(deck, 2, added=NOW)
    cs.start_session(user, cs.PREVIEW, deck, days=1, now=NOW)

    sessions.answer(user, session_token(user, first), 1, now=NOW)  # Again: back in 60 s
    session = sessions.current_session(user)
    assert session.card_ids == [second.pk, [first.pk, int(NOW.timestamp()) + 60]]
    queue = sessions.SessionQueue(user, session, NOW)
    assert queue.next_card().card == second
    sessions.answer(user, session_token(user, second), 4, now=NOW)  # Good: done
    # Nothing else left: the waiting card comes early (learn-ahead), as in Anki.
    queue = sessions.SessionQueue(user, sessions.current_session(user), NOW)
    assert queue.next_card().card == first
    sessions.answer(user, session_token(user, first), 5, now=NOW)

    session = sessions.current_session(user)
    assert (session.card_ids, session.done) == ([], 2)
    assert not ReviewLog.objects.exists()
    assert not MemoryState.objects.exists()
    assert sessions.SessionQueue(user, session, NOW).next_card() is None


def test_cram_of_review_cards_keeps_their_memory_states_as_they_were(user, deck):
    made = card(deck, 1, tags="t")
    review_state(user, made, DAY_END + timedelta(days=20))
    before = MemoryState.objects.get(card=made)
    cs.start_session(user, cs.CRAM, deck, tag="t", now=NOW)

    sessions.answer(user, session_token(user, made), 3, now=NOW)  # Hard: back in 10 minutes

    after = MemoryState.objects.get(card=made)
    assert (after.due, after.stability, after.version) == (
        before.due, before.stability, before.version,
    )  # fmt: skip
    assert not ReviewLog.objects.exists()
    assert sessions.current_session(user).card_ids == [[made.pk, int(NOW.timestamp()) + 600]]


def test_review_ahead_answers_are_reviews(user, deck):
    made = card(deck, 1)
    review_state(user, made, DAY_END)
    cs.start_session(user, cs.AHEAD, deck, days=1, now=NOW)

    answered = sessions.answer(user, session_token(user, made), 4, now=NOW)

    log = ReviewLog.objects.get()
    assert (log.card, answered.result.log) == (made, log)
    assert MemoryState.objects.get(card=made).due > DAY_END
    assert sessions.current_session(user).done == 1


def test_undo_puts_the_card_back_and_undoes_a_review(user, deck):
    made, later = card(deck, 1), card(deck, 2)
    review_state(user, made, DAY_END)
    review_state(user, later, DAY_END + timedelta(hours=1))
    cs.start_session(user, cs.AHEAD, deck, days=1, now=NOW)
    before = MemoryState.objects.get(card=made).due

    step = sessions.answer(user, session_token(user, made), 4, now=NOW).undo
    assert sessions.undo(user, step) == made.pk

    session = sessions.current_session(user)
    assert (session.card_ids, session.done) == ([made.pk, later.pk], 0)
    assert not ReviewLog.objects.exists()
    assert MemoryState.objects.get(card=made).due == before


def test_a_card_not_in_the_session_is_refused(user, deck):
    inside, outside = card(deck, 1, added=NOW), card(deck, 2)
    cs.start_session(user, cs.PREVIEW, deck, days=1, now=NOW)
    assert sessions.current_session(user).card_ids == [inside.pk]

    with pytest.raises(InvalidReview, match="not in your custom study session"):
        sessions.answer(user, session_token(user, outside), 4, now=NOW)


def test_a_card_suspended_meanwhile_is_skipped_and_counted_done(user, deck):
    first, second = card(deck, 1, added=NOW), card(deck, 2, added=NOW)
    cs.start_session(user, cs.PREVIEW, deck, days=1, now=NOW)
    MemoryState.of(user, first, state=State.NEW, due=NOW, suspended=True).save()

    queue = sessions.SessionQueue(user, sessions.current_session(user), NOW)

    assert queue.next_card().card == second
    assert (queue.session.card_ids, queue.session.done) == ([second.pk], 1)


# -- the rating gate's rule --------------------------------------------------------------------


def test_only_due_cards_new_cards_within_the_limit_or_session_cards_may_be_rated(user, deck):
    due, tomorrow, new = card(deck, 1), card(deck, 2), card(deck, 3)
    review_state(user, due, DAY_END - timedelta(hours=1))
    review_state(user, tomorrow, DAY_END)

    def allowed(made, new_left=3):
        memory = MemoryState.objects.filter(user=user, card=made).first()
        return may_rate(user, made, memory, Today(user, NOW, new_left=new_left))

    assert (allowed(due), allowed(tomorrow), allowed(new)) == (True, False, True)
    assert not allowed(new, new_left=0)
    cs.start_session(user, cs.AHEAD, deck, days=1, now=NOW)
    assert allowed(tomorrow)
