"""Each figure of the statistics page, against numbers worked out by hand from conftest.py."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from cards.models import Card, Deck, ReviewLog, StudySettings
from cards.scheduling.days import study_day
from cards.services.stats import build_stats, mastery_threshold, offset_segments
from tests.stats.conftest import NOW, add_log

pytestmark = pytest.mark.django_db


def stats_for(user, deck=None, now=NOW):
    return build_stats(user, StudySettings.objects.get(user=user), deck=deck, now=now)


def test_totals(owner, history):
    stats = stats_for(owner)
    assert stats.totals["reviews"] == 9
    assert stats.totals["cards"] == 5  # A1-A4 and B1
    assert stats.totals["time_ms"] == 3_000_000 + 8 * 90_000
    assert stats.totals["time_text"] == "1h 2m"
    # Review-state reviews: 6, of which 4 passed (grade >= 2).
    assert stats.totals["review_state"] == 6
    assert stats.totals["passed"] == 4


def test_heatmap_counts_group_by_study_day_in_the_users_zone(owner, history):
    stats = stats_for(owner)
    assert stats.today == date(2026, 11, 28)
    assert stats.day_counts == {
        date(2026, 11, 28): 2,
        date(2026, 11, 27): 2,  # 20:00 UTC and 03:30 UTC (04:30 in Berlin, after the start)
        date(2026, 11, 26): 1,  # 02:30 UTC on the 27th is 03:30 in Berlin: still the 26th
        date(2026, 11, 24): 1,
        date(2026, 10, 10): 2,
    }
    # The year's window starts on a Monday 52 weeks back; June 2025 is outside it.
    assert stats.heatmap_start == date(2025, 11, 24)
    heatmap = stats.heatmap()
    assert len(heatmap["cells"]) == (date(2026, 11, 28) - date(2025, 11, 24)).days + 1
    assert heatmap["peak"] == 2 and heatmap["active_days"] == 5
    levels = {c["label"]: c["level"] for c in heatmap["cells"]}
    assert levels["Sat 28 Nov 2026"] == 4 and levels["Thu 26 Nov 2026"] == 2
    assert levels["Wed 25 Nov 2026"] == 0
    assert heatmap["cells"][-1]["title"] == "Sat 28 Nov 2026: 2 reviews"


def test_streak_counts_days_in_a_row_up_to_today(owner, history):
    assert stats_for(owner).streak == 3  # 26, 27, 28; nothing on the 25th
    # Early on the 29th with nothing done yet, the streak is still alive.
    assert stats_for(owner, now=datetime(2026, 11, 29, 8, tzinfo=UTC)).streak == 3
    # A whole day missed ends it.
    assert stats_for(owner, now=datetime(2026, 11, 30, 8, tzinfo=UTC)).streak == 0


def test_a_streak_longer_than_the_window_reads_older_days(owner):
    StudySettings.objects.create(user=owner, timezone="UTC", day_start_hour=0)
    deck = Deck.objects.create(owner=owner, name="Daily")
    card = Card.objects.create(deck=deck, question="q", answer="a")
    start = datetime(2025, 1, 1, 12, tzinfo=UTC)
    days = (NOW - start).days + 1
    ReviewLog.objects.bulk_create(
        ReviewLog(
            user=owner,
            card=card,
            deck=deck,
            rating=3,
            grade=3,
            reviewed_at=start + timedelta(days=i),
            state_before=2,
            state_after=2,
            due_after=start,
        )
        for i in range(days)
    )
    assert stats_for(owner).streak == days


def test_forecast_of_cards_due_per_day(owner, history):
    stats = stats_for(owner)
    assert len(stats.forecast) == 30
    assert stats.forecast[0] == (date(2026, 11, 28), 3)  # A2 overdue, A3, A4 (03:30 Berlin)
    assert stats.forecast[1] == (date(2026, 11, 29), 0)
    assert stats.forecast[2] == (date(2026, 11, 30), 1)  # A1
    assert stats.forecast[3] == (date(2026, 12, 1), 1)  # B1
    assert sum(n for _, n in stats.forecast) == 5


def test_forecast_leaves_out_suspended_cards(owner, history):
    Card.objects.filter(pk=history["cards"][1].pk).update(suspended=True)
    assert stats_for(owner).forecast[2] == (date(2026, 11, 30), 0)


def test_true_retention_per_week_and_month(owner, history):
    stats = stats_for(owner)
    assert stats.desired_retention == 0.9
    assert len(stats.weekly) == 26 and len(stats.monthly) == 12
    this_week = stats.weekly[-1]
    assert this_week.start == date(2026, 11, 23)
    assert (this_week.reviews, this_week.passed, this_week.rate) == (4, 3, 0.75)
    october_week = next(b for b in stats.weekly if b.start == date(2026, 10, 5))
    assert (october_week.reviews, october_week.passed, october_week.rate) == (1, 0, 0.0)
    assert sum(b.reviews for b in stats.weekly) == 5
    assert [b.start for b in stats.monthly][-2:] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert (stats.monthly[-1].reviews, stats.monthly[-1].passed) == (4, 3)
    assert (stats.monthly[-2].reviews, stats.monthly[-2].passed) == (1, 0)
    assert stats.monthly[0].start == date(2025, 12, 1) and stats.monthly[0].rate is None
    data = stats.chart_data()
    assert data["weekly"]["rates"][-1] == 0.75 and data["monthly"]["rates"][-2] == 0.0


def test_deck_mastery_and_card_counts(owner, history):
    rows = {m.name: m for m in stats_for(owner).mastery}
    # Gamma was never studied and is not alice's: left out. Bob's deck is private.
    assert set(rows) == {"Alpha", "Beta"}
    alpha = rows["Alpha"]
    # A1 (7.6 days <= 10), A3 (reviewed today), A4 (1 day <= 1.2) held; A2 (7.6 > 3) not.
    assert (alpha.answered, alpha.new, alpha.learning, alpha.review) == (5, 1, 2, 2)
    assert alpha.mastered == 3 and alpha.share == pytest.approx(0.6)
    beta = rows["Beta"]
    assert (beta.answered, beta.new, beta.learning, beta.review, beta.mastered) == (2, 1, 0, 1, 1)


def test_mastery_threshold_follows_the_fsrs6_curve():
    assert mastery_threshold(0.9, 0.1542) == pytest.approx(1.0)
    decay = 0.1542
    factor = 0.9 ** (-1 / decay) - 1
    k = mastery_threshold(0.8, decay)
    assert (1 + factor * k) ** -decay == pytest.approx(0.8)


def test_mastery_uses_the_desired_retention(owner, history):
    # At 0.95, k = 0.40: A1 (8 days > 4.0) and A4 (1 day > 0.48) drop out; A3 (today) stays.
    StudySettings.objects.filter(user=owner).update(desired_retention=0.95)
    rows = {m.name: m for m in stats_for(owner).mastery}
    k = mastery_threshold(0.95, StudySettings.objects.get(user=owner).fsrs_parameters[20])
    assert k == pytest.approx(0.4026, abs=1e-4)
    assert rows["Alpha"].mastered == 1


def test_distributions_of_stability_and_difficulty(owner, history):
    stats = stats_for(owner)
    assert [n for _, n in stats.stability] == [1, 1, 1, 1, 0, 0, 0, 0, 1, 0]
    # 1.0 falls in the first bin, 10.0 in the last (inclusive), 5.0 in 5-6.
    assert [n for _, n in stats.difficulty] == [1, 1, 0, 0, 1, 0, 1, 0, 1]
    assert stats.stability[0][0] == "under 1 day" and stats.difficulty[-1][0] == "9–10"


def test_calibration_bins_log_loss_and_rmse(owner, history):
    stats = stats_for(owner)
    # Reviews with a prediction on a later day: 0.35 ok, 0.55 no, 0.75 ok, 0.85 no, 0.92 and
    # 0.95 ok. The same-day steps (0.99) are left out, as the optimiser leaves them out.
    bins = {round(b.low, 1): b for b in stats.calibration}
    assert sorted(bins) == [0.3, 0.5, 0.7, 0.8, 0.9]
    assert (bins[0.9].count, bins[0.9].predicted, bins[0.9].actual) == (2, pytest.approx(0.935), 1)
    assert (bins[0.8].count, bins[0.8].predicted, bins[0.8].actual) == (1, pytest.approx(0.85), 0)
    assert (bins[0.3].count, bins[0.3].actual) == (1, 1)
    assert stats.calibration_reviews == 6
    expected_loss = -sum(map(math.log, [0.35, 0.45, 0.75, 0.15, 0.92, 0.95])) / 6
    assert stats.log_loss == pytest.approx(expected_loss)
    squared = 0.65**2 + 0.55**2 + 0.25**2 + 0.85**2 + 2 * 0.065**2
    assert stats.rmse == pytest.approx(math.sqrt(squared / 6))
    # Six reviews are far too few for the optimiser, however poor the fit.
    assert stats.rmse > 0.05 and not stats.suggest_optimizer


def test_calibration_suggests_the_optimiser_for_a_poor_fit_with_enough_history(owner, history):
    card = history["cards"][5]
    for i in range(400):
        add_log(owner, card, datetime(2026, 9, 1, tzinfo=UTC) + timedelta(minutes=i), 1, 2, 0.9, 3)
    stats = stats_for(owner)
    assert stats.calibration_reviews == 406 and stats.suggest_optimizer


def test_a_deck_filter_narrows_every_figure(owner, history):
    stats = stats_for(owner, deck=history["alpha"])
    assert stats.totals["reviews"] == 8 and stats.totals["cards"] == 4
    assert date(2026, 11, 24) not in stats.day_counts
    assert [m.name for m in stats.mastery] == ["Alpha"]
    assert sum(n for _, n in stats.forecast) == 4
    assert sum(n for _, n in stats.stability) == 4
    assert stats.calibration_reviews == 5


def test_bob_sees_only_his_own_history(other, history):
    stats = build_stats(other, StudySettings.objects.get(user=other), now=NOW)
    assert stats.totals["reviews"] == 18 and stats.totals["cards"] == 2
    assert {m.name for m in stats.mastery} == {"Bob's secret deck", "Beta"}


def test_sql_study_days_match_the_python_rule_across_a_dst_change(owner):
    """The SQL grouping agrees with cards.scheduling.days.study_day hour by hour."""
    StudySettings.objects.create(user=owner, timezone="Europe/Berlin", day_start_hour=2)
    deck = Deck.objects.create(owner=owner, name="DST")
    card = Card.objects.create(deck=deck, question="q", answer="a")
    start = datetime(2026, 10, 24, 20, 30, tzinfo=UTC)  # Berlin leaves summer time on the 25th
    moments = [start + timedelta(hours=h) for h in range(40)]
    for moment in moments:
        add_log(owner, card, moment, 3, 2)
    expected = {}
    for moment in moments:
        day = study_day(moment, "Europe/Berlin", 2)
        expected[day] = expected.get(day, 0) + 1
    stats = stats_for(owner, now=datetime(2026, 10, 27, 12, tzinfo=UTC))
    assert stats.day_counts == expected


def test_offset_segments_find_each_dst_change_to_the_second():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    segments = offset_segments("Europe/Berlin", start, datetime(2027, 1, 1, tzinfo=UTC))
    assert segments == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 3600),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 7200),
        (None, 3600),
    ]
    assert offset_segments("UTC", start, start + timedelta(days=400)) == [(None, 0)]
