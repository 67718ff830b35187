"""A study session's own records: the undo stack of card actions, and custom study sessions."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cards import validators as v
from cards.models.content import Card, Deck


class StudyAction(models.Model):
    """One card action taken while studying (suspend, bury, flag, edit), with what it changed,
    so that Z can undo it as Anki undoes its operations. Reviews are undone from ReviewLog;
    the undo key takes whichever of the two is newer."""

    SUSPEND, UNSUSPEND, BURY, FLAG, EDIT = "suspend", "unsuspend", "bury", "flag", "edit"
    FORGET, SET_DUE = "forget", "set_due"  # the card browser's (services/card_bulk)
    TAG_ADD, TAG_REMOVE, MOVE = "tag_add", "tag_remove", "move"  # services/content_undo
    KINDS = [
        (SUSPEND, "Suspend"),
        (UNSUSPEND, "Unsuspend"),
        (BURY, "Bury"),
        (FLAG, "Flag"),
        (EDIT, "Edit"),
        (FORGET, "Forget"),
        (SET_DUE, "Set due date"),
        (TAG_ADD, "Add tags"),
        (TAG_REMOVE, "Remove tags"),
        (MOVE, "Change deck"),
    ]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_actions"
    )
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=KINDS)
    before = models.JSONField(default=dict, blank=True, help_text="What the action changed.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="studyaction_user_time")]

    def __str__(self):
        return f"{self.user} · {self.kind} card {self.card_id}"


class CustomStudySession(models.Model):
    """A learner's custom study session (Anki's "Custom Study Session" filtered deck): the
    cards a search picked, in order, studied until the list is empty or another session
    replaces it. One per user. `reschedule` sessions rate cards as usual reviews; the others
    (preview, cram without rescheduling, forgotten cards) change no schedule and write no
    review history."""

    FORGOT, AHEAD, PREVIEW, CRAM = "forgot", "ahead", "preview", "cram"
    MODES = [
        (FORGOT, "Review forgotten cards"),
        (AHEAD, "Review ahead"),
        (PREVIEW, "Preview new cards"),
        (CRAM, "Cram"),
    ]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="custom_study"
    )
    mode = models.CharField(max_length=8, choices=MODES)
    deck = models.ForeignKey(
        Deck, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text="Empty: every deck the user studies.",
    )  # fmt: skip
    tag = models.CharField(max_length=100, blank=True, validators=[v.no_nul])
    days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=v.ranged(*v.CUSTOM_STUDY_DAYS_RANGE)
    )
    reschedule = models.BooleanField(help_text="Ratings change the cards' schedules.")
    card_ids = models.JSONField(default=list, help_text="The cards left, in the order shown.")
    total = models.PositiveIntegerField(default=0, help_text="Cards the session started with.")
    done = models.PositiveIntegerField(default=0, help_text="Cards finished in the session.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "custom study session"

    def __str__(self):
        return f"{self.user} · {self.get_mode_display()}"
