from django.urls import path

from cards.views import (
    accounts,
    anki,
    authoring,
    cards_edit,
    custom_study,
    decks,
    floor,
    health,
    imports,
    media,
    study,
    study_actions,
    transfer,
)
from cards.views import settings as settings_views
from cards.views import tags as tags_views
from cards.views.browser import card_browser, card_browser_action, card_browser_undo
from cards.views.stats import stats

urlpatterns = [
    path("", decks.dashboard, name="dashboard"),
    path("decks/<int:deck_id>/", decks.deck_detail, name="deck_detail"),
    # Authoring (cards/views/authoring.py, cards_edit.py, transfer.py)
    path("decks/new/", authoring.deck_create, name="deck_create"),
    path("decks/import/", transfer.deck_import, name="deck_import"),
    path("decks/import/anki/", anki.apkg_import, name="apkg_import"),
    path("imports/<int:job_id>/", imports.import_job, name="import_job"),
    path("decks/<int:deck_id>/edit/", authoring.deck_edit, name="deck_edit"),
    path("decks/<int:deck_id>/delete/", authoring.deck_delete, name="deck_delete"),
    path("decks/<int:deck_id>/copy/", authoring.deck_copy, name="deck_copy"),
    path("decks/<int:deck_id>/export.csv", transfer.deck_export_csv, name="deck_export_csv"),
    path("decks/<int:deck_id>/export.zip", transfer.deck_export_zip, name="deck_export_zip"),
    path("decks/<int:deck_id>/export.apkg", anki.deck_export_apkg, name="deck_export_apkg"),
    path("decks/<int:deck_id>/cards/new/", cards_edit.card_create, name="card_create"),
    path("decks/<int:deck_id>/media/", media.media_upload, name="media_upload"),
    path("decks/<int:deck_id>/media/<str:filename>", media.media_serve, name="media_serve"),
    path("cards/", card_browser, name="card_browser"),
    path("cards/actions/", card_browser_action, name="card_browser_action"),
    path("cards/actions/undo/", card_browser_undo, name="card_browser_undo"),
    path("cards/tags/", tags_views.tag_list, name="tag_list"),
    path("cards/tags/rename/", tags_views.tag_rename, name="tag_rename"),
    path("cards/tags/delete/", tags_views.tag_delete, name="tag_delete"),
    path("cards/<int:card_id>/", cards_edit.card_item, name="card_item"),
    path("cards/<int:card_id>/edit/", cards_edit.card_edit, name="card_edit"),
    path("cards/<int:card_id>/answer/", cards_edit.card_answer, name="card_answer"),
    path("cards/<int:card_id>/delete/", cards_edit.card_delete, name="card_delete"),
    path("needs-answer/", authoring.needs_answer, name="needs_answer"),
    path("account/data/", transfer.data_page, name="data_page"),
    path("account/data/export.json", transfer.data_export, name="data_export"),
    path("account/data/export.zip", transfer.data_export_zip, name="data_export_zip"),
    path("account/data/import/", transfer.data_import, name="data_import"),
    path("decks/<int:deck_id>/study/", study.study, name="study_deck"),
    path("decks/<int:deck_id>/study/review/", study.review, name="study_deck_review"),
    path("decks/<int:deck_id>/study/undo/", study.undo, name="study_deck_undo"),
    path("study/", study.study, name="study_all"),
    path("study/review/", study.review, name="study_all_review"),
    path("study/undo/", study.undo, name="study_all_undo"),
    # Custom study (cards/views/custom_study.py): the form, then the session's study page.
    path(
        "decks/<int:deck_id>/custom-study/",
        custom_study.custom_study_form,
        name="custom_study_deck",
    ),
    path("study/custom-study/", custom_study.custom_study_form, name="custom_study_all"),
    path("study/custom/", custom_study.session_page, name="custom_study_session"),
    path("study/custom/review/", custom_study.session_review, name="custom_study_review"),
    path("study/custom/undo/", custom_study.session_undo, name="custom_study_undo"),
    path("study/custom/end/", custom_study.session_end, name="custom_study_end"),
    # Card actions while studying (cards/views/study_actions.py), in one deck or in all.
    *[
        path(f"{prefix}study/cards/<int:card_id>/{name}/", view, name=f"study_{scope}_{name}")
        for prefix, scope in (("", "all"), ("decks/<int:deck_id>/", "deck"))
        for name, view in (
            ("edit", study_actions.edit),
            ("info", study_actions.info),
            ("suspend", study_actions.suspend),
            ("bury", study_actions.bury),
            ("bury_note", study_actions.bury_note),
            ("flag", study_actions.flag),
        )
    ],
    path("stats/", stats, name="stats"),
    path("settings/", settings_views.settings_page, name="settings"),
    path(
        "settings/parameters/reset/",
        settings_views.reset_fsrs_parameters,
        name="settings_reset_parameters",
    ),
    path("settings/optimize/", settings_views.optimize_start, name="settings_optimize"),
    path(
        "settings/optimize/status/", settings_views.optimize_status, name="settings_optimize_status"
    ),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("healthz", health.healthz, name="healthz"),
    path("bench/floor", floor.floor, name="bench_floor"),  # 404 unless BENCH=1
]
