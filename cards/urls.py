from django.urls import path

from cards.views import accounts, decks, floor, health

urlpatterns = [
    path("", decks.dashboard, name="dashboard"),
    path("decks/<int:deck_id>/", decks.deck_detail, name="deck_detail"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("healthz", health.healthz, name="healthz"),
    path("bench/floor", floor.floor, name="bench_floor"),  # 404 unless BENCH=1
]
