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
