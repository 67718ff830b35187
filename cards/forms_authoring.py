"""Forms of the authoring pages: they validate and clean; the views save."""

import zipfile

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from cards.models import Card, Deck


def check_upload_size(upload):
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise forms.ValidationError(
            f"The file is {filesizeformat(upload.size)}; files up to "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)} can be imported. "
            "Split it into smaller files and import them one by one."
        )
    return upload


class DeckForm(forms.ModelForm):
    class Meta:
        model = Deck
        fields = ["name", "description", "is_public"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = self.instance.owner if self.instance.pk else user
        if not user.is_staff:
            # Public decks are curated by staff; owners keep their decks private.
            del self.fields["is_public"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Deck.objects.filter(owner=self.owner, name=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("You already have a deck with this name.")
        return name


class CardForm(forms.ModelForm):
    class Meta:
        model = Card
        fields = ["question", "answer", "tags"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 3}),
            "answer": forms.Textarea(attrs={"rows": 8}),
        }
        help_texts = {
            "question": "Markdown works here.",
            "answer": "Markdown works here. Leave it blank if you do not know the answer yet.",
            "tags": "Optional, separated by spaces.",
        }

    def clean(self):
        refuse_cloze_text_edit(self.instance)
        return super().clean()


def refuse_cloze_text_edit(card):
    """A cloze card's question and answer are generated from its note's Text field; an Anki
    note type's card from its note's fields by its template."""
    if card.pk and card.note_id and card.note.kind == "cloze":
        raise forms.ValidationError(
            "This is a cloze card: its question and answer come from its note's Text field, "
            "so edit the note instead."
        )
    if card.pk and card.note_id and card.note.kind == "anki":
        raise forms.ValidationError(
            "This card's question and answer come from its note's fields through its Anki "
            "card template, so edit the note instead."
        )


class AnswerForm(forms.ModelForm):
    class Meta:
        model = Card
        fields = ["answer"]

    def clean(self):
        refuse_cloze_text_edit(self.instance)
        return super().clean()


class DeckImportForm(forms.Form):
    file = forms.FileField(
        help_text="The flashcard site's export (.txt) or a CSV with the columns "
        "question, answer and optionally id and tags."
    )
    deck = forms.ModelChoiceField(
        queryset=Deck.objects.none(),
        required=False,
        empty_label="A new deck (named after the file)",
        help_text="Importing into an existing deck updates cards with the same id or question "
        "and adds the others.",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="Optional name for a new deck."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deck"].queryset = Deck.objects.editable_by(user).order_by("name", "pk")

    def clean_file(self):
        return check_upload_size(self.cleaned_data["file"])


class DataImportForm(forms.Form):
    file = forms.FileField(label="Data file (.json, or .zip with images)")

    def clean_file(self):
        return check_upload_size(self.cleaned_data["file"])


class AnkiImportForm(forms.Form):
    """An Anki package. Only its size, name and that it is a zip are checked here (cheap, even
    for a 300 MB file); the task worker reads the rest and names what is wrong."""

    file = forms.FileField(
        label="Anki package (.apkg or .colpkg)",
        help_text="In Anki: File › Export, “Anki Deck Package” or “Anki Collection Package”.",
    )
    public = forms.BooleanField(
        required=False, label="Public", help_text="Every user can study the imported decks."
    )
    site = forms.BooleanField(
        required=False, label="Site decks",
        help_text="Owned by no one and curated by staff, instead of your own decks.",
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_staff:
            # Public and site decks are curated by staff; owners import into their own decks.
            del self.fields["public"], self.fields["site"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.APKG_MAX_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; Anki packages up to "
                f"{filesizeformat(settings.APKG_MAX_BYTES)} can be imported (APKG_MAX_BYTES). "
                "Export fewer decks, or without media, and import them one by one."
            )
        if not upload.name.lower().endswith((".apkg", ".colpkg")):
            raise forms.ValidationError(
                f"{upload.name} is not an Anki package: the name should end in .apkg or .colpkg. "
                "For CSV and text files use “Import a deck”."
            )
        if not zipfile.is_zipfile(upload):
            raise forms.ValidationError(
                f"{upload.name} is not an Anki package: it is not a zip file (Anki packages "
                "are). Export it again from Anki."
            )
        upload.seek(0)
        return upload
