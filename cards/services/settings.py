"""A user's study settings, the scheduling policy they imply, and the bounds of a study day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from cards.models import StudySettings
from cards.scheduling import Policy, study_day, study_day_start


def get_study_settings(user) -> StudySettings:
    """The user's settings, created with the defaults on first use.

    Cached on the user object (Django's one-to-one cache), so a request pays one query at most.
    """
    try:
        return user.study_settings
    except StudySettings.DoesNotExist:
        pass
    settings, _ = StudySettings.objects.get_or_create(user=user)
    user.study_settings = settings
    return settings


def policy_for(settings: StudySettings) -> Policy:
    """The scheduling policy of these settings (raises ValueError naming a bad field)."""
    return Policy(
        parameters=tuple(settings.fsrs_parameters),
        desired_retention=settings.desired_retention,
        learning_steps=tuple(settings.learning_steps),
        relearning_steps=tuple(settings.relearning_steps),
        maximum_interval=settings.maximum_interval,
        timezone=settings.timezone,
        day_start_hour=settings.day_start_hour,
        enable_fuzz=True,
    )


def study_day_bounds(
    settings: StudySettings, now: datetime | None = None
) -> tuple[date, datetime, datetime]:
    """(study day, its start, the next day's start) for `now`, the instants in UTC."""
    now = now or timezone.now()
    day = study_day(now, settings.timezone, settings.day_start_hour)
    start = study_day_start(day, settings.timezone, settings.day_start_hour)
    end = study_day_start(day + timedelta(days=1), settings.timezone, settings.day_start_hour)
    return day, start, end
