from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("cards.urls")),
]

# The 500 page, or a 503 "temporarily unavailable" one while the database cannot be reached.
handler500 = "cards.views.health.server_error"
