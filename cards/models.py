"""Content (Deck, Card) is shared; scheduling (MemoryState, ReviewLog, StudySettings) is per
user."""

import fsrs_rs_python
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cards import validators as v
from cards.markdown import render_markdown
from cards.scheduling.policy import State
from cards.scheduling.ratings import Grade, RatingScale, to_grade


def default_learning_steps():
    return [60, 600]


def default_relearning_steps():
    return [600]


def default_fsrs_parameters():
    return list(fsrs_rs_python.DEFAULT_PARAMETERS)


def visible_decks_q(user, via: str = "") -> Q:
    """Decks a user may see and study: their own and every public deck. `via` is the lookup
    path from another model to the deck, e.g. "deck__" from a card."""
    return Q(**{f"{via}owner": user}) | Q(**{f"{via}is_public": True})


class DeckQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Decks a user may see and study: their own and every public deck."""
        return self.filter(visible_decks_q(user))

    def editable_by(self, user):
        """Decks a user may change outside the admin: their own; staff also curate the public
        decks and the site's (no owner). Never another user's private deck, even for staff:
        only the admin reaches those."""
        if user.is_staff:
            return self.filter(Q(owner=user) | Q(is_public=True) | Q(owner__isnull=True))
        return self.filter(owner=user)

    def with_card_counts(self):
        # Correlated subqueries on card_deck_position, not a join + GROUP BY over every card of
        # every deck: the dashboard's deck list took 37 ms at 20,000 cards a user, now ~5 ms.
        cards = Card.objects.filter(deck=OuterRef("pk")).order_by().values("deck")
        # COUNT(*), not COUNT(id): PostgreSQL can then count from the index alone.
        counted = cards.annotate(n=Count("*")).values("n")
        blank = cards.filter(answer__empty=True).annotate(n=Count("*")).values("n")
        return self.annotate(
            card_count=Coalesce(Subquery(counted), 0),
            needs_answer_count=Coalesce(Subquery(blank), 0),
        )


class Deck(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="decks",
        null=True,
        blank=True,
        help_text="Empty for a site deck curated by staff.",
    )
    name = models.CharField(max_length=200, validators=[v.no_nul])
    description = models.TextField(blank=True, validators=[v.no_nul])
    is_public = models.BooleanField(default=False, help_text="Every user can study a public deck.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeckQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="deck_unique_name_per_owner"),
        ]
        indexes = [models.Index(fields=["is_public", "name"], name="deck_public_name")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("deck_detail", args=[self.pk])

    def can_edit(self, user) -> bool:
        """The same rule as DeckQuerySet.editable_by, for a deck already in hand."""
        if self.owner_id is not None and self.owner_id == user.pk:
            return True
        return user.is_staff and (self.is_public or self.owner_id is None)


class IsEmpty(models.Lookup):
    """`field__empty=True`: the text is '' — written as a literal, not a bound parameter, so
    that SQLite uses a partial index on `answer = ''` (it cannot match a parameter to it)."""

    lookup_name = "empty"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if not isinstance(self.rhs, bool):
            raise ValueError("The empty lookup takes True or False.")
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} {'=' if self.rhs else '<>'} ''", params


class CardQuerySet(models.QuerySet):
    def needing_answer(self):
        return self.filter(answer__empty=True)

    def answered(self):
        return self.filter(answer__empty=False)

    def studyable(self):
        """Cards that may enter a queue: answered and not suspended."""
        return self.filter(answer__empty=False, suspended=False)

    # Whether a card is studyable is copied onto its memory states (MemoryState.studyable).
    # Card.save and these two keep the copy; sync_studyable mends it after any other write.

    def update(self, **kwargs):
        if not STUDYABLE_FIELDS & kwargs.keys():
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            sync_studyable(ids)
        return count

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            count = super().bulk_update(objs, fields, batch_size=batch_size)
            if STUDYABLE_FIELDS & set(fields):
                sync_studyable([obj.pk for obj in objs])
        return count

    bulk_update.alters_data = True


STUDYABLE_FIELDS = {"answer", "suspended"}


class Card(models.Model):
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="cards")
    question = models.TextField(validators=[v.no_nul, v.CardTextLengthValidator()])
    answer = models.TextField(
        blank=True,
        validators=[v.no_nul, v.CardTextLengthValidator()],
        help_text="Blank means the card still needs an answer.",
    )
    position = models.PositiveIntegerField(
        default=0, validators=v.ranged(0, v.INT_MAX), help_text="Order within the deck."
    )
    external_id = models.CharField(
        max_length=100,
        blank=True,
        validators=[v.no_nul],
        help_text="The card's id in the file it was imported from.",
    )
    tags = models.CharField(max_length=500, blank=True, validators=[v.no_nul])
    suspended = models.BooleanField(default=False, help_text="A suspended card is never queued.")
    question_html = models.TextField(blank=True, editable=False)
    answer_html = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        ordering = ["deck_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deck", "external_id"],
                condition=~Q(external_id=""),
                name="card_unique_external_id_per_deck",
            ),
        ]
        indexes = [
            models.Index(fields=["deck", "position"], name="card_deck_position"),
            # The dashboard counts each deck's cards needing an answer (answer__empty=True).
            models.Index(fields=["deck"], condition=Q(answer=""), name="card_deck_needs_answer"),
        ]

    def __str__(self):
        return self.question[:80]

    def save(self, *args, **kwargs):
        self.question = self.question.strip()
        self.answer = self.answer.strip()
        self.render()
        fields = kwargs.get("update_fields")
        if fields is not None:
            fields = set(fields)
            if fields & {"question", "answer"}:
                fields |= {"question_html", "answer_html", "updated_at"}
            kwargs["update_fields"] = fields
        # A new card has no memory states; an edited card's follow it when it becomes, or
        # stops being, studyable.
        studyable = self.is_studyable
        saves_it = fields is None or bool(fields & STUDYABLE_FIELDS)
        if (
            self._state.adding
            or not saves_it
            or getattr(self, "_studyable_as_read", None) == studyable
        ):
            super().save(*args, **kwargs)
        else:
            with transaction.atomic(using=kwargs.get("using")):
                super().save(*args, **kwargs)
                self.memory_states.exclude(studyable=studyable).update(studyable=studyable)
        if saves_it:
            self._studyable_as_read = studyable

    @classmethod
    def from_db(cls, db, field_names, values):
        card = super().from_db(db, field_names, values)
        # Whether it was studyable as read, so that save() knows if its memory states change.
        if set(field_names) >= STUDYABLE_FIELDS:
            card._studyable_as_read = card.is_studyable
        return card

    @property
    def needs_answer(self) -> bool:
        return not self.answer.strip()

    @property
    def is_studyable(self) -> bool:
        """As CardQuerySet.studyable(): answered and not suspended."""
        return not self.needs_answer and not self.suspended

    def render(self):
        """Render the Markdown once per revision; pages show the stored HTML."""
        self.question_html = render_markdown(self.question)
        self.answer_html = render_markdown(self.answer)


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


Card._meta.get_field("answer").register_lookup(IsEmpty)


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

    objects = MemoryStateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "card"], name="memory_unique_user_card"),
            models.CheckConstraint(condition=Q(state__in=STATES), name="memory_state_valid"),
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


class OptimizerRun(models.Model):
    """One fit of a user's FSRS parameters started from the settings page; the page polls it."""

    RUNNING, DONE, FAILED = "running", "done", "failed"
    STATUSES = [(RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="optimizer_runs"
    )
    status = models.CharField(max_length=8, choices=STATUSES, default=RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    reviews = models.PositiveIntegerField(default=0, help_text="Training items used.")
    log_loss_before = models.FloatField(null=True, blank=True)
    rmse_before = models.FloatField(null=True, blank=True)
    log_loss_after = models.FloatField(null=True, blank=True)
    rmse_after = models.FloatField(null=True, blank=True)
    improved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One running fit per user, enforced by the database across processes.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="running"),
                name="optimizerrun_one_running_per_user",
            ),
        ]
        indexes = [models.Index(fields=["user", "-started_at"], name="optimizerrun_user_started")]

    def __str__(self):
        return f"Optimizer run of {self.user} ({self.status})"


class ImportJob(models.Model):
    """An import running on the task worker (cards/tasks.py); its page polls it for progress.

    The uploaded file waits in `data` until the worker reads it, and is cleared when the job
    finishes. `updated_at` is the worker's heartbeat: a job that stops beating was lost with
    its worker and is failed and undone by cards.services.imports.sweep_stale_jobs."""

    class Kind(models.TextChoices):
        DECK_FILE = "deck_file", "Deck file (CSV or export)"
        USER_DATA = "user_data", "All my data (JSON)"
        DECK_COPY = "deck_copy", "Copy of a deck"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    filename = models.CharField(max_length=255, blank=True)
    done = models.PositiveIntegerField(default=0, help_text="Cards (or items) written so far.")
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    deck = models.ForeignKey(
        Deck, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The deck the import wrote to.",
    )  # fmt: skip
    data = models.BinaryField(blank=True, default=b"", help_text="The upload, until the job ends.")
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One import at a time per user, enforced by the database across processes.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["queued", "running"]),
                name="importjob_one_active_per_user",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="importjob_status_updated")]

    def __str__(self):
        return f"Import {self.filename or self.kind} of {self.user} ({self.status})"

    def get_absolute_url(self):
        return reverse("import_job", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
