import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cards.models import MemoryState, ReviewLog
from cards.services.rebuild import rebuild_states
from cards.services.reviews import undo_last_review
from cards.services.settings import get_study_settings

from .conftest import answer, local, make_cards

STATE_FIELDS = ["state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses"]


def stored_states():
    return {
        m.pk: {f: getattr(m, f) for f in [*STATE_FIELDS, "version"]}
        for m in MemoryState.objects.all()
    }


def random_history(user, cards, seed, reviews=120):
    """Random ratings at random moments: seconds, minutes, hours, days and months apart, with
    an undo now and then."""
    rng = random.Random(seed)
    moment = local(2026, 1, 5, 9, 0)
    for _ in range(reviews):
        moment += rng.choice(
            [
                timedelta(seconds=rng.randint(1, 90)),
                timedelta(minutes=rng.randint(1, 60)),
                timedelta(hours=rng.randint(1, 30)),
                timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 1440)),
            ]
        )
        answer(user, rng.choice(cards), rng.randint(1, 5), moment)
        if rng.random() < 0.08:
            undo_last_review(user)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Pacific/Auckland"])
def test_rebuild_reproduces_stored_states_exactly(learner, deck, zone):
    settings = get_study_settings(learner)
    settings.timezone = zone
    settings.save()
    cards = make_cards(deck, 6)
    random_history(learner, cards, seed=zone)
    assert ReviewLog.objects.count() > 80
    before = stored_states()
    lines = []
    assert rebuild_states(progress=lines.append) == 0
    assert stored_states() == before  # nothing rewritten, not even a version
    assert lines[-1].startswith("alice: 6 cards replayed")


def test_rebuild_command_reports_and_repairs_mismatches(learner, deck, other):
    cards = make_cards(deck, 3)
    random_history(learner, cards, seed=7, reviews=40)
    out = StringIO()
    call_command("rebuild_states", "--user", "alice", "--check", stdout=out)
    assert "0 mismatches" in out.getvalue() and "Every stored state matches" in out.getvalue()

    damaged = MemoryState.objects.filter(user=learner).first()
    right = {f: getattr(damaged, f) for f in STATE_FIELDS}
    MemoryState.objects.filter(pk=damaged.pk).update(stability=1.5, reps=99)
    out = StringIO()
    with pytest.raises(CommandError, match="1 stored states differ"):
        call_command("rebuild_states", "--check", stdout=out)
    assert f"card {damaged.card_id}: stability stored 1.5" in out.getvalue()
    assert "reps stored 99" in out.getvalue()

    out = StringIO()
    call_command("rebuild_states", stdout=out)
    assert "Rewrote 1 states" in out.getvalue()
    damaged.refresh_from_db()
    assert {f: getattr(damaged, f) for f in STATE_FIELDS} == right
    assert damaged.version > 0
    call_command("rebuild_states", "--check", stdout=StringIO())  # clean again

    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("rebuild_states", "--user", "nobody")


def test_rebuild_applies_changed_settings(learner, deck):
    cards = make_cards(deck, 4)
    random_history(learner, cards, seed=11, reviews=40)
    settings = get_study_settings(learner)
    settings.desired_retention = 0.8
    settings.save()
    versions = {m.pk: m.version for m in MemoryState.objects.all()}
    changed = rebuild_states(learner)
    assert changed > 0
    assert rebuild_states(learner, dry_run=True) == 0
    assert sum(m.version > versions[m.pk] for m in MemoryState.objects.all()) == changed
