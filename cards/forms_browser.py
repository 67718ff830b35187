"""The card browser's bulk-action form: which action, on which cards, with what."""

from django import forms

from cards.services.card_bulk import BulkError, parse_due_spec
from cards.services.card_marks import FLAG_NAMES

BULK_LIMIT = 20_000
ACTIONS = [
    ("suspend", "Suspend"), ("unsuspend", "Unsuspend"), ("bury", "Bury until tomorrow"),
    ("flag", "Flag"), ("add_tags", "Add tags"), ("remove_tags", "Remove tags"),
    ("move", "Move to deck"), ("forget", "Forget (make new)"), ("set_due", "Set due date"),
    ("delete", "Delete (your own cards)"),
]  # fmt: skip


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(choices=ACTIONS)
    scope = forms.ChoiceField(
        choices=[("selected", "The cards ticked"), ("all", "Every card the search finds")],
        initial="selected",
        widget=forms.RadioSelect,
    )
    q = forms.CharField(required=False, max_length=1000, strip=False)
    flag = forms.TypedChoiceField(
        coerce=int,
        required=False,
        choices=[("", "—"), *FLAG_NAMES.items()],
        empty_value=None,
    )
    tags = forms.CharField(required=False, max_length=500)
    deck = forms.TypedChoiceField(coerce=int, required=False, choices=[], empty_value=None)
    due = forms.CharField(required=False, max_length=20, help_text="0, 1-7 or 30!")
    reset_counts = forms.BooleanField(required=False, label="Also reset reviews and lapses")

    def __init__(self, *args, decks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deck"].choices = [("", "—")] + [(deck.pk, deck.name) for deck in decks]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        # The ticked boxes: many values of one name, checked here rather than as choices.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        if len(raw) > BULK_LIMIT:
            raise forms.ValidationError(f"At most {BULK_LIMIT} cards at once.")
        if not all(value.isdigit() and len(value) < 19 for value in raw):
            raise forms.ValidationError("The selection holds something that is not a card id.")
        data["ids"] = sorted({int(value) for value in raw})
        if data.get("scope") == "selected" and not data.get("ids"):
            raise forms.ValidationError("Tick the cards to change, or choose every card found.")
        if action == "flag" and data.get("flag") is None:
            self.add_error("flag", "Choose a flag (or No flag to remove it).")
        if action in ("add_tags", "remove_tags") and not data.get("tags", "").split():
            self.add_error("tags", "Give at least one tag (tags are separated by spaces).")
        if action == "move" and data.get("deck") is None:
            self.add_error("deck", "Choose one of your decks.")
        if action == "set_due":
            try:
                parse_due_spec(data.get("due", ""))
            except BulkError as error:
                self.add_error("due", str(error))
        return data
