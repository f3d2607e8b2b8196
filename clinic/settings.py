"""Settings for the checklist service, read from the environment only.

Every value comes from an environment variable (documented in README.md). A malformed
value stops start-up with a message naming the variable, so a misconfigured deployment
fails loudly instead of running with a surprising default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


DEBUG = env_bool("DJANGO_DEBUG")
# Demo mode creates the demo accounts; it never runs against a production database.
DEMO_MODE = env_bool("DJANGO_DEMO")

_INSECURE_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or DEMO_MODE):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = _INSECURE_KEY
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is too weak: use at least 50 random characters.")

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()
]
if DEBUG or DEMO_MODE:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver"]
elif not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is not set (comma-separated host names).")

# /_bench/fortunes, the benchmark's reference page (bench/bench.py). Loopback hosts only,
# so it can never be switched on in a deployment by mistake.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS")
if BENCH_ENDPOINTS and set(ALLOWED_HOSTS) - {"127.0.0.1", "localhost", "testserver"}:
    raise ImproperlyConfigured("BENCH_ENDPOINTS=1 is for loopback benchmarks only.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "checklists",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "checklists.uploads.UploadNameGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the signed-in user on every content history row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "checklists.middleware.NoStoreForAuthenticatedMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

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
                "checklists.context_processors.app_context",
            ],
        },
    },
]

# Widget templates (templates/checklists/widgets/) are looked up like any other template;
# Django's plain input widgets are drawn in Python, with identical output, for speed.
FORM_RENDERER = "checklists.forms_renderer.FastWidgetRenderer"

# SQLite is the embedded default. WAL lets readers run beside one writer; IMMEDIATE
# transactions make writers queue (up to `timeout`) instead of failing with
# "database is locked" when they upgrade a read lock.
_DEFAULT_DB = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _DEFAULT_DB)}
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file, not shared-cache memory: only a file gives the same locking (WAL,
    # busy waits) as production, which the concurrency tests rely on.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

CSRF_FAILURE_VIEW = "checklists.views.system.csrf_failure"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "case_list"
LOGOUT_REDIRECT_URL = "login"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEMO_MODE)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# A legal-status row verified longer ago than this needs the clinician's own check.
LEGAL_STALE_DAYS = env_int("LEGAL_STALE_DAYS", 90, minimum=1)

# Uploaded certificates of analysis: private files, served only through a view that
# checks access (never by a public URL). Use shared storage when running several hosts.
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
COA_MAX_BYTES = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Content history is for reading: a "revert" would bypass the version workflow (a published
# version is frozen, and a draft changes only through the admin forms and services).
SIMPLE_HISTORY_REVERT_DISABLED = True

# Cases per page on the case list.
CASES_PER_PAGE = 25

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO; its warnings (a refused URL) still show.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}
