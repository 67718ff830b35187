"""Background work a page follows: optimiser fits and imports."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cards.models.content import Deck


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
        APKG = "apkg", "Anki package (.apkg, .colpkg)"

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
