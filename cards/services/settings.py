"""A user's study settings, the scheduling policy they imply, and the bounds of a study day."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache

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
    values = tuple(_frozen(getattr(settings, name)) for name in _CHECKED)
    try:
        invalid = _invalid_fields(values)
    except TypeError:  # a value that cannot be a cache key: check it uncached
        invalid = _invalid_fields.__wrapped__(values)
    for name, errors in invalid:
        logger.warning(
            "study settings of user %s: %s %r is invalid (%s); using the default",
            settings.user_id,
            name,
            getattr(settings, name),
            errors,
        )
        setattr(settings, name, StudySettings._meta.get_field(name).get_default())
    settings._checked = True
    return settings


# Every stored value the model validates (not the row's id, owner or timestamp).
_CHECKED = [
    field.attname
    for field in StudySettings._meta.concrete_fields
    if field.name not in ("id", "user", "updated_at")
]


def _frozen(value):
    """A hashable stand-in for a stored value that keeps its type (True is not 1 here)."""
    if isinstance(value, list | tuple):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, _frozen(item)) for key, item in value.items()))
    return (type(value), value)


def _thawed(value):
    kind, inner = value
    if kind is list:
        return [_thawed(item) for item in inner]
    if kind is dict:
        return {key: _thawed(item) for key, item in inner}
    return inner


@lru_cache(maxsize=1024)
def _invalid_fields(values: tuple) -> tuple[tuple[str, str], ...]:
    """(field, reason) for each value the model refuses. Cached by the values themselves:
    validation is a pure function of them, and the full check costs ~0.13 ms, paid by every
    request that reads the settings (the study page and each rating) when it was uncached."""
    settings = StudySettings(**{name: _thawed(v) for name, v in zip(_CHECKED, values, strict=True)})
    try:
        settings.clean_fields(exclude=["id", "user", "updated_at"])
    except ValidationError as exc:
        return tuple((name, " ".join(errors)) for name, errors in exc.message_dict.items())
    return ()


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
