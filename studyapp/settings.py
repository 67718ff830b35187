"""Studyapp settings: one module, driven by environment variables.

The defaults make `manage.py runserver` work at once on a SQLite file; DATABASE_URL=postgres://...
switches to PostgreSQL. See docs/configuration.md for every variable.
"""

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _local_secret_key() -> str:
    # A per-checkout random key so a fresh clone runs without configuration, yet never shares one.
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = os.environ.get("SITE_NAME", "Studyapp")
# The benchmark's floor view (/bench/floor, cards/views/floor.py): a 404 unless BENCH=1.
BENCH_FLOOR_ENABLED = env_bool("BENCH", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "cards",
]

MIDDLEWARE = [
    # Outermost, so every response gets the policies, even the HTTP->HTTPS redirect below;
    # "private, no-store" for logged-in users (static files keep their caching).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "cards.middleware.PrivateCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Refuses an oversized body (413) before anything reads it.
    "cards.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cards.middleware.SessionIdleTimeoutMiddleware",
    # Last, after AuthenticationMiddleware: turns a lock-out into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studyapp.urls"
WSGI_APPLICATION = "studyapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cards.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Server-side parameters, so psycopg prepares a statement run 5 times on a connection
        # and PostgreSQL plans it once: planning the study page's queue query took longer
        # (1.7 ms) than running it. SERVER_SIDE_BINDING=0 turns it off (e.g. behind
        # PgBouncer in transaction mode, which cannot keep prepared statements).
        DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool(
            "SERVER_SIDE_BINDING", True
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the
                # busy timeout instead of failing mid-transaction with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            # A file per test process, so concurrent runs and threads see real SQLite locking.
            "TEST": {
                "NAME": os.environ.get(
                    "SQLITE_TEST_PATH",
                    str(Path(tempfile.gettempdir()) / f"studyapp-test-{os.getpid()}.sqlite3"),
                )
            },
        }
    }
if DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# In the database: every worker and every app container shares it with nothing more to run
# (memcached or Redis would be one more service). It holds the sign-up counts, whose atomic
# add() its primary key guarantees. `manage.py createcachetable` creates the table (make run,
# the Dockerfile and the test runner do).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "studyapp_cache",
        # Culling past MAX_ENTRIES drops a third of the keys, sign-up counts included: keep room.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(14 * 24 * 3600)))

# --- Security: log-in throttling, sessions, CSP (docs/security.md) ---------------------------
# Axes checks first and counts failures; the wrapper lets request-less authenticate() calls
# (tests' client.login, scripts) through to ModelBackend instead of raising.
AUTHENTICATION_BACKENDS = [
    "cards.security.AxesBackend",
    "cards.security.ModelBackend",  # Django's, with the study settings joined to the user
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
# Lock the (username, address) pair only: a guesser cannot lock the real user out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # keep failures only; successful log-ins are not recorded
AXES_LOCKOUT_CALLABLE = "cards.security.lockout_response"  # 429, templates/axes/lockout.html
AXES_CLIENT_IP_CALLABLE = "cards.security.client_ip"
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# SESSION_COOKIE_AGE is an idle timeout: cards.middleware extends a session that is in use, at
# most once per SESSION_REFRESH_SECONDS so ordinary requests do not write the session.
SESSION_REFRESH_SECONDS = int(os.environ.get("SESSION_REFRESH_SECONDS", "300"))
CSRF_FAILURE_VIEW = "cards.security.csrf_failure"
# Sign-up: SIGNUP_OPEN=0 closes it; SIGNUP_RATE caps new accounts per client address (a count
# and a period: s, m, h or d), counted in the database cache so every worker shares the count.
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", True)
SIGNUP_RATE = os.environ.get("SIGNUP_RATE", "5/h")
# Browser features no page uses: denied to the site and to anything it could ever embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "bluetooth", "browsing-topics", "camera", "display-capture",
        "encrypted-media", "fullscreen", "geolocation", "gyroscope", "hid", "idle-detection",
        "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
        "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "studyapp@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# English only: without the translation machinery every number and date a template prints
# skips a language look-up (3.7% of the review loop's instructions, docs/performance.md).
USE_I18N = False
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Uploads --------------------------------------------------------------------------------
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
# Any request body larger than this is refused with 413 before it is read (cards.middleware).
REQUEST_MAX_BYTES = int(os.environ.get("REQUEST_MAX_BYTES", str(IMPORT_MAX_BYTES + 1024 * 1024)))
# Anki packages (docs/anki.md): the one upload allowed to be big. It waits for the task worker
# as a private file in IMPORT_UPLOAD_DIR (shared by the web and worker processes), not in the
# database, and is removed when its job ends or is swept.
APKG_MAX_BYTES = int(os.environ.get("APKG_MAX_BYTES", str(300 * 1024 * 1024)))
IMPORT_UPLOAD_DIR = Path(os.environ.get("IMPORT_UPLOAD_DIR", BASE_DIR / "uploads"))
# What a package may unpack to (collection + media, counted as they stream out, whatever the
# zip declares) and how many media files its map may list (cards/anki/package.py).
ANKI_MAX_UNPACKED_BYTES = int(os.environ.get("ANKI_MAX_UNPACKED_BYTES", str(2 * 1024**3)))
ANKI_MAX_MEDIA_FILES = int(os.environ.get("ANKI_MAX_MEDIA_FILES", "50000"))

# --- Images on cards (cards/services/media.py, docs/configuration.md) -------------------------
# Stored through Django's storage API: the filesystem under MEDIA_ROOT unless MEDIA_STORAGE names
# another backend (e.g. storages.backends.s3.S3Storage, options as JSON in MEDIA_STORAGE_OPTIONS).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
if os.environ.get("MEDIA_STORAGE"):
    import json as _json

    STORAGES["default"] = {
        "BACKEND": os.environ["MEDIA_STORAGE"],
        "OPTIONS": _json.loads(os.environ.get("MEDIA_STORAGE_OPTIONS", "{}")),
    }
MEDIA_MAX_BYTES = int(os.environ.get("MEDIA_MAX_BYTES", str(5 * 1024 * 1024)))
MEDIA_MAX_SIDE = int(os.environ.get("MEDIA_MAX_SIDE", "8000"))  # pixels, either side
MEDIA_MAX_PIXELS = int(os.environ.get("MEDIA_MAX_PIXELS", str(40_000_000)))  # all frames together
MEDIA_MAX_FRAMES = int(os.environ.get("MEDIA_MAX_FRAMES", "300"))  # of an animated GIF or WebP
MEDIA_QUOTA_BYTES = int(os.environ.get("MEDIA_QUOTA_BYTES", str(100 * 1024 * 1024)))  # per user
# "" streams through Django; "x-accel-redirect" (nginx) or "x-sendfile" (Apache, lighttpd)
# hand the file to the web server once the view has checked access (docs/deployment.md).
MEDIA_SERVE_WITH = os.environ.get("MEDIA_SERVE_WITH", "")
MEDIA_ACCEL_PREFIX = os.environ.get("MEDIA_ACCEL_PREFIX", "/protected-media/")
# Public decks' images: shared caches may keep them this long (seconds).
MEDIA_PUBLIC_MAX_AGE = int(os.environ.get("MEDIA_PUBLIC_MAX_AGE", str(365 * 24 * 3600)))

# --- Limits: bound the work one user can ask of the server (docs/configuration.md) -----------
IMPORT_MAX_CARDS = int(os.environ.get("IMPORT_MAX_CARDS", "20000"))  # cards in one import file
APKG_MAX_CARDS = int(os.environ.get("APKG_MAX_CARDS", "100000"))  # cards in one Anki package
DECK_MAX_CARDS = int(os.environ.get("DECK_MAX_CARDS", "50000"))
USER_MAX_DECKS = int(os.environ.get("USER_MAX_DECKS", "500"))

# --- Background tasks: imports run on a worker process (`manage.py db_worker`) ---------------
# The queue lives in the database; TASKS_BACKEND=immediate runs tasks inside the request instead
# (tests do, see tests/conftest.py).
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[os.environ.get("TASKS_BACKEND", "database")]
    }
}
# An import job whose worker has not reported for this long is marked failed and undone.
IMPORT_JOB_STALE_SECONDS = int(os.environ.get("IMPORT_JOB_STALE_SECONDS", "600"))
# Cards written per transaction: short enough that other users' writes wait well under 1 s.
IMPORT_BATCH_CARDS = int(os.environ.get("IMPORT_BATCH_CARDS", "500"))
# A card's question or answer (cards.validators.CardTextLengthValidator, every write path).
CARD_TEXT_MAX_CHARS = int(os.environ.get("CARD_TEXT_MAX_CHARS", "20000"))
# Deepest nesting of arrays/objects a JSON data import may have (checked before parsing).
IMPORT_JSON_MAX_DEPTH = int(os.environ.get("IMPORT_JSON_MAX_DEPTH", "64"))

# --- Production hardening (on whenever DEBUG is off) -----------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # The preload list is a hard-to-undo promise for the whole domain: the operator opts in.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
