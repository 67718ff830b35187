"""Cards deleted in the card browser, kept for a while so that Undo can put them back.

A trash record rather than soft delete: every query that reads cards (the queue, search,
counts, statistics) stays as it is, and a deleted card is really gone from all of them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class CardTrash(models.Model):
    """One delete: the rows it removed (cards, the notes left without a card, every learner's
    memory states, review logs and undo records of those cards), serialized as they were, so
    that undo (services/card_trash) inserts them back with the same ids. A user keeps only the
    newest, and for a limited time (services/card_trash.TRASH_KEPT_FOR)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="card_trash"
    )
    card_count = models.PositiveIntegerField(help_text="Cards deleted.")
    decks = models.JSONField(default=dict, help_text="Deck id -> name, for undo's messages.")
    rows = models.JSONField(default=list, help_text="[model label, [row, …]], parents first.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "card trash"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="cardtrash_user_time"),
            models.Index(fields=["created_at"], name="cardtrash_time"),
        ]

    def __str__(self):
        return f"{self.user} · {self.card_count} cards deleted at {self.created_at:%Y-%m-%d %H:%M}"
