from django.urls import path

from cards.views import accounts, decks, floor, health, study
from cards.views.stats import stats

urlpatterns = [
    path("", decks.dashboard, name="dashboard"),
    path("decks/<int:deck_id>/", decks.deck_detail, name="deck_detail"),
    path("decks/<int:deck_id>/study/", study.study, name="study_deck"),
    path("decks/<int:deck_id>/study/review/", study.review, name="study_deck_review"),
    path("decks/<int:deck_id>/study/undo/", study.undo, name="study_deck_undo"),
    path("study/", study.study, name="study_all"),
    path("study/review/", study.review, name="study_all_review"),
    path("study/undo/", study.undo, name="study_all_undo"),
    path("stats/", stats, name="stats"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("healthz", health.healthz, name="healthz"),
    path("bench/floor", floor.floor, name="bench_floor"),  # 404 unless BENCH=1
]
