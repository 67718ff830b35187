"""Scheduling, per user: memory states, the review history, study settings."""

import fsrs_rs_python
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cards import validators as v
from cards.models.content import Card, Deck
from cards.scheduling.policy import State
from cards.scheduling.ratings import Grade, RatingScale, to_grade


def default_learning_steps():
    return [60, 600]


def default_relearning_steps():
    return [600]


def default_fsrs_parameters():
    return list(fsrs_rs_python.DEFAULT_PARAMETERS)


# Choices derived from the scheduling enums: one list of values, never a second literal one.
STATE_CHOICES = [(state.value, state.name.title()) for state in State]
GRADE_CHOICES = [(grade.value, grade.name.title()) for grade in Grade]
RATING_SCALE_LABELS = {
    RatingScale.FIVE: "1–5: How well did you know this?",
    RatingScale.FOUR: "Again/Hard/Good/Easy",
}
RATING_SCALE_CHOICES = [(scale.value, RATING_SCALE_LABELS[scale]) for scale in RatingScale]
STATES = [state.value for state in State]
STATE_ERRORS = {"invalid_choice": "must be 0–3 (New, Learning, Review, Relearning), not %(value)r"}
GRADE_ERRORS = {"invalid_choice": "must be 1–4 (Again, Hard, Good, Easy), not %(value)r"}
RATING_SCALE_ERRORS = {"invalid_choice": "must be 'five' or 'four', not %(value)r"}
# Anki's seven flag colours, in its order (Ctrl+1 … Ctrl+7); 0 is no flag.
FLAG_CHOICES = [
    (0, "No flag"), (1, "Red"), (2, "Orange"), (3, "Green"), (4, "Blue"), (5, "Pink"),
    (6, "Turquoise"), (7, "Purple"),
]  # fmt: skip
FLAG_ERRORS = {"invalid_choice": "must be 0 (none) to 7 (purple), not %(value)r"}
LEECH_ACTION_CHOICES = [("tag", "Tag it as a leech"), ("suspend", "Tag it and suspend it")]
LEECH_ACTION_ERRORS = {"invalid_choice": "must be 'tag' or 'suspend', not %(value)r"}


class MemoryStateQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)


class MemoryState(models.Model):
    """One user's FSRS memory of one card; created at the first review."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="memory_states")
    # Denormalised from card.deck so the per-deck queue is one index range scan.
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="+")
    state = models.PositiveSmallIntegerField(choices=STATE_CHOICES, error_messages=STATE_ERRORS)
    step = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=v.ranged(0, v.SMALLINT_MAX)
    )
    stability = models.FloatField(
        null=True, blank=True, validators=[v.validate_finite, *v.ranged(*v.STABILITY_RANGE)]
    )
    difficulty = models.FloatField(
        null=True, blank=True, validators=[v.validate_finite, *v.ranged(*v.DIFFICULTY_RANGE)]
    )
    due = models.DateTimeField(validators=[v.validate_instant])
    last_review = models.DateTimeField(
        null=True, blank=True, validators=[v.validate_instant, v.validate_not_future]
    )
    reps = models.PositiveIntegerField(default=0, validators=v.ranged(0, v.INT_MAX))
    lapses = models.PositiveIntegerField(default=0, validators=v.ranged(0, v.INT_MAX))
    # Bumped by every review and undo; a review token names the version it was shown at.
    version = models.PositiveIntegerField(default=0, validators=v.ranged(0, v.INT_MAX))
    # Denormalised from the card (Card.is_studyable), so that counting the due cards reads no
    # card rows (on PostgreSQL the join was half of the study page's queue statement). Kept by
    # Card.save, CardQuerySet.update/bulk_update and MemoryState.of (every path that creates
    # memory states); sync_studyable recomputes it.
    studyable = models.BooleanField(default=True, db_default=True)
    # The learner's own marks on the card, whoever owns it (a public deck's card is suspended,
    # buried or flagged for this learner only). The queue skips a suspended card, and a buried
    # one until buried_until (the end of the study day it was buried on, as Anki unburies at
    # the day's rollover). A card never studied gets a memory state in state NEW to carry them.
    suspended = models.BooleanField(default=False, db_default=False)
    buried_until = models.DateTimeField(null=True, blank=True, validators=[v.validate_instant])
    flag = models.PositiveSmallIntegerField(
        default=0, db_default=0, choices=FLAG_CHOICES, error_messages=FLAG_ERRORS
    )
    leech = models.BooleanField(
        default=False, db_default=False, help_text="Lapsed often enough to be a leech."
    )

    objects = MemoryStateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "card"], name="memory_unique_user_card"),
            models.CheckConstraint(condition=Q(state__in=STATES), name="memory_state_valid"),
            models.CheckConstraint(condition=Q(flag__range=v.FLAG_RANGE), name="memory_flag_range"),
        ]
        indexes = [
            models.Index(fields=["user", "due"], name="memory_user_due"),
            models.Index(fields=["user", "deck", "due"], name="memory_user_deck_due"),
            # The queue asks "first learning/review card by due date" per state.
            models.Index(fields=["user", "state", "due"], name="memory_user_state_due"),
            models.Index(
                fields=["user", "deck", "state", "due"], name="memory_user_deck_state_due"
            ),
        ]

    def __str__(self):
        return f"{self.user} · card {self.card_id} · {self.get_state_display()}"

    def clean(self):
        # A reviewed card's memory is what the scheduler computes from; without it, it crashes.
        if self.state in STATES and self.state != State.NEW:
            missing = {
                name: "must be set once the card has been reviewed"
                for name in ("stability", "difficulty", "last_review")
                if getattr(self, name) is None
            }
            if missing:
                raise ValidationError(missing)

    @classmethod
    def of(cls, user, card: Card, **fields) -> "MemoryState":
        """A new (unsaved) memory state of `card`, with the card's deck and studyable flag
        copied onto it: every path that creates memory states goes through here."""
        fields.setdefault("deck_id", card.deck_id)
        return cls(user=user, card=card, studyable=card.is_studyable, **fields)


def sync_studyable(card_ids=None) -> int:
    """Copy whether each card is studyable onto its memory states: of these cards, or of all
    cards if None. One UPDATE per 500 cards; returns the number of states written."""
    studyable = Exists(Card.objects.filter(pk=OuterRef("card_id")).studyable())
    if card_ids is None:
        return MemoryState.objects.update(studyable=studyable)
    card_ids = list(card_ids)
    return sum(
        MemoryState.objects.filter(card_id__in=card_ids[i : i + 500]).update(studyable=studyable)
        for i in range(0, len(card_ids), 500)
    )


class ReviewLog(models.Model):
    """Append-only history of reviews: enough to undo one and to replay them all."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="review_logs")
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(
        validators=v.ranged(1, 5), help_text="The rating as the user gave it."
    )
    rating_scale = models.CharField(
        max_length=4,
        choices=RATING_SCALE_CHOICES,
        default="five",
        error_messages=RATING_SCALE_ERRORS,
    )
    grade = models.PositiveSmallIntegerField(
        choices=GRADE_CHOICES,
        error_messages=GRADE_ERRORS,
        help_text="The FSRS grade: 1 Again … 4 Easy.",
    )
    reviewed_at = models.DateTimeField(
        default=timezone.now, validators=[v.validate_instant, v.validate_not_future]
    )
    duration_ms = models.PositiveIntegerField(default=0, validators=v.ranged(0, v.INT_MAX))
    review_token = models.CharField(max_length=64, blank=True, validators=[v.no_nul])
    fuzz_seed = models.CharField(
        max_length=64,
        blank=True,
        validators=[v.no_nul],
        help_text="Seed of this review's interval fuzz, 'card id:reviews before'. Kept so that "
        "a replay after an import or a merge (new card ids) gives the same intervals; blank "
        "for older logs, which replay with their card's current id.",
    )
    # State before the review, for undo and for statistics by state.
    state_before = models.PositiveSmallIntegerField(
        choices=STATE_CHOICES, error_messages=STATE_ERRORS
    )
    before = models.JSONField(
        default=dict,
        blank=True,
        validators=[v.validate_state_snapshot],
        help_text="The full memory state before, for undo.",
    )
    elapsed_days = models.IntegerField(default=0, validators=v.ranged(-v.INT_MAX, v.INT_MAX))
    retrievability = models.FloatField(
        null=True,
        blank=True,
        validators=[v.validate_finite, *v.ranged(0.0, 1.0)],
        help_text="Predicted recall.",
    )
    # State after the review.
    state_after = models.PositiveSmallIntegerField(
        choices=STATE_CHOICES, error_messages=STATE_ERRORS
    )
    stability_after = models.FloatField(
        null=True, blank=True, validators=[v.validate_finite, *v.ranged(*v.STABILITY_RANGE)]
    )
    difficulty_after = models.FloatField(
        null=True, blank=True, validators=[v.validate_finite, *v.ranged(*v.DIFFICULTY_RANGE)]
    )
    due_after = models.DateTimeField(validators=[v.validate_instant])

    class Meta:
        ordering = ["reviewed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "review_token"],
                condition=~Q(review_token=""),
                name="reviewlog_unique_token",
            ),
            models.CheckConstraint(condition=Q(grade__range=(1, 4)), name="reviewlog_grade_range"),
            models.CheckConstraint(
                condition=Q(rating__range=(1, 5)), name="reviewlog_rating_range"
            ),
            models.CheckConstraint(
                condition=Q(state_before__in=STATES, state_after__in=STATES),
                name="reviewlog_states_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "reviewed_at"], name="reviewlog_user_time"),
            models.Index(fields=["user", "card", "reviewed_at"], name="reviewlog_user_card_time"),
        ]

    def __str__(self):
        return f"{self.user} rated card {self.card_id} {self.rating} at {self.reviewed_at:%Y-%m-%d}"

    def clean(self):
        # The rating must exist on its scale; the grade is checked on its own (its choices), not
        # against the rating: older logs and test data keep pairs the mapping would not give.
        try:
            to_grade(self.rating, self.rating_scale)
        except ValueError as exc:
            raise ValidationError({"rating": str(exc)}) from None
        if self.before in ([], "", ()):  # blank, so clean_fields skipped its validator
            try:
                v.validate_state_snapshot(self.before)
            except ValidationError as exc:
                raise ValidationError({"before": exc.messages}) from None


class StudySettings(models.Model):
    RATING_SCALES = RATING_SCALE_CHOICES

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_settings"
    )
    desired_retention = models.FloatField(
        default=0.9, validators=[v.validate_finite, *v.ranged(*v.DESIRED_RETENTION_RANGE)]
    )
    new_cards_per_day = models.PositiveIntegerField(
        default=20, validators=v.ranged(*v.NEW_CARDS_PER_DAY_RANGE)
    )
    reviews_per_day = models.PositiveIntegerField(
        default=200, validators=v.ranged(*v.REVIEWS_PER_DAY_RANGE)
    )
    learning_steps = models.JSONField(
        default=default_learning_steps, validators=[v.validate_steps], help_text="In seconds."
    )
    relearning_steps = models.JSONField(
        default=default_relearning_steps,
        blank=True,
        validators=[v.validate_steps],
        help_text="In seconds.",
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[v.validate_time_zone])
    day_start_hour = models.PositiveSmallIntegerField(
        default=4, validators=v.ranged(*v.DAY_START_HOUR_RANGE)
    )
    learn_ahead_minutes = models.PositiveSmallIntegerField(
        default=20,
        validators=v.ranged(*v.LEARN_AHEAD_MINUTES_RANGE),
        help_text="Show learning cards due within this many minutes when nothing else is due.",
    )
    maximum_interval = models.PositiveIntegerField(
        default=36500, validators=v.ranged(*v.MAXIMUM_INTERVAL_RANGE)
    )
    rating_scale = models.CharField(
        max_length=4, choices=RATING_SCALES, default="five", error_messages=RATING_SCALE_ERRORS
    )
    fsrs_parameters = models.JSONField(
        default=default_fsrs_parameters, validators=[v.validate_fsrs_parameters]
    )
    leech_threshold = models.PositiveSmallIntegerField(
        default=8,
        validators=v.ranged(*v.LEECH_THRESHOLD_RANGE),
        help_text="Lapses that make a card a leech (then again every half as many); 0: never.",
    )
    leech_action = models.CharField(
        max_length=8,
        choices=LEECH_ACTION_CHOICES,
        default="tag",
        error_messages=LEECH_ACTION_ERRORS,
    )
    # Anki's sibling burying: after a card is answered, its siblings (other cards of its note)
    # of these kinds wait until the next study day.
    bury_new_siblings = models.BooleanField(default=True)
    bury_review_siblings = models.BooleanField(default=True)
    bury_interday_siblings = models.BooleanField(default=True)
    # Custom study's "raise today's limits": extra new cards and reviews on one study day.
    boost_day = models.DateField(null=True, blank=True)
    boost_new = models.PositiveIntegerField(default=0, validators=v.ranged(0, v.INT_MAX))
    boost_reviews = models.PositiveIntegerField(default=0, validators=v.ranged(0, v.INT_MAX))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "study settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(day_start_hour__range=v.DAY_START_HOUR_RANGE),
                name="studysettings_day_start_hour_range",
            ),
            models.CheckConstraint(
                condition=Q(desired_retention__range=v.DESIRED_RETENTION_RANGE),
                name="studysettings_retention_range",
            ),
            models.CheckConstraint(
                condition=Q(maximum_interval__range=v.MAXIMUM_INTERVAL_RANGE),
                name="studysettings_maximum_interval_range",
            ),
        ]

    def __str__(self):
        return f"Study settings of {self.user}"
