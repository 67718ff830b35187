from django.urls import path

from cards.views import accounts, decks, health

urlpatterns = [
    path("", decks.dashboard, name="dashboard"),
    path("decks/<int:deck_id>/", decks.deck_detail, name="deck_detail"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("healthz", health.healthz, name="healthz"),
]
