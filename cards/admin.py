"""Staff curation in Django's admin: deck and card lists, filling in missing answers with a
Markdown preview, moving, suspending and merging cards; scheduling data is read-only here."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from cards.markdown import render_markdown
from cards.models import Card, Deck, MediaFile, MemoryState, ReviewLog, StudySettings
from cards.services import curation
from cards.services.deletion import delete_deck


@admin.register(Deck)
class DeckAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_public", "cards", "missing_answers", "updated_at"]
    list_filter = ["is_public"]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        # Both counts come with the list itself: one query whatever the number of decks.
        return super().get_queryset(request).with_card_counts()

    # Big decks go in short transactions, so that deleting one never holds other users' writes.
    def delete_model(self, request, obj):
        delete_deck(obj)

    def delete_queryset(self, request, queryset):
        for deck in queryset:
            delete_deck(deck)

    @admin.display(description="Cards", ordering="card_count")
    def cards(self, deck):
        url = reverse("admin:cards_card_changelist") + "?" + urlencode({"deck__id__exact": deck.pk})
        return format_html('<a href="{}">{}</a>', url, deck.card_count)

    @admin.display(description="Missing answers", ordering="needs_answer_count")
    def missing_answers(self, deck):
        if not deck.needs_answer_count:
            return "0"
        url = reverse("admin:cards_card_fill_answers") + "?" + urlencode({"deck": deck.pk})
        return format_html('{} · <a href="{}">Fill in</a>', deck.needs_answer_count, url)


@admin.register(MediaFile)
class MediaFileAdmin(admin.ModelAdmin):
    """Card images: looked at and removed here (deleting the last row of a stored file deletes
    the file, cards/services/media.py); uploads go through the card forms' upload."""

    list_display = ["__str__", "deck", "uploaded_by", "content_type", "width", "height", "size",
                    "created_at"]  # fmt: skip
    list_select_related = ["deck", "uploaded_by"]
    search_fields = ["original_name", "sha256", "deck__name", "uploaded_by__username"]
    readonly_fields = [f.name for f in MediaFile._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False


class AnswerFilter(admin.SimpleListFilter):
    title = "answer"
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [("missing", "Missing"), ("present", "Present")]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.needing_answer()
        if self.value() == "present":
            return queryset.answered()
        return queryset


class DeckChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, deck):
        owner = deck.owner.username if deck.owner else "site deck"
        return f"{deck.name} ({owner}{', public' if deck.is_public else ''})"


class MoveToDeckForm(forms.Form):
    deck = DeckChoiceField(queryset=Deck.objects.select_related("owner"), label="Move to deck")


class FillAnswerForm(forms.Form):
    answer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "class": "vLargeTextField"}),
        required=False,
        help_text="Markdown: **bold**, lists with - or 1., `code`, ``` blocks.",
    )


def _id_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip().isdigit()][:1000]


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["short_question", "deck", "position", "has_answer", "suspended"]
    list_display_links = ["short_question"]
    list_filter = [AnswerFilter, "deck", "suspended"]
    search_fields = ["question", "answer"]
    ordering = ["deck", "position", "id"]
    list_select_related = ["deck"]
    list_per_page = 100
    autocomplete_fields = ["deck"]
    fields = [
        "deck",
        "question",
        "answer",
        "rendered_answer",
        "position",
        "external_id",
        "tags",
        "suspended",
    ]
    readonly_fields = ["rendered_answer"]
    actions = ["move_to_deck", "suspend", "unsuspend", "merge_selected"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The image upload under the form (templates/admin/cards/card/change_form.html), for
        # a deck the staff member may edit (the upload view checks the same rule).
        card = self.get_object(request, object_id)
        if card is not None and card.deck.can_edit(request.user):
            extra_context = {**(extra_context or {}), "media_deck_id": card.deck_id}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        # A cloze card's text is its note's Text, an Anki note type's card its template (the
        # note editor changes them); a card with siblings moves with its note, not alone.
        fields = list(super().get_readonly_fields(request, obj))
        note = obj.note if obj is not None and obj.note_id else None
        if note is not None and note.kind in ("cloze", "anki"):
            fields += ["question", "answer"]
        if note is not None and note.kind != "basic":
            fields += ["deck"]
        return fields

    @admin.display(description="Question")
    def short_question(self, card):
        return card.question if len(card.question) <= 90 else card.question[:89] + "…"

    @admin.display(description="Answer", boolean=True)
    def has_answer(self, card):
        return not card.needs_answer

    @admin.display(description="Rendered answer")
    def rendered_answer(self, card):
        if not card.answer_html:
            return "No answer yet."
        # answer_html is sanitised Markdown output; hx-disable keeps htmx away from it anyway.
        return format_html(
            '<div class="user-content" hx-disable>{}</div>', mark_safe(card.answer_html)
        )

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Move to deck…", permissions=["change"])
    def move_to_deck(self, request, queryset):
        form = MoveToDeckForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                moved = curation.move_cards(
                    queryset.values_list("pk", flat=True), form.cleaned_data["deck"]
                )
            except curation.CurationError as exc:
                self.message_user(request, str(exc).capitalize(), messages.ERROR)
                return None
            self.message_user(
                request, f"Moved {moved} cards to {form.cleaned_data['deck']}.", messages.SUCCESS
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Move cards to another deck",
            "opts": self.model._meta,
            "form": form,
            "cards": queryset.select_related("deck"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cards/card/move_to_deck.html", context)

    @admin.action(description="Suspend selected cards", permissions=["change"])
    def suspend(self, request, queryset):
        count = curation.set_suspended(queryset, True)
        self.message_user(request, f"Suspended {count} cards.", messages.SUCCESS)

    @admin.action(description="Unsuspend selected cards", permissions=["change"])
    def unsuspend(self, request, queryset):
        count = curation.set_suspended(queryset, False)
        self.message_user(request, f"Unsuspended {count} cards.", messages.SUCCESS)

    @admin.action(description="Merge into… (select two cards)", permissions=["delete"])
    def merge_selected(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(request, "Select exactly two cards to merge.", messages.WARNING)
            return None
        url = reverse("admin:cards_card_merge") + "?" + urlencode({"ids": f"{ids[0]},{ids[1]}"})
        return HttpResponseRedirect(url)

    # --- extra pages -----------------------------------------------------------------------

    def get_urls(self):
        extra = [
            path(
                "fill-answers/",
                self.admin_site.admin_view(self.fill_answers_view),
                name="cards_card_fill_answers",
            ),
            path(
                "fill-answers/preview/",
                self.admin_site.admin_view(require_POST(self.preview_view)),
                name="cards_card_preview",
            ),
            path(
                "duplicates/",
                self.admin_site.admin_view(self.duplicates_view),
                name="cards_card_duplicates",
            ),
            path("merge/", self.admin_site.admin_view(self.merge_view), name="cards_card_merge"),
        ]
        return extra + super().get_urls()

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }

    def _require_change(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied

    def fill_answers_view(self, request):
        """One blank card at a time; the walk's state (deck, skipped cards, answers saved) rides
        in the query string, so several staff can work at once and a reload loses nothing."""
        self._require_change(request)
        source = request.POST if request.method == "POST" else request.GET
        deck = None
        if source.get("deck"):
            deck = get_object_or_404(Deck, pk=source["deck"]) if source["deck"].isdigit() else None
        skipped = _id_list(source.get("skipped", ""))
        answered = int(source["answered"]) if source.get("answered", "").isdigit() else 0
        form = FillAnswerForm(request.POST or None)
        preview_html = card = None
        if request.method == "POST":
            card = get_object_or_404(Card, pk=request.POST.get("card"))
            action = request.POST.get("action", "save")
            form.is_valid()
            answer = form.cleaned_data.get("answer", "")
            if action == "skip":
                skipped.append(card.pk)
            elif action == "preview":
                preview_html = render_markdown(answer)
            elif not card.needs_answer:
                messages.warning(request, f"“{card}” was answered meanwhile; it is left as it is.")
            elif answer.strip():
                curation.answer_card(card, answer)
                answered += 1
                messages.success(request, f"Saved the answer to “{card}”.")
            else:
                form.add_error("answer", "Write an answer, or press Skip.")
            if preview_html is None and not form.errors:
                return redirect(self._fill_url(deck, skipped, answered))
        remaining = curation.unanswered_cards(deck, exclude=skipped)
        card = card or remaining.first()
        left = remaining.count() if card else 0
        context = self._context(
            request,
            "Fill missing answers" + (f" · {deck.name}" if deck else ""),
            card=card,
            deck=deck,
            form=form,
            preview_html=preview_html,
            left=left,
            total=left + len(skipped) + answered,
            answered=answered,
            skipped=len(skipped),
            skipped_ids=",".join(map(str, skipped)),
            restart_url=self._fill_url(deck, [], 0),
            decks=Deck.objects.with_card_counts(),
        )
        return TemplateResponse(request, "admin/cards/card/fill_answers.html", context)

    @staticmethod
    def _fill_url(deck, skipped, answered):
        params = {}
        if deck is not None:
            params["deck"] = deck.pk
        if skipped:
            params["skipped"] = ",".join(map(str, skipped))
        if answered:
            params["answered"] = answered
        url = reverse("admin:cards_card_fill_answers")
        return url + ("?" + urlencode(params) if params else "")

    def preview_view(self, request):
        self._require_change(request)
        html = render_markdown(request.POST.get("answer", ""))
        return render(request, "admin/cards/card/_preview.html", {"preview_html": html})

    def duplicates_view(self, request):
        self._require_change(request)
        cards = Card.objects.all()
        deck = None
        if request.GET.get("deck", "").isdigit():
            deck = get_object_or_404(Deck, pk=request.GET["deck"])
            cards = cards.filter(deck=deck)
        pairs = curation.find_duplicates(cards)
        for pair in pairs:
            pair.merge_url = (
                reverse("admin:cards_card_merge")
                + "?"
                + urlencode({"ids": f"{pair.first.pk},{pair.second.pk}"})
            )
        context = self._context(
            request, "Possible duplicates", pairs=pairs, deck=deck, decks=Deck.objects.all()
        )
        return TemplateResponse(request, "admin/cards/card/duplicates.html", context)

    def merge_view(self, request):
        """Choose which of two cards to keep; the other is merged into it and deleted."""
        if not (self.has_change_permission(request) and self.has_delete_permission(request)):
            raise PermissionDenied
        ids = _id_list(request.POST.get("ids") or request.GET.get("ids", ""))
        cards = list(Card.objects.filter(pk__in=ids[:2]).select_related("deck"))
        if len(cards) != 2:
            self.message_user(request, "Those two cards no longer exist.", messages.WARNING)
            return redirect("admin:cards_card_duplicates")
        if request.method == "POST":
            keep_id = request.POST.get("keep", "")
            kept = next((card for card in cards if str(card.pk) == keep_id), None)
            if kept is not None:
                removed = next(card for card in cards if card.pk != kept.pk)
                result = curation.merge_cards(kept, removed)
                text = f"Merged card {result.removed_id} into “{kept}”"
                if result.answer_filled:
                    text += ", which took its answer"
                text += f"; moved the history of {result.users_moved} learners."
                self.message_user(request, text, messages.SUCCESS)
                return redirect("admin:cards_card_change", kept.pk)
            self.message_user(request, "Choose the card to keep.", messages.ERROR)
        counts = {
            card.pk: (
                MemoryState.objects.filter(card=card).count(),
                ReviewLog.objects.filter(card=card).count(),
            )
            for card in cards
        }
        for card in cards:
            card.learner_count, card.review_count = counts[card.pk]
        context = self._context(
            request, "Merge two cards", cards=cards, ids=",".join(str(c.pk) for c in cards)
        )
        return TemplateResponse(request, "admin/cards/card/merge.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "fill_answers_url": reverse("admin:cards_card_fill_answers"),
            "duplicates_url": reverse("admin:cards_card_duplicates"),
        }
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReviewLog)
class ReviewLogAdmin(ReadOnlyAdmin):
    list_display = ["reviewed_at", "user", "card", "deck", "rating", "grade", "state_after"]
    list_filter = ["rating", "grade", "state_before", "state_after"]
    search_fields = ["user__username", "card__question"]
    list_select_related = ["user", "card", "deck"]
    date_hierarchy = "reviewed_at"
    show_full_result_count = False


@admin.register(MemoryState)
class MemoryStateAdmin(ReadOnlyAdmin):
    """Derived from the review logs (rebuild_states recomputes them), so never edited by hand."""

    list_display = ["user", "card", "deck", "state", "due", "reps", "lapses"]
    list_filter = ["state"]
    search_fields = ["user__username", "card__question"]
    list_select_related = ["user", "card", "deck"]
    show_full_result_count = False


@admin.register(StudySettings)
class StudySettingsAdmin(admin.ModelAdmin):
    """Staff may correct a learner's settings; they are created by the app, never here."""

    list_display = ["user", "desired_retention", "new_cards_per_day", "reviews_per_day", "timezone"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "fsrs_parameters", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
