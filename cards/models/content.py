"""Content, shared by everyone who studies it: decks and their cards."""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from cards import validators as v
from cards.markdown import render_markdown


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
            _sync_studyable(ids)
        return count

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            count = super().bulk_update(objs, fields, batch_size=batch_size)
            if STUDYABLE_FIELDS & set(fields):
                _sync_studyable([obj.pk for obj in objs])
        return count

    bulk_update.alters_data = True


STUDYABLE_FIELDS = {"answer", "suspended"}


def _sync_studyable(card_ids):
    # The memory states' module imports this one (their foreign keys), so not the other way.
    from cards.models.scheduling import sync_studyable

    return sync_studyable(card_ids)


class Card(models.Model):
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="cards")
    # The note this card is generated from (models/notes.py), and which of its cards it is:
    # 0 the front, 1 the reverse; a cloze card's number minus one. Cards of a note are siblings.
    note = models.ForeignKey(
        "cards.Note", on_delete=models.CASCADE, related_name="cards", null=True, blank=True
    )
    ord = models.PositiveSmallIntegerField(default=0, validators=v.ranged(0, v.SMALLINT_MAX))
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
    imported_question = models.TextField(
        blank=True,
        editable=False,
        help_text="The question as the import file had it, when the importer cleaned it up.",
    )
    imported_answer = models.TextField(
        blank=True,
        editable=False,
        help_text="The answer as the import file had it, when the importer cleaned it up.",
    )
    question_html = models.TextField(blank=True, editable=False)
    answer_html = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        ordering = ["deck_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["note", "ord"], name="card_unique_ord_per_note"),
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
        fields = kwargs.get("update_fields")
        if fields is not None:
            fields = set(fields)
            if fields & {"question", "answer"}:
                fields |= {"question_html", "answer_html", "updated_at"}
            kwargs["update_fields"] = fields
        writes_text = fields is None or bool(fields & {"question", "answer"})
        # services/notes.py sets the texts and their HTML from the note itself.
        from_note = getattr(self, "_from_note", False)
        self._from_note = False
        if writes_text and not from_note:
            kind = self._sync_note()
            self.render(kind)
            if kind in ("reversed", "optional_reversed") and not self._state.adding:
                # A card of a reversed note edited directly: the note and its siblings follow.
                from cards.services.notes import sync_from_card

                with transaction.atomic(using=kwargs.get("using")):
                    self._save_card(*args, fields=fields, **kwargs)
                    sync_from_card(self)
                return
        self._save_card(*args, fields=fields, **kwargs)

    def _save_card(self, *args, fields, **kwargs):
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

    def delete(self, *args, **kwargs):
        """A note goes with its last card (its other cards stay: Anki deletes notes, but a
        single card here is deleted from the card's own pages)."""
        note_id = self.note_id
        result = super().delete(*args, **kwargs)
        if note_id is not None:
            from cards.models.notes import Note

            Note.objects.filter(pk=note_id, cards__isnull=True).delete()
        return result

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

    def render(self, kind: str | None = None):
        """Render the Markdown once per revision; pages show the stored HTML. A cloze card's
        HTML (blanks, highlights) comes from its note, not from its readable Markdown: `kind`
        is the note's kind when the caller knows it (else a note already read is asked). A
        card of an imported Anki note type is its template rendered: its text and HTML are
        regenerated from the note (its readable text is no Markdown to render)."""
        if kind is None and "note" in self._state.fields_cache and self.note is not None:
            kind = self.note.kind
        if kind == "anki" and self._render_anki():
            return
        if kind == "cloze":
            from cards.services.notes import NoteError, generate

            try:
                generated = generate(kind, self.note.fields).get(self.ord)
            except NoteError:
                generated = None
            if generated is not None:
                self.question_html = generated.question_html
                self.answer_html = generated.answer_html
                return
        self.question_html = render_markdown(self.question)
        self.answer_html = render_markdown(self.answer)

    def _render_anki(self) -> bool:
        """This card of its Anki note as the note type's template gives it (kept even when
        the template renders it empty, as Anki keeps it); False if the note cannot make it."""
        from cards.services.notes import NoteError, generate_anki

        note = self.note
        try:
            made = generate_anki(
                note.note_type, note.fields, tags=note.tags, deck=note.deck.name, ords=[self.ord]
            )[self.ord]
        except NoteError:
            return False
        self.question, self.answer = made.question, made.answer
        self.question_html, self.answer_html = made.question_html, made.answer_html
        return True

    def _sync_note(self) -> str | None:
        """A card saved without a note gets a Basic note of its own; a Basic note's card edited
        directly (the admin, the editors, "Fill missing answers") writes the note's Front and
        Back in one UPDATE. Returns the note's kind (None for a card without a note): for a
        reversed kind, Card.save has services/notes.py update the note and the siblings."""
        from cards.models.notes import Note, NoteKind

        fields = {"Front": self.question, "Back": self.answer}
        if self.note_id is None:
            if not self._state.adding:
                return None  # made before notes by a bulk path: services/notes.ensure_note
            self.note = Note.objects.create(
                deck_id=self.deck_id, kind=NoteKind.BASIC, fields=fields, tags=self.tags
            )
            self.ord = 0
            return NoteKind.BASIC
        written = {"fields": fields, "tags": self.tags, "deck_id": self.deck_id}
        if "note" in self._state.fields_cache:
            note = self.note
            if note.kind != NoteKind.BASIC:
                return note.kind
            if (note.fields, note.tags, note.deck_id) != (fields, self.tags, self.deck_id):
                Note.objects.filter(pk=note.pk).update(**written)
                note.fields, note.tags, note.deck_id = fields, self.tags, self.deck_id
            return NoteKind.BASIC
        if Note.objects.filter(pk=self.note_id, kind=NoteKind.BASIC).update(**written):
            return NoteKind.BASIC
        return self.note.kind


Card._meta.get_field("answer").register_lookup(IsEmpty)
