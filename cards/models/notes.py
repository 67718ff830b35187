"""Notes and media: what a card is generated from, and the images cards show.

A note holds fields; its kind generates its cards (Anki's note types): Basic (one card),
Basic and reversed (two), Basic with an optional reverse (one or two), Cloze (one card per
cloze number). Card.question/answer stay the card's own generated Markdown, so everything
that shows, searches or counts cards reads cards alone; services/notes.py regenerates them
when a note changes. Cards of one note are siblings.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cards import validators as v
from cards.models.content import Deck


class NoteKind(models.TextChoices):
    BASIC = "basic", "Basic"
    REVERSED = "reversed", "Basic and reversed card"
    OPTIONAL_REVERSED = "optional_reversed", "Basic (optional reversed card)"
    CLOZE = "cloze", "Cloze"
    # Any other note type, imported from Anki: its NoteType's card templates make the cards.
    ANKI = "anki", "Anki note type"


# Each kind's field names, in order (Anki's standard note types).
NOTE_FIELDS = {
    NoteKind.BASIC: ["Front", "Back"],
    NoteKind.REVERSED: ["Front", "Back"],
    NoteKind.OPTIONAL_REVERSED: ["Front", "Back", "Add Reverse"],
    NoteKind.CLOZE: ["Text", "Back Extra"],
}


class NoteType(models.Model):
    """A note type imported from an Anki package other than the four standard ones: its
    fields and card templates, which make the cards of its notes (cards/anki/templates.py).
    Anki's note types belong to a collection; here to the user who imported them."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="note_types",
    )  # fmt: skip
    name = models.CharField(max_length=200, validators=[v.no_nul])
    anki_id = models.BigIntegerField(
        null=True, blank=True, help_text="The note type's id in the Anki collection it came from."
    )
    is_cloze = models.BooleanField(
        default=False, help_text="Anki's cloze kind: one card per c-number."
    )
    field_names = models.JSONField(default=list, help_text="The fields, in order.")
    templates = models.JSONField(
        default=list,
        help_text='The card templates, in order: [{"name": …, "front": …, "back": …}].',
    )
    css = models.TextField(blank=True, validators=[v.no_nul])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "anki_id"],
                condition=Q(anki_id__isnull=False),
                name="notetype_unique_anki_id_per_owner",
            ),
        ]

    def __str__(self):
        return self.name


class Note(models.Model):
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20, choices=NoteKind.choices, default=NoteKind.BASIC)
    note_type = models.ForeignKey(
        NoteType, on_delete=models.PROTECT, null=True, blank=True, related_name="notes",
        help_text="For kind 'anki': the imported note type whose templates make the cards.",
    )  # fmt: skip
    fields = models.JSONField(
        default=dict, help_text="Field name -> Markdown text, in the kind's field order."
    )
    tags = models.CharField(max_length=500, blank=True, validators=[v.no_nul])
    guid = models.CharField(
        max_length=64,
        blank=True,
        validators=[v.no_nul],
        help_text="Anki's note GUID when imported from or exported to Anki.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deck_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deck", "guid"], condition=~Q(guid=""), name="note_unique_guid_per_deck"
            ),
        ]

    def __str__(self):
        first = next(iter(self.fields.values()), "") if isinstance(self.fields, dict) else ""
        return f"{self.get_kind_display()}: {str(first)[:60]}"


def media_path(instance, filename):
    """Content-hashed: the same image uploaded twice is one file (media/ab/abcdef….png)."""
    return f"media/{instance.sha256[:2]}/{instance.sha256}.{instance.extension}"


class MediaFile(models.Model):
    """An image uploaded for a deck: checked and re-encoded with Pillow, stored through
    Django's storage API under its content hash, served by a view that checks the deck's
    access (an image of a private deck is a 404 for anyone else)."""

    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="media")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    file = models.FileField(upload_to=media_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    extension = models.CharField(max_length=5)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField(help_text="Bytes, as stored.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True, validators=[v.no_nul])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deck", "sha256"], name="media_unique_per_deck"),
        ]
        indexes = [models.Index(fields=["uploaded_by"], name="media_uploaded_by")]

    def __str__(self):
        return self.original_name or self.file.name
