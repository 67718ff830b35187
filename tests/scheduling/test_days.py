from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cards.scheduling import elapsed_days, study_day, study_day_start

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


def test_three_am_belongs_to_previous_day():
    assert study_day(local(BERLIN, 2026, 5, 10, 3, 0), BERLIN, 4) == date(2026, 5, 9)
    assert study_day(local(BERLIN, 2026, 5, 10, 3, 59), BERLIN, 4) == date(2026, 5, 9)
    assert study_day(local(BERLIN, 2026, 5, 10, 4, 0), BERLIN, 4) == date(2026, 5, 10)
    # With a midnight start the calendar day is the study day.
    assert study_day(local(BERLIN, 2026, 5, 10, 3, 0), BERLIN, 0) == date(2026, 5, 10)


def test_study_day_uses_the_users_zone_not_utc():
    moment = datetime(2026, 5, 10, 2, 30, tzinfo=UTC)  # 22:30 on the 9th in New York
    assert study_day(moment, NEW_YORK, 4) == date(2026, 5, 9)
    assert study_day(moment, "Asia/Tokyo", 4) == date(2026, 5, 10)  # 11:30 in Tokyo


def test_late_evening_then_three_am_is_the_same_study_day():
    evening = local(BERLIN, 2026, 5, 9, 22, 0)
    assert elapsed_days(evening, local(BERLIN, 2026, 5, 10, 3, 0), BERLIN, 4) == 0


def test_late_evening_then_five_am_is_the_next_study_day():
    evening = local(BERLIN, 2026, 5, 9, 22, 0)
    assert elapsed_days(evening, local(BERLIN, 2026, 5, 10, 5, 0), BERLIN, 4) == 1


def test_study_day_start_is_utc_and_round_trips():
    start = study_day_start(date(2026, 7, 1), BERLIN, 4)
    assert start.tzinfo is UTC
    assert start == datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 04:00 CEST
    assert study_day(start, BERLIN, 4) == date(2026, 7, 1)
    assert study_day(start - timedelta(seconds=1), BERLIN, 4) == date(2026, 6, 30)


@pytest.mark.parametrize(
    ("tz", "change", "hours"),
    [
        (BERLIN, date(2026, 3, 29), 23),
        (BERLIN, date(2026, 10, 25), 25),
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 25),
    ],
)
@pytest.mark.parametrize("hour", [0, 2, 4])
def test_dst_change_neither_loses_nor_adds_a_day(tz, change, hours, hour):
    before = study_day_start(change - timedelta(days=1), tz, hour)
    after = study_day_start(change, tz, hour)
    following = study_day_start(change + timedelta(days=1), tz, hour)
    # One of the two days around the change is 23 or 25 hours long, the other exactly 24
    # (which one depends on whether the start hour falls before or after the change).
    assert following - before == timedelta(hours=24 + hours)
    assert {after - before, following - after} == {timedelta(hours=hours), timedelta(hours=24)}
    for day, start in ((change - timedelta(days=1), before), (change, after)):
        assert study_day(start, tz, hour) == day
    # Walking hour by hour across the change, the study day advances by exactly one per day.
    moment = before
    seen = []
    while moment < following + timedelta(days=1):
        seen.append(study_day(moment, tz, hour))
        moment += timedelta(hours=1)
    assert sorted(set(seen)) == [change - timedelta(days=1) + timedelta(days=i) for i in range(3)]
    assert elapsed_days(before, following, tz, hour) == 2
    assert elapsed_days(before + timedelta(hours=12), after + timedelta(hours=12), tz, hour) == 1


def test_nonexistent_start_rolls_forward():
    # Berlin skips 02:00-03:00 on 2026-03-29: a 02:00 day start becomes 03:00 CEST (01:00 UTC).
    start = study_day_start(date(2026, 3, 29), BERLIN, 2)
    assert start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert study_day(start, BERLIN, 2) == date(2026, 3, 29)
    assert study_day(start - timedelta(seconds=1), BERLIN, 2) == date(2026, 3, 28)


def test_daily_review_across_dst_counts_one_day_each():
    for tz in (BERLIN, NEW_YORK):
        moment = local(tz, 2026, 3, 1, 21, 0)
        for _ in range(60):
            nxt = moment + timedelta(days=1)  # 24 h later: 20:00 or 22:00 local on DST days
            assert elapsed_days(moment, nxt, tz, 4) == 1
            moment = nxt


def test_naive_and_unknown_zone_rejected():
    with pytest.raises(ValueError, match="aware"):
        study_day(datetime(2026, 1, 1, 12), BERLIN, 4)
    with pytest.raises(ValueError, match="timezone"):
        study_day(datetime(2026, 1, 1, tzinfo=UTC), "Mars/Olympus", 4)
    with pytest.raises(ValueError, match="day_start_hour"):
        study_day_start(date(2026, 1, 1), BERLIN, 24)
