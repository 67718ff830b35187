from datetime import date

from cards.models import StudySettings
from cards.scheduling import Policy
from cards.services.settings import get_study_settings, policy_for, study_day_bounds

from .conftest import local


def test_settings_created_once_and_cached_on_the_user(owner, django_assert_num_queries):
    # 1 SELECT (none yet), then get_or_create: SELECT + INSERT (in a savepoint on PostgreSQL).
    settings = get_study_settings(owner)
    assert StudySettings.objects.filter(user=owner).count() == 1
    with django_assert_num_queries(0):
        assert get_study_settings(owner) is settings
    assert settings.new_cards_per_day == 20 and settings.reviews_per_day == 200


def test_policy_follows_the_settings(learner):
    settings = get_study_settings(learner)
    settings.desired_retention = 0.85
    settings.learning_steps = [30, 300, 3600]
    policy = policy_for(settings)
    assert isinstance(policy, Policy)
    assert policy.desired_retention == 0.85
    assert policy.learning_steps == (30, 300, 3600)
    assert policy.timezone == "America/New_York" and policy.day_start_hour == 4


def test_study_day_bounds_start_at_four_local(learner):
    settings = get_study_settings(learner)
    day, start, end = study_day_bounds(settings, local(2026, 6, 11, 3, 30))
    assert day == date(2026, 6, 10)  # 03:30 belongs to the day before
    assert start == local(2026, 6, 10, 4)
    assert end == local(2026, 6, 11, 4)
    # Across the autumn daylight-saving change the day lasts 25 hours, not 24.
    _, start, end = study_day_bounds(settings, local(2026, 10, 31, 12))
    assert (end - start).total_seconds() == 25 * 3600


def test_the_check_of_stored_settings_is_cached_by_value_and_mends_every_copy():
    from cards.services.settings import _invalid_fields, _mended

    _invalid_fields.cache_clear()
    for _ in range(2):
        bad = _mended(StudySettings(timezone="Mars/Olympus_Mons", learning_steps=[-60]))
        assert (bad.timezone, bad.learning_steps) == ("UTC", [60, 600])
    assert _invalid_fields.cache_info().hits == 1
    good = _mended(StudySettings(timezone="Europe/Paris", learning_steps=[30]))
    assert (good.timezone, good.learning_steps) == ("Europe/Paris", [30])
    # A value that is no cache key (a set) is still checked, uncached.
    odd = _mended(StudySettings(fsrs_parameters={1, 2}))
    assert len(odd.fsrs_parameters) == 21
