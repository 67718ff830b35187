"""A user's study settings, the scheduling policy they imply, and the bounds of a study day."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from cards.models import StudySettings
from cards.scheduling import Policy, study_day, study_day_start

logger = logging.getLogger(__name__)


def get_study_settings(user) -> StudySettings:
    """The user's settings, created with the defaults on first use.

    Cached on the user object (Django's one-to-one cache), so a request pays one query at most.
    """
    try:
        return _mended(user.study_settings)
    except StudySettings.DoesNotExist:
        pass
    settings, _ = StudySettings.objects.get_or_create(user=user)
    user.study_settings = settings
    return _mended(settings)


def _mended(settings: StudySettings) -> StudySettings:
    """The settings with each field that fails the model's validation (stored before the
    validators existed, or by raw SQL) replaced by its default in memory, and a warning
    logged: a bad stored value must not turn every page of its user into an error."""
    if getattr(settings, "_checked", False):
        return settings
    try:
        settings.clean_fields(exclude=["user", "updated_at"])
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            logger.warning(
                "study settings of user %s: %s %r is invalid (%s); using the default",
                settings.user_id,
                name,
                getattr(settings, name),
                " ".join(errors),
            )
            setattr(settings, name, StudySettings._meta.get_field(name).get_default())
    settings._checked = True
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
