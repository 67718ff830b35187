"""Importing Anki's review history: logs, FSRS memory, due dates and the learner's marks,
compared with what the real Anki backend holds for the same collection."""

from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from cards.models import Card, MemoryState, Note, ReviewLog  # noqa: E402
from cards.scheduling import State, study_day_start  # noqa: E402

from .builders import build_collection, expected_content, export_apkg, import_file  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The standard collection plus a manual reschedule (a revlog row with ease 0), open for
    Anki's own day logic, and its .apkg."""
    folder = tmp_path_factory.mktemp("anki-history")
    col = build_collection(folder)
    col.sched.set_due_date([col.find_cards("is:review")[0]], "3")
    path = export_apkg(col, folder / "history.apkg", legacy=False)
    yield col, expected_content(col, media=False), path
    col.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("learner")


def _card(anki_card_id, expected):
    anki = expected.cards[anki_card_id]
    guid = expected.notes[anki["note_id"]]["guid"]
    return Card.objects.get(note__guid=guid, ord=anki["ord"])


@pytest.mark.django_db
def test_every_answer_becomes_a_review_log(live, user):
    _, expected, path = live
    summary = import_file(path, user)
    answers = [r for r in expected.reviews if r[2] > 0]
    manual = [r for r in expected.reviews if r[2] == 0]
    assert manual, "the collection should hold a manual reschedule"
    assert ReviewLog.objects.filter(user=user).count() == len(answers) == summary.reviews_created
    assert summary.reschedules == len(manual)
    for revlog_id, card_id, ease, _ivl, _last, _factor, ms, _type in answers:
        log = ReviewLog.objects.get(user=user, review_token=f"anki:{card_id}:{revlog_id}")
        assert log.card == _card(card_id, expected)
        assert (log.grade, log.rating, log.rating_scale) == (ease, ease, "four")
        assert log.reviewed_at == datetime.fromtimestamp(revlog_id / 1000, UTC)
        assert log.duration_ms == ms
        assert log.due_after is not None  # replayed: the log has its before/after states


@pytest.mark.django_db
def test_memory_comes_from_ankis_fsrs_state(live, user):
    _, expected, path = live
    summary = import_file(path, user)
    with_memory = {cid: c for cid, c in expected.cards.items() if "s" in c["data"]}
    assert with_memory, "FSRS is on: reviewed cards carry memory"
    assert summary.memory_from_anki == len(with_memory)
    for card_id, anki in with_memory.items():
        memory = MemoryState.objects.get(user=user, card=_card(card_id, expected))
        assert memory.stability == pytest.approx(anki["data"]["s"], abs=1e-3)
        assert memory.difficulty == pytest.approx(anki["data"]["d"], abs=1e-3)
        assert memory.state == anki["type"]
        assert (memory.reps, memory.lapses) == (anki["reps"], anki["lapses"])


@pytest.mark.django_db
def test_due_dates_are_ankis(live, user):
    col, expected, path = live
    import_file(path, user)  # the user's settings: UTC, day starts at 4 (Anki's rollover)
    assert expected.rollover_hour == 4
    now = datetime.now(UTC)
    # Anki's own day logic: today's number is col.sched.today, its date the local (UTC) date
    # of now shifted back by the rollover hour.
    anki_today = (now - timedelta(hours=expected.rollover_hour)).date()
    checked = 0
    for card_id, anki in expected.cards.items():
        memory = MemoryState.objects.filter(user=user, card=_card(card_id, expected)).first()
        if anki["type"] == 0:
            assert memory is None or memory.state == State.NEW
            continue
        if anki["queue"] == 1 or (anki["type"] in (1, 3) and anki["due"] > 1_000_000_000):
            assert memory.due == datetime.fromtimestamp(anki["due"], UTC)
        else:
            day = anki_today + timedelta(days=anki["due"] - col.sched.today)
            assert memory.due == study_day_start(day, "UTC", 4)
        checked += 1
    assert checked >= 5


@pytest.mark.django_db
def test_marks_suspended_buried_flagged(live, user):
    _, expected, path = live
    summary = import_file(path, user)
    now = datetime.now(UTC)
    for card_id, anki in expected.cards.items():
        memory = MemoryState.objects.filter(user=user, card=_card(card_id, expected)).first()
        marks = anki["queue"] < 0 or anki["flags"] & 7
        if not marks:
            continue
        assert memory is not None, anki
        assert memory.suspended == (anki["queue"] == -1)
        assert (memory.buried_until is not None) == (anki["queue"] in (-2, -3))
        if memory.buried_until:
            assert now < memory.buried_until <= now + timedelta(days=1)
        assert memory.flag == anki["flags"] & 7
    queues = [c["queue"] for c in expected.cards.values()]
    assert summary.suspended == queues.count(-1) == 1
    assert summary.buried == queues.count(-2) + queues.count(-3) == 1
    assert summary.flagged == sum(1 for c in expected.cards.values() if c["flags"] & 7) == 7
    # The marks are the learner's own: the cards themselves are not suspended for everyone.
    assert not Card.objects.filter(suspended=True).exists()


@pytest.mark.django_db
def test_replayed_dues_that_differ_are_named(live, user):
    _, expected, path = live
    summary = import_file(path, user)
    assert len(summary.due_examples) == min(summary.due_differs, 10)
    reviewed = {r[1] for r in expected.reviews if r[2] > 0}
    for example in summary.due_examples:
        anki_id = int(example.split("Anki card ")[1].split(")")[0])
        assert anki_id in reviewed
        assert Note.objects.filter(guid=expected.notes[expected.cards[anki_id]["note_id"]]["guid"])


@pytest.mark.django_db
def test_without_scheduling_everything_is_new(live, user, tmp_path):
    col, expected, _ = live
    path = export_apkg(col, tmp_path / "plain.apkg", legacy=False, with_scheduling=False)
    summary = import_file(path, user)
    assert summary.reviews_created == 0 and summary.memory_states == 0
    assert Card.objects.count() == len(expected.cards)
    assert not MemoryState.objects.exists()
