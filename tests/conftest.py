import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SEED = ROOT.parent / "shared" / "seeds" / "generative-ai-flashcards.txt"
REPO_SEED = ROOT / "fixtures" / "generative-ai-flashcards.txt"
PASSWORD = "correct-horse-battery-9"


def pytest_configure(config):
    from django.conf import settings

    # Tests speak plain HTTP to the test client and serve static files from the source folders.
    settings.SECURE_SSL_REDIRECT = False
    settings.STATIC_ROOT = tempfile.mkdtemp(prefix="studyapp-static-")
    # Uploaded images never land in the checkout (tests/media/ gives each test its own folder).
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="studyapp-media-")
    # Anki packages waiting for the worker (cards/services/uploads.py), likewise.
    settings.IMPORT_UPLOAD_DIR = tempfile.mkdtemp(prefix="studyapp-uploads-")
    settings.WHITENOISE_USE_FINDERS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Background tasks run inside the request; a test that needs a real worker says so.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def seed_path() -> Path:
    """The real seed export: shared/ beside the checkout, else the copy the repo ships."""
    return SHARED_SEED if SHARED_SEED.exists() else REPO_SEED


def make_user(username, **extra):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username, f"{username}@example.com", PASSWORD, **extra
    )


@pytest.fixture
def owner(db):
    return make_user("alice")


@pytest.fixture
def other(db):
    return make_user("bob")


@pytest.fixture
def staff(db):
    return make_user("carol", is_staff=True, is_superuser=True)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def other_client(client, other):
    client.force_login(other)
    return client


def start_days_far_from_now(user):
    """The user's study day starts 12 hours from now (UTC), so that no learning step taken in
    a test reaches the next day start and becomes day learning (Anki's rule), whatever the
    hour the suite runs at: near 04:00 a 10-minute step did."""
    from django.utils import timezone

    from cards.services.settings import get_study_settings

    settings = get_study_settings(user)
    settings.day_start_hour = (timezone.now().hour + 12) % 24
    settings.save(update_fields=["day_start_hour"])
