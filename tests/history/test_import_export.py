from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import Grade, Policy, replay
from cards.services.rebuild import rebuild_states
from cards.services.reviews import issue_review_token, record_review
from tests.conftest import make_user

from .conftest import run

CARDS = "question,answer,id,tags\nWhat is 2+2?,4,c1,maths\nCapital of France?,Paris,c2,geo\n"
# 1700000000000 ms = 2023-11-14 22:13:20 UTC
REVLOG = (
    "card_id,review_time,review_rating,review_state,review_duration\n"
    "c1,1700000000000,3,0,5000\n"
    "c1,1700000600000,3,1,4000\n"
    "c2,1700000000000,1,0,1000\n"
    "c2,1700000060000,3,1,\n"
    "c1,1700200000000,3,2,3000\n"
)


def states(user):
    return sorted(
        MemoryState.objects.filter(user=user).values_list(
            "card_id", "state", "step", "stability", "difficulty", "due", "last_review", "reps"
        )
    )


@pytest.fixture
def deck(owner, write):
    run("import_cards", write("cards.csv", CARDS), "--user", "alice", "--deck", "Basics")
    return Deck.objects.get(owner=owner, name="Basics")


@pytest.fixture
def imported(deck, write):
    run("import_revlog", write("revlog.csv", REVLOG), "--user", "alice", "--deck", "Basics")
    return deck


# -- import_cards ------------------------------------------------------------------------------


def test_import_cards_creates_the_users_own_deck(deck, owner, other, write):
    assert deck.owner == owner and not deck.is_public
    assert list(deck.cards.values_list("question", "answer", "external_id", "tags")) == [
        ("What is 2+2?", "4", "c1", "maths"),
        ("Capital of France?", "Paris", "c2", "geo"),
    ]
    # Another user's deck of the same name is a different deck.
    run("import_cards", write("b.csv", CARDS), "--user", "bob", "--deck", "Basics")
    assert Deck.objects.filter(name="Basics").count() == 2


def test_import_cards_again_updates_in_place(deck, write):
    changed = CARDS.replace("Paris", "Paris on the Seine")
    out = run("import_cards", write("again.csv", changed), "--user", "alice", "--deck", "Basics")
    assert "0 cards created, 1 updated, 1 unchanged" in out
    assert Card.objects.get(external_id="c2").answer == "Paris on the Seine"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--user", "nobody", "--deck", "X"], "no user named 'nobody'"),
        (["--user", "alice", "--deck", "  "], "the deck name is empty"),
    ],
)
def test_import_cards_refuses_bad_arguments(owner, write, args, fragment):
    with pytest.raises(CommandError, match=fragment):
        run("import_cards", write("c.csv", CARDS), *args)


def test_import_cards_names_the_bad_row_and_saves_nothing(owner, write):
    text = CARDS + ",no question,c3,\n"
    with pytest.raises(CommandError, match="row 4: the question is empty; nothing was imported"):
        run("import_cards", write("c.csv", text), "--user", "alice", "--deck", "Basics")
    assert not Deck.objects.exists()


# -- import_revlog -----------------------------------------------------------------------------


def test_import_revlog_stores_logs_and_replays_the_states(imported, owner):
    logs = ReviewLog.objects.filter(user=owner).order_by("card__external_id", "reviewed_at")
    assert [(log.card.external_id, log.rating, log.grade, log.rating_scale) for log in logs] == [
        ("c1", 3, 3, "four"),
        ("c1", 3, 3, "four"),
        ("c1", 3, 3, "four"),
        ("c2", 1, 1, "four"),
        ("c2", 3, 3, "four"),
    ]
    assert logs[0].reviewed_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert [log.duration_ms for log in logs] == [5000, 4000, 3000, 1000, 0]
    # The states are the core's replay with the fuzz seed "<card pk>:<reps before>".
    c1 = Card.objects.get(external_id="c1")
    c1_logs = [log for log in logs if log.card_id == c1.pk]
    expected = replay(
        [(Grade(log.grade), log.reviewed_at, f"{c1.pk}:{i}") for i, log in enumerate(c1_logs)],
        Policy(),
    )
    memory = MemoryState.objects.get(user=owner, card=c1)
    assert (memory.state, memory.stability, memory.difficulty, memory.due, memory.reps) == (
        expected[-1].after.state,
        expected[-1].after.stability,
        expected[-1].after.difficulty,
        expected[-1].after.due,
        3,
    )
    assert [log.state_before for log in c1_logs] == [0, 1, 2]
    assert c1_logs[-1].stability_after == memory.stability
    # The scheduling service's own replay agrees with every stored state.
    assert rebuild_states(owner, dry_run=True) == 0


def test_import_revlog_twice_does_not_duplicate(imported, owner, write):
    before = states(owner)
    out = run("import_revlog", write("again.csv", REVLOG), "--user", "alice", "--deck", "Basics")
    assert "0 reviews imported, 5 already there" in out
    assert ReviewLog.objects.filter(user=owner).count() == 5
    assert states(owner) == before


def test_import_revlog_merges_earlier_history_and_replays_it(imported, owner, write):
    earlier = "card_id,review_time,review_rating\nc2,1690000000000,4\n"  # Easy: graduates
    run("import_revlog", write("earlier.csv", earlier), "--user", "alice", "--deck", "Basics")
    c2_logs = ReviewLog.objects.filter(user=owner, card__external_id="c2").order_by("reviewed_at")
    assert [log.state_before for log in c2_logs] == [0, 2, 3]  # new, then a review lapse
    assert MemoryState.objects.get(user=owner, card__external_id="c2").lapses == 1
    assert rebuild_states(owner, dry_run=True) == 0


def test_an_imported_review_can_be_undone_exactly(imported, owner):
    from cards.services.reviews import undo_last_review

    memory = MemoryState.objects.get(user=owner, card__external_id="c1")
    undo_last_review(owner)
    memory.refresh_from_db()
    assert (memory.state, memory.reps) == (2, 2)  # back to review after two learning steps
    assert rebuild_states(owner, dry_run=True) == 0


HEADER = "card_id,review_time,review_rating,review_state,review_duration\n"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("c9,1700000000000,3,,\n", "row 2: unknown card_id 'c9'"),
        (",1700000000000,3,,\n", "row 2: card_id is empty"),
        ("c1,yesterday,3,,\n", "row 2: review_time 'yesterday' is not a whole number"),
        ("c1,-5,3,,\n", "row 2: review_time -5 is not after 1970"),
        ("c1,99999999999999,3,,\n", "row 2: review_time 99999999999999 (5138-"),
        ("c1,1700000000000,5,,\n", "row 2: review_rating '5' must be 1, 2, 3 or 4"),
        ("c1,1700000000000,0,,\n", "row 2: review_rating '0' must be 1, 2, 3 or 4"),
        ("c1,1700000000000,good,,\n", "row 2: review_rating 'good' must be 1, 2, 3 or 4"),
        ("c1,1700000000000,3,7,\n", "row 2: review_state '7' must be 0-3"),
        ("c1,1700000000000,3,0,-1\n", "row 2: review_duration '-1' must be a whole number"),
        ("c1,1700000000000,3\n", "row 2: expected 5 fields, found 3"),
        (
            "c1,1600000000000,3,,\nc1,1600000000000,3,,\n",
            "row 3: review_time 1600000000000 of card 'c1' is not after its previous review "
            "on row 2",
        ),
        (
            "c1,1600000000000,3,,\nc1,1500000000000,3,,\n",
            "row 3: review_time 1500000000000 of card 'c1' is not after",
        ),
        ("c1,1700000000000,1,,\n", "row 2: card 'c1' already has a review at 1700000000000 rated"),
        ('c1,"1600000000000,3,,\n', "malformed CSV"),
    ],
)
def test_import_revlog_refuses_a_bad_row_and_imports_nothing(
    imported, owner, write, body, fragment
):
    logs, memory = ReviewLog.objects.count(), states(owner)
    good_after = "c2,1710000000000,3,2,100\n"  # valid on its own: must not be imported either

    with pytest.raises(CommandError) as excinfo:
        path = write("bad.csv", HEADER + body + good_after)
        run("import_revlog", path, "--user", "alice", "--deck", "Basics")

    assert fragment in str(excinfo.value)
    assert "Nothing was imported" in str(excinfo.value)
    assert ReviewLog.objects.count() == logs
    assert states(owner) == memory


def test_import_revlog_lists_every_bad_row(deck, owner, write):
    text = HEADER + "c1,x,3,,\nc1,1700000000000,3,,\nzz,1700000000000,3,,\nc2,1700000000000,9,,\n"
    with pytest.raises(CommandError) as excinfo:
        run("import_revlog", write("bad.csv", text), "--user", "alice", "--deck", "Basics")
    message = str(excinfo.value)
    assert "3 problem(s) found" in message
    assert "row 2:" in message and "row 4:" in message and "row 5:" in message
    assert "row 3:" not in message
    assert not ReviewLog.objects.exists() and not MemoryState.objects.exists()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("card,time,rating\nc1,1,3\n", "row 1: the header must be card_id,review_time"),
        ("card_id,review_time,review_rating,colour\n", "unknown column 'colour'"),
    ],
)
def test_import_revlog_refuses_a_bad_header(deck, write, text, fragment):
    with pytest.raises(CommandError, match=fragment):
        run("import_revlog", write("bad.csv", text), "--user", "alice", "--deck", "Basics")


def test_import_revlog_needs_a_deck_the_user_can_see(deck, other, write):
    with pytest.raises(CommandError, match="no deck named 'Basics' that you own or that is public"):
        run("import_revlog", write("r.csv", REVLOG), "--user", "bob", "--deck", "Basics")


def test_import_revlog_reports_progress(deck, write):
    out = run("import_revlog", write("r.csv", REVLOG), "--user", "alice", "--deck", "Basics")
    assert "5 new reviews valid; rescheduling their cards" in out
    assert "5 reviews imported, 0 already there, 2 cards rescheduled" in out


# -- export ------------------------------------------------------------------------------------


def test_export_states_writes_iso_utc_times_and_state_names(imported):
    lines = run("export_states", "--user", "alice", "--deck", "Basics").splitlines()
    assert lines[0] == "card_id,state,stability,difficulty,due,last_review,reps,lapses"
    c1 = lines[1].split(",")
    assert c1[0] == "c1" and c1[1] == "Review"
    assert c1[5] == "2023-11-17T05:46:40.000Z"
    assert c1[4].endswith("T04:00:00.000Z")  # a review card falls due at the study day's start
    assert (c1[6], c1[7]) == ("3", "0")
    assert lines[2].split(",")[:2] == ["c2", "Learning"]


def test_export_revlog_writes_the_revlog_format(imported, owner, other):
    lines = run("export_revlog", "--user", "alice").splitlines()
    assert lines == [
        "card_id,review_time,review_rating,review_state,review_duration",
        "c1,1700000000000,3,0,5000",
        "c2,1700000000000,1,0,1000",
        "c2,1700000060000,3,1,0",
        "c1,1700000600000,3,1,4000",
        "c1,1700200000000,3,2,3000",
    ]
    assert run("export_revlog", "--user", "bob") == lines[0] + "\n"
    with pytest.raises(CommandError, match="--deck: no deck named 'Nope'"):
        run("export_revlog", "--user", "alice", "--deck", "Nope")


def _study_live(user, deck, start):
    """Reviews through the service, at times with microseconds and on the 1-5 scale."""
    cards = list(deck.cards.order_by("position"))
    plan = [(0, 4), (1, 1), (0, 5), (1, 3), (1, 4)]
    for step, (index, rating) in enumerate(plan):
        card = cards[index]
        memory = MemoryState.objects.filter(user=user, card=card).first()
        now = start + timedelta(days=step * 2, seconds=step * 61, microseconds=123457 * step)
        record_review(user, issue_review_token(user, card, memory), rating, 2500 + step, now=now)


def test_export_then_import_into_a_fresh_user_gives_the_same_history(imported, owner, write):
    _study_live(owner, imported, datetime(2024, 3, 1, 9, 30, 0, 555555, tzinfo=UTC))
    exported = run("export_revlog", "--user", "alice", "--deck", "Basics")

    fresh = make_user("dora")
    run("import_cards", write("cards.csv", CARDS), "--user", "dora", "--deck", "Copy")
    run("import_revlog", write("mine.csv", exported), "--user", "dora", "--deck", "Copy")

    assert run("export_revlog", "--user", "dora") == exported
    # Same memory; only the fuzz of the due date may differ, as it is seeded by card.
    keep = [0, 1, 2, 3, 5, 6, 7]
    mine = run("export_states", "--user", "alice", "--deck", "Basics").splitlines()
    theirs = run("export_states", "--user", "dora", "--deck", "Copy").splitlines()
    assert [[row.split(",")[i] for i in keep] for row in mine] == [
        [row.split(",")[i] for i in keep] for row in theirs
    ]
    assert ReviewLog.objects.filter(user=fresh).count() == 10


def test_round_trip_on_a_shared_public_deck_gives_identical_states(staff, owner, write):
    run("import_cards", write("cards.csv", CARDS), "--user", "carol", "--deck", "Shared")
    Deck.objects.filter(name="Shared").update(is_public=True)
    deck = Deck.objects.get(name="Shared")
    run("import_revlog", write("r.csv", REVLOG), "--user", "alice", "--deck", "Shared")
    _study_live(owner, deck, datetime(2024, 3, 1, 9, 30, 0, 555555, tzinfo=UTC))
    exported = run("export_revlog", "--user", "alice", "--deck", "Shared")

    make_user("dora")
    run("import_revlog", write("mine.csv", exported), "--user", "dora", "--deck", "Shared")

    assert run("export_revlog", "--user", "dora", "--deck", "Shared") == exported
    assert run("export_states", "--user", "dora", "--deck", "Shared") == run(
        "export_states", "--user", "alice", "--deck", "Shared"
    )


def test_importing_leaves_the_logs_of_untouched_live_reviews_alone(deck, owner, write):
    _study_live(owner, deck, datetime(2024, 3, 1, 9, 30, 0, 555555, tzinfo=UTC))
    c1_before = list(ReviewLog.objects.filter(card__external_id="c1").values())
    versions = {
        log.pk: log.before["version"]
        for log in ReviewLog.objects.filter(card__external_id="c2")
        if "version" in log.before
    }
    # Only card c2 gets earlier history: c1's logs are not rewritten at all.
    earlier = "card_id,review_time,review_rating\nc2,1690000000000,3\n"
    run("import_revlog", write("c2.csv", earlier), "--user", "alice", "--deck", "Basics")
    assert list(ReviewLog.objects.filter(card__external_id="c1").values()) == c1_before
    c2_logs = ReviewLog.objects.filter(card__external_id="c2").order_by("reviewed_at")
    assert [log.rating_scale for log in c2_logs] == ["four", "five", "five", "five"]
    assert versions and all(
        log.before.get("version") == versions[log.pk] for log in c2_logs if log.pk in versions
    )
    assert rebuild_states(owner, dry_run=True) == 0


def test_cards_without_an_imported_id_go_by_their_number(staff, owner, other, write):
    deck = Deck.objects.create(owner=None, name="Site deck", is_public=True)
    first = Card.objects.create(deck=deck, question="One?", answer="1", position=1)
    Card.objects.create(deck=deck, question="Two?", answer="2", position=2)
    _study_live(owner, deck, datetime(2024, 3, 1, 9, 30, tzinfo=UTC))
    exported = run("export_revlog", "--user", "alice", "--deck", "Site deck")
    assert exported.splitlines()[1].startswith(f"{first.pk},")

    run("import_revlog", write("r.csv", exported), "--user", "bob", "--deck", "Site deck")

    assert run("export_revlog", "--user", "bob") == exported
    assert run("export_states", "--user", "bob", "--deck", "Site deck") == run(
        "export_states", "--user", "alice", "--deck", "Site deck"
    )
