"""Forms: they validate and clean; views assign the cleaned data."""

import re
from functools import cache

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from cards import validators as v
from cards.models import StudySettings
from cards.models.scheduling import LEECH_ACTION_CHOICES
from cards.scheduling import Policy
from cards.validators import MAX_STEP_SECONDS, MAX_STEPS

# The ranges and rules are the model's (cards/validators.py); this form only turns typed text
# into values and words the messages for a person at the keyboard.
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STEP = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


def format_steps(seconds: list[int]) -> str:
    """[60, 600] -> "1m 10m": each step in the largest unit that divides it."""
    parts = []
    for value in seconds:
        unit = next(u for u in "dhms" if value % UNITS[u] == 0)
        parts.append(f"{value // UNITS[unit]}{unit}")
    return " ".join(parts)


class StepsField(forms.CharField):
    """Steps typed like "1m 10m", "10m", "1h", "1d" (a bare number means minutes) -> seconds."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return format_steps(value)
        return value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip().lower()
        tokens = [token for token in re.split(r"[\s,]+", text) if token]
        if len(tokens) > MAX_STEPS:
            raise forms.ValidationError(f"Use at most {MAX_STEPS} steps.")
        seconds = []
        for token in tokens:
            match = STEP.fullmatch(token)
            if not match:
                raise forms.ValidationError(
                    f"“{token}” is not a step. Write each step as a number and a unit: "
                    "s (seconds), m (minutes), h (hours) or d (days), e.g. 1m 10m."
                )
            amount = float(match[1]) * UNITS[match[2] or "m"]
            if amount != int(amount) or amount < 1:
                raise forms.ValidationError(f"“{token}” is not a whole number of seconds.")
            if amount > MAX_STEP_SECONDS:
                raise forms.ValidationError(
                    f"“{token}” is too long: a step can be 30 days at most."
                )
            seconds.append(int(amount))
        return seconds


class PlainSelect(forms.Select):
    """A select built in one pass: the ~600 time zones through Django's per-option templates
    take a noticeable fraction of a second on every render."""

    def render(self, name, value, attrs=None, renderer=None):
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, " selected" if key == value else "", label) for key, label in self.choices),
        )
        return format_html('<select name="{}"{}>{}</select>', name, attributes, options)


@cache
def timezone_choices() -> list[tuple[str, str]]:
    names = sorted(v.time_zone_names())
    return [(name, name.replace("_", " ")) for name in names]


def _range_messages(low, high, what: str) -> dict[str, str]:
    text = f"Choose {what} between {low} and {high}."
    return {"min_value": text, "max_value": text, "invalid": f"Enter a number: {what}."}


def _ranged(field_class, bounds: tuple, what: str, shown=None, **kwargs):
    """A form field with the model's range, and a message in words."""
    low, high = bounds
    shown = shown or (low, high)
    return field_class(
        min_value=low, max_value=high, error_messages=_range_messages(*shown, what), **kwargs
    )


class StudySettingsForm(forms.ModelForm):
    desired_retention = _ranged(
        forms.FloatField,
        v.DESIRED_RETENTION_RANGE,
        "a retention",
        shown=[f"{x:.2f}" for x in v.DESIRED_RETENTION_RANGE],
        label="Desired retention",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="The share of reviews you want to remember, e.g. 0.90. Higher means more "
        "reviews.",
    )
    new_cards_per_day = _ranged(
        forms.IntegerField,
        v.NEW_CARDS_PER_DAY_RANGE,
        "a number of new cards",
        label="New cards per day",
    )
    reviews_per_day = _ranged(
        forms.IntegerField, v.REVIEWS_PER_DAY_RANGE, "a number of reviews", label="Reviews per day"
    )
    learning_steps = StepsField(
        label="Learning steps",
        help_text="How long to wait between the first looks at a new card, e.g. “1m 10m”. "
        "Units: s, m, h, d.",
    )
    relearning_steps = StepsField(
        label="Relearning steps",
        help_text="The same for a card you forgot, e.g. “10m”. Leave empty to skip them.",
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        widget=PlainSelect,
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )
    day_start_hour = _ranged(
        forms.IntegerField,
        v.DAY_START_HOUR_RANGE,
        "an hour",
        label="Next day starts at (hour)",
        help_text="Reviews before this hour count for the day before (4 means 4 a.m.).",
    )
    learn_ahead_minutes = _ranged(
        forms.IntegerField,
        v.LEARN_AHEAD_MINUTES_RANGE,
        "a number of minutes",
        label="Learn ahead limit (minutes)",
        help_text="When nothing else is due, show a learning card due within this many minutes "
        "instead of stopping (Anki's default is 20).",
    )
    maximum_interval = _ranged(
        forms.IntegerField,
        v.MAXIMUM_INTERVAL_RANGE,
        "a number of days",
        label="Maximum interval (days)",
    )
    rating_scale = forms.ChoiceField(
        label="Rating buttons",
        choices=StudySettings.RATING_SCALES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the two rating scales."},
    )
    leech_threshold = _ranged(
        forms.IntegerField,
        v.LEECH_THRESHOLD_RANGE,
        "a number of lapses",
        label="Leech threshold (lapses)",
        help_text="A card forgotten this many times becomes a leech, and again every half as "
        "many lapses after (Anki's default is 8). 0 turns leeches off.",
    )
    leech_action = forms.ChoiceField(
        label="When a card becomes a leech",
        choices=LEECH_ACTION_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose what to do with a leech: tag it, or suspend it."},
    )
    # Anki's sibling burying (services/siblings.py): cards of one note on different days.
    bury_new_siblings = forms.BooleanField(
        required=False,
        label="Bury new siblings",
        help_text="After you answer a card, its note's other new cards wait until tomorrow.",
    )
    bury_review_siblings = forms.BooleanField(
        required=False,
        label="Bury review siblings",
        help_text="After you answer a card, its note's other review cards wait until tomorrow.",
    )
    bury_interday_siblings = forms.BooleanField(
        required=False,
        label="Bury interday learning siblings",
        help_text="After you answer a card, its note's other cards in day learning (steps of "
        "a day or more) wait until tomorrow.",
    )

    class Meta:
        model = StudySettings
        fields = [
            "desired_retention",
            "new_cards_per_day",
            "reviews_per_day",
            "learning_steps",
            "relearning_steps",
            "timezone",
            "day_start_hour",
            "learn_ahead_minutes",
            "maximum_interval",
            "rating_scale",
            "leech_threshold",
            "leech_action",
            "bury_new_siblings",
            "bury_review_siblings",
            "bury_interday_siblings",
        ]

    def clean_learning_steps(self):
        steps = self.cleaned_data["learning_steps"]
        if not steps:
            raise forms.ValidationError("Give at least one learning step, e.g. “1m 10m”.")
        return steps

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            # Last guard: the scheduler must accept the combination.
            try:
                Policy(
                    parameters=tuple(self.instance.fsrs_parameters),
                    desired_retention=cleaned["desired_retention"],
                    learning_steps=tuple(cleaned["learning_steps"]),
                    relearning_steps=tuple(cleaned["relearning_steps"]),
                    maximum_interval=cleaned["maximum_interval"],
                    timezone=cleaned["timezone"],
                    day_start_hour=cleaned["day_start_hour"],
                )
            except ValueError as exc:
                raise forms.ValidationError(f"These settings do not work together: {exc}") from exc
        return cleaned


# The zone a new account gets when the browser names none: the model's default.
DEFAULT_TIME_ZONE = StudySettings._meta.get_field("timezone").default


class BrowserTimeZoneField(forms.CharField):
    """The zone the browser reports, or UTC. Never an error: the learner cannot fix a hidden
    field, and a zone the tz database lacks (or no JavaScript) is no reason to refuse an
    account. The settings page then points out the UTC default."""

    widget = forms.HiddenInput

    def clean(self, value) -> str:
        zone = self.to_python(value)
        return zone if zone in v.time_zone_names() else DEFAULT_TIME_ZONE


class SignUpForm(UserCreationForm):
    """Django's sign-up form plus the browser's time zone, which signup.js puts in the hidden
    field so that the study day starts at the learner's own hour from the first day."""

    timezone = BrowserTimeZoneField(required=False)
