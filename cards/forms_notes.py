"""The note editor's form: a note kind and the kind's fields (models/notes.py NOTE_FIELDS).

Every kind's fields are in the form at once, so the page works without JavaScript: the fields
that the chosen kind does not use are ignored (and hidden by CSS :has() where supported).
Cleaning generates the cards (services/notes.generate, no database), so an error is named by
the field to change: a cloze deletion never closed, a Front left empty.
"""

from django import forms

from cards.models import NOTE_FIELDS, Card, NoteKind
from cards.services.notes import NoteError, generate

# Note field name -> form field name.
FORM_FIELDS = {
    "Front": "front",
    "Back": "back",
    "Add Reverse": "add_reverse",
    "Text": "text",
    "Back Extra": "back_extra",
    "Tags": "tags",
}
CLOZE_HELP = (
    "Markdown works here. Hide text as {{c1::text}}, or {{c1::text::hint}} to show a hint; "
    "each number (c1, c2, …) makes one card, and deletions may share a number."
)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        label="Note type",
        # Kind "anki" only comes from an import (its note type's templates make the cards).
        choices=[choice for choice in NoteKind.choices if choice[0] != NoteKind.ANKI],
        initial=NoteKind.BASIC,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the four note types."},
    )
    front = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown works here. Basic and reversed notes also ask the back's question.",
    )
    back = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown works here. Leave it blank if you do not know the answer yet.",
    )
    add_reverse = forms.BooleanField(
        required=False,
        label="Add a reverse card",
        help_text="For “Basic (optional reversed card)”: also ask the back, answer the front.",
    )
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text=CLOZE_HELP
    )
    back_extra = forms.CharField(
        required=False,
        label="Back extra",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: shown under every cloze card's answer.",
    )
    tags = forms.CharField(
        required=False,
        max_length=Card._meta.get_field("tags").max_length,
        help_text="Optional, separated by spaces.",
    )

    def __init__(self, *args, note=None, **kwargs):
        """With `note`, edit it: its kind is fixed (Anki changes a note's type elsewhere)."""
        self.note = note
        if note is not None:
            kwargs.setdefault("initial", _initial(note))
        super().__init__(*args, **kwargs)
        if note is not None:
            self.fields["kind"].disabled = True
        if note is not None and note.kind == NoteKind.ANKI:
            # An imported note: its own note type's fields, Anki's HTML (sanitised on render).
            self.fields["kind"].choices = NoteKind.choices
            for index, name in enumerate(note.note_type.field_names):
                self.fields[f"anki_{index}"] = forms.CharField(
                    label=name, required=False, initial=note.fields.get(name, ""),
                    widget=forms.Textarea(attrs={"rows": 3}),
                )  # fmt: skip

    @property
    def anki_fields(self):
        """An imported note's own fields, bound, for the page (empty for the standard kinds):
        `{% for field in form.anki_fields %}{% include "cards/_note_field.html" %}{% endfor %}`."""
        return [self[name] for name in self.fields if name.startswith("anki_")]

    @property
    def basic_field_names(self):
        return ["front", "back", "add_reverse"]

    @property
    def cloze_field_names(self):
        return ["text", "back_extra"]

    def note_fields(self) -> dict[str, str]:
        """The chosen kind's fields, by their note names."""
        kind = self.cleaned_data["kind"]
        if kind == NoteKind.ANKI:
            names = self.note.note_type.field_names
            return {name: self.cleaned_data.get(f"anki_{i}") or "" for i, name in enumerate(names)}
        fields = {}
        for name in NOTE_FIELDS[kind]:
            value = self.cleaned_data.get(FORM_FIELDS[name])
            if name == "Add Reverse":
                value = "y" if value else ""
            fields[name] = value or ""
        return fields

    def clean(self):
        cleaned = super().clean()
        if "kind" in cleaned:
            try:
                note_type = self.note.note_type if cleaned["kind"] == NoteKind.ANKI else None
                self.cards = generate(cleaned["kind"], self.note_fields(), note_type)
            except NoteError as exc:
                self.add_note_error(exc)
        return cleaned

    def add_note_error(self, exc: NoteError) -> None:
        """Put a NoteError on the form field it names (else on the form)."""
        message = str(exc).removeprefix(f"{exc.field}: ")
        self.add_error(FORM_FIELDS.get(exc.field), message)


def _initial(note) -> dict:
    initial = {"kind": note.kind, "tags": note.tags}
    for name, value in (note.fields or {}).items():
        if name in FORM_FIELDS:
            initial[FORM_FIELDS[name]] = bool(value) if name == "Add Reverse" else value
    return initial
