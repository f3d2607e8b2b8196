"""Settings for the checklist service, read from the environment only.

Every value comes from an environment variable (documented in README.md). A malformed
value stops start-up with a message naming the variable, so a misconfigured deployment
fails loudly instead of running with a surprising default.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from clinic import startup

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
# `manage.py makemigrations` and its like read only the code (clinic/startup.py).
CODE_ONLY = startup.code_only
# Demo mode creates the demo accounts; it never runs against a production database.
DEMO_MODE = env_bool("DJANGO_DEMO")

_INSECURE_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"
# Demo mode runs without DEBUG (`make run`), so it signs its sessions with a key of its own:
# generated once and kept in this git-ignored file, never the published constant above.
DEMO_SECRET_KEY_FILE = BASE_DIR / ".demo-secret-key"


def demo_secret_key() -> str:
    if not DEMO_SECRET_KEY_FILE.exists():
        import secrets

        DEMO_SECRET_KEY_FILE.write_text(secrets.token_urlsafe(50) + "\n")
        DEMO_SECRET_KEY_FILE.chmod(0o600)
    return DEMO_SECRET_KEY_FILE.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or DEMO_MODE or CODE_ONLY):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = demo_secret_key() if DEMO_MODE and not DEBUG else _INSECURE_KEY
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is too weak: use at least 50 random characters.")

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()
]
if DEBUG or DEMO_MODE:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver"]
elif not ALLOWED_HOSTS and not CODE_ONLY:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is not set (comma-separated host names).")
elif any(host == "*" for host in ALLOWED_HOSTS):
    # A wildcard lets any Host header through: poisoned password-reset and absolute links.
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the real hosts, not '*'.")

# /_bench/fortunes, the benchmark's reference page (bench/bench.py). Loopback hosts only,
# so it can never be switched on in a deployment by mistake.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS")
if BENCH_ENDPOINTS and set(ALLOWED_HOSTS) - {"127.0.0.1", "localhost", "testserver"}:
    raise ImproperlyConfigured("BENCH_ENDPOINTS=1 is for loopback benchmarks only.")

INSTALLED_APPS = [
    # Before the admin: its registration/password_change_*.html would otherwise hide ours.
    "accounts",
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
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "checklists",
]

MIDDLEWARE = [
    # First, so every response (even a redirect or an error) carries the id it was logged with.
    "checklists.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before CSRF reads request.POST (in process_view): refuses unsafe upload file names.
    "checklists.uploads.UploadNameGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Charges the events heard through signals (team, group, staff changes) to the signed-in
    # user and their address (checklists/audit.py).
    "checklists.audit.AuditRequestMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After the user is known (the cap depends on who sends), before anything reads the body.
    "checklists.uploads.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a session that times out says why on the login page.
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    # A GET on a form-only address gets a page in the site's layout, not a blank 405.
    "checklists.refusals.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the signed-in user on every content history row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "checklists.middleware.NoStoreForAuthenticatedMiddleware",
    # A refused write on a signed checklist becomes the 409 page (refusals.py).
    "checklists.refusals.RefusalMiddleware",
    # Last, as django-axes requires: it turns a flagged login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
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

# "reference": what every page reads and editors rarely change, kept in each process's memory
# (checklists/refdata.py): the knowledge base, tagged with the reference-data token and
# checked against it on every use, and published or retired versions' sections and items,
# which never change. Objects are shared as they are, not pickled (clinic/cache_backends.py).
# One knowledge base and a few dozen versions: the least recently used go past 64.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "reference": {
        "BACKEND": "clinic.cache_backends.SharedObjectCache",
        "LOCATION": "reference",
        "OPTIONS": {"MAX_ENTRIES": 64},
    },
}

# Passwords (ASVS 6.2): at least 12 characters, up to 128, no composition rules (so no
# NumericPasswordValidator), refused when common or close to the account's own names.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {
        "NAME": "accounts.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Inactive users are refused here, and dropped from their session on the next request.
    "django.contrib.auth.backends.ModelBackend",
]

# Login lockout (django-axes): 5 failed passwords for a username lock it for 15 minutes;
# a success resets the count. [username, address] is the per-address rule; username alone
# bounds an attack spread over many addresses: at most 5 password checks in any 15 minutes,
# 20 an hour (ASVS 4.0 2.2.1 asks for fewer than 100). axes has one limit for both, so the
# username entry always trips with the pair: in effect the lock is per username, and anyone
# who knows a username can lock its owner out for 15 minutes at a time (README, "Login
# lockout", says what that costs and how an administrator lifts a lock).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during the lockout does not restart the 15 minutes, so an attacker
# cannot stretch one lockout indefinitely with a single request every few minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The page names the 15 minutes and the limit; change it with these numbers.
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The peer address only: a header such as X-Forwarded-For is client-controlled unless a
# proxy in front overwrites it, and the proxy should then rewrite REMOTE_ADDR instead.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# Cut to the longest real username before it is stored (axes' column is 255 characters).
AXES_USERNAME_CALLABLE = "accounts.lockout.username_for_lockout"
# No start-up banner on every command (it would land on stderr beside a command's output).
AXES_VERBOSE = False

CSRF_FAILURE_VIEW = "checklists.views.system.csrf_failure"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "case_list"
LOGOUT_REDIRECT_URL = "login"

# Second factor (django-otp). Required for every account outside demo mode: every role
# (clinicians, supervisors, auditors, content editors, admins) sees patient data or
# changes what clinicians see. Demo accounts keep logging in with a password alone.
MFA_REQUIRED = not DEMO_MODE
OTP_TOTP_ISSUER = "Caution checklists"
OTP_LOGIN_URL = "mfa_verify"
# Admins may remove a lost device but never read a secret (a signature made with a code
# must be the clinician's own).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions live in the database, so logging out or deactivating a user ends them for good
# (signed-cookie sessions cannot be revoked). 30 minutes idle and 12 hours in all, whatever
# the activity (ASVS 4.0 3.3.2), enforced by SessionTimeoutMiddleware.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = 30 * 60
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# A browser-session cookie: closing the browser on a shared clinic computer ends it too.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie (forms carry the token), so scripts need not see it.
CSRF_COOKIE_HTTPONLY = True
# Messages ride in the session, so the session and CSRF cookies are the only cookies.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Served over HTTPS (the default outside debug and demo): redirect plain HTTP, send HSTS for
# a year with subdomains, and mark the cookies Secure with the __Host- prefix (bound to this
# host and path /, never set by a subdomain or over plain HTTP). DJANGO_SECURE_COOKIES is
# the older name of this switch.
HTTPS = env_bool(
    "DJANGO_HTTPS",
    default=env_bool("DJANGO_SECURE_COOKIES", default=not (DEBUG or DEMO_MODE)),
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading commits the whole domain to HTTPS in browsers for months; the domain's
    # owner decides that (DJANGO_HSTS_PRELOAD=1), not this app's defaults.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env_bool("DJANGO_BEHIND_TLS_PROXY"):
    # Only behind a proxy that always overwrites X-Forwarded-Proto (README, "Security").
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): scripts, styles and images only from this origin,
# no inline script or style, no plugins, no <base> rewriting, never framed. img-src allows
# data: for the SVG icons inside Bootstrap's CSS (check marks, select arrows); the QR code on
# the enrolment page is inline SVG markup, not an image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

# A whole section of long answers (the 200-item stress template at 4,000 characters each)
# is under 1 MB; a body over 2 MB is refused with 400 before it is parsed (Django's default
# is 2.5 MB). Uploaded files are counted separately (FILE_UPLOAD_MAX_MEMORY_SIZE).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Collected (`make run` and `make serve` run collectstatic) with hashed names, which
# WhiteNoise serves with a far-future cache, and a gzip and Brotli copy of each, which it serves
# to browsers that accept them: Bootstrap's CSS is 227 KiB as it is, 24 KiB in Brotli, and it
# blocks the first paint (docs/lighthouse.md). Demo mode serves them the same way as
# production; DEBUG reads static/ and the apps as they are (WhiteNoise's finders).
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
# Request bodies are held to these before Django reads them (checklists/uploads.py): a
# clinician's certificate upload may carry the file and the form; any other request at most
# FILE_UPLOAD_MAX_MEMORY_SIZE, under which Django keeps every part in memory, so nobody else
# can make the server write an upload to disk.
REQUEST_BODY_MAX_BYTES = FILE_UPLOAD_MAX_MEMORY_SIZE
UPLOAD_BODY_MAX_BYTES = COA_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
# Content history is for reading: a "revert" would bypass the version workflow (a published
# version is frozen, and a draft changes only through the admin forms and services).
SIMPLE_HISTORY_REVERT_DISABLED = True

# Cases per page on the case list.
CASES_PER_PAGE = 25

# Every line carries the id of the request it belongs to ("-" outside a request), the same
# id the response sends back in X-Request-ID and the 500 page shows.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "checklists.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO; its warnings (a refused URL) still show.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}
