"""Settings for NAPHS Planner, read from the environment.

With nothing set, the embedded development mode: SQLite and a Celery broker on the file system, so one
command runs the product on a fresh machine. Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL and REDIS_URL (see .env.example).
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

# The placeholder .env.example ships with: a production started from an unedited copy must not run on it.
SECRET_KEY_PLACEHOLDER = "change-me-to-a-long-random-string"
# What `check --deploy` (security.W009) asks of a key: at least 50 characters, 5 of them distinct.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot sign sessions and password-reset links in production, or None if it can."""
    if not key:
        return "SECRET_KEY must be set when DEBUG is false."
    if key == SECRET_KEY_PLACEHOLDER:
        return "SECRET_KEY is still the placeholder of .env.example."
    if key.startswith("django-insecure"):
        return "SECRET_KEY is a development key (it starts with 'django-insecure')."
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY is {len(key)} characters long; it needs at least {SECRET_KEY_MIN_LENGTH}."
    if (distinct := len(set(key))) < SECRET_KEY_MIN_DISTINCT:
        return f"SECRET_KEY uses only {distinct} different characters; it needs at least {SECRET_KEY_MIN_DISTINCT}."
    return None


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not DEBUG and (problem := secret_key_problem(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"{problem} Refusing to start with DEBUG=false: anyone who knows the key can forge sessions and "
        'password-reset links. Generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(64))" '
        "and set it as SECRET_KEY in the environment (or .env)."
    )
if not SECRET_KEY:
    SECRET_KEY = "django-insecure-embedded-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "naphs",
    "planning",
    "stakeholders",
    "costing",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions and before common (Django's order): the language of the request, from the cookie the chooser
    # sets or the browser's Accept-Language; PersonLanguageMiddleware, after authentication, puts the signed-in
    # person's own choice first.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "naphs.languages.PersonLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "naphs.urls"
WSGI_APPLICATION = "naphs.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
            "builtins": ["naphs.templatetags.builtins"],
        },
    },
]
FORM_RENDERER = "naphs.forms.FormRenderer"

# Databases: DATABASE_URL (postgres://user:password@host:5432/name), else SQLite in var/.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share the file; wait for a lock rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # QuerySet.iterator() (every select of a form iterates its choices so) then reads the rows in one round trip
    # instead of declaring, fetching from and closing a cursor: three round trips per select on a page. The one
    # large iteration (the costing workbook's year cells) holds the rows in memory either way.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "stakeholders.User"
AUTHENTICATION_BACKENDS = ["stakeholders.backends.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# An invitation link, like a password-reset link, stays valid for this long.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("INVITATION_TIMEOUT_SECONDS", str(7 * 24 * 3600)))

LANGUAGE_CODE = "en"
# The six official languages of WHO. The codes are Django's: Chinese is Simplified Chinese (zh-hans).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("zh-hans", "简体中文"),
]
# The catalogues: locale/<language>/LC_MESSAGES/django.po, compiled to .mo by `make messages` (see README).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The chooser's cookie: the choice of someone not signed in (a signed-in person's lives on their account).
LANGUAGE_COOKIE_NAME = "naphs_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
# Numbers and dates on pages are written in the person's locale (Django always localizes templates' {{ value }}
# and forms). The API and exports write locale-free values: they never go through localize(). Templates name a
# format (`|date:"DATETIME_FORMAT"`) so each language writes dates its own way; naphs/formats holds English's.
FORMAT_MODULE_PATH = ["naphs.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Rendered files (exports, documents) live here; they are served only through permission-checked views.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Uploads. A request body other than files is held in memory up to DATA_UPLOAD_MAX_MEMORY_SIZE; a file above
# FILE_UPLOAD_MAX_MEMORY_SIZE goes to a temporary file, of which LimitedUploadHandler writes at most
# UPLOAD_MAX_BYTES: a larger file is refused by its form, never saved. A plan's uploads waiting for their job
# may take UPLOAD_PENDING_BYTES_PER_PLAN together. SPREADSHEET_LIMITS (JSON) overrides the limits of the
# spreadsheet imports (naphs/spreadsheets.py IMPORT_LIMITS), e.g. {"costing_workbook": {"max_cells": 3000000}}.
MB = 1024 * 1024
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_MB", "20")) * MB
UPLOAD_PENDING_BYTES_PER_PLAN = int(os.environ.get("UPLOAD_PENDING_MB_PER_PLAN", "50")) * MB
UPLOAD_SWEEP_GRACE_SECONDS = 3600
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_MB", "5")) * MB
FILE_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * MB)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "naphs.uploads.LimitedUploadHandler",
]
SPREADSHEET_LIMITS = json.loads(os.environ.get("SPREADSHEET_LIMITS", "") or "{}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Source maps are read only by a developer's browser tools: not worth compressing (brotli takes most of a minute
# over the API docs' maps), they are served as they are.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv", "woff"),
    *("woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv", "map"),
]

# E-mail: invitations and password resets. Printed to the console in the embedded mode (decoded, so that a
# link can be followed as printed); in production sent by SMTP to EMAIL_HOST (or by any backend named in
# EMAIL_BACKEND).
EMAIL_BACKEND_PATH = os.environ.get(
    "EMAIL_BACKEND",
    "naphs.mail.ConsoleEmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": 30,
    }
# The address people use to reach this installation; e-mailed links start with it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "NAPHS Planner <naphs@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Production defaults are the strict ones; a deployment behind a TLS proxy sets
# SECURE_PROXY_SSL_HEADER=true so Django sees the original scheme.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response: scripts, styles and images come from this site's static files only,
# never from markup (no inline <script>, <style>, style= or on*= handlers), so injected markup cannot run.
# Pico's form controls draw their icons from data: URLs.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True

REST_FRAMEWORK = {
    # Token first: an API call without credentials gets 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "naphs.languages.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "naphs.api.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "naphs.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "naphs.api.exception_handler",
}
# The API schema and docs: open in the embedded mode, for signed-in people only in production unless set public.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "NAPHS Planner API",
    "DESCRIPTION": "Plans, jurisdictions, organizations, memberships and background jobs of NAPHS Planner.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "costing.api.lines.split_cost_builders",
    ],
    # Plans (my_role) and memberships (role) share the role choices: one RoleEnum in the schema.
    # Activities rate impact and priority on one scale: one RatingEnum. Cost lines have a category and a secondary
    # one from the same list: one CostCategoryEnum.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "naphs.permissions.Role",
        "RatingEnum": "planning.models.Activity.Rating",
        "CostCategoryEnum": "costing.models.CostCategory",
        "InvitationStatusEnum": "stakeholders.models.Invitation.Status",
        # Enumerations of a request body that has a component for creation (PlanRequest) and one for a change
        # (PlanChangeRequest): one name each.
        "PlanKindEnum": "planning.models.Plan.Kind",
        "ActivityStatusEnum": "planning.models.Activity.Status",
        "FundingCommitmentStatusEnum": "costing.models.FundingCommitment.Status",
        "OrganizationKindEnum": "stakeholders.models.Organization.Kind",
        "PlanVersionKindEnum": "planning.models.PlanVersion.Kind",
        "GuidanceKindEnum": "planning.models.GuidanceKind",
        "ProgressStatusEnum": "monitoring.models.ProgressStatus",
        "ProgressReviewKindEnum": "monitoring.models.Review.Kind",
        "ActivitySourceEnum": "planning.models.Activity.Source",
        "RemedialSourceEnum": "monitoring.timeliness.REMEDIAL_SOURCES",
        "UploadStatusEnum": "costing.models.CostingUpload.Status",  # the progress workbook's uploads: the same set
        "MEIndicatorKindEnum": "monitoring.indicator_forms.TYPED_KINDS",
        "CostingDashboardScopeEnum": "costing.dashboard.Scope",
        "MonitoringDashboardScopeEnum": "monitoring.dashboard.Scope",
        "AdvocacyStatusEnum": "stakeholders.models.Advocacy.Status",  # an advocacy's, and a pledge's advocacy_status
        "EngagementEventKindEnum": "stakeholders.models.EngagementEvent.Kind",
        "StakeholderScaleEnum": "stakeholders.models.Stakeholder.Scale",  # influence and interest
        "SectorEnum": "naphs.choices.Sector",
    },
}

# Celery. REDIS_URL (or CELERY_BROKER_URL) in production; with neither, a broker on the file system
# that needs no server, so the embedded mode still runs jobs in a separate worker process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),  # not the working directory
    }
else:
    # An unacknowledged message (its worker may be gone) is delivered again after this long. Longer than the
    # longest wait before a retry (the e-mail task waits up to 8 minutes), so a retry is not sent twice; a job
    # message delivered again while the job still beats is left alone (naphs.jobs.job_run). Beat finds jobs
    # whose worker died well before this (JOB_HEARTBEAT_STALE_SECONDS).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600"))}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # the Job row is the result
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "1500"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "1800"))
# A running job's worker writes its heartbeat every JOB_HEARTBEAT_SECONDS. Beat looks every JOB_RECOVER_SECONDS
# for running jobs silent for JOB_HEARTBEAT_STALE_SECONDS (their worker died) and queues them again, or fails
# them once they have had JOB_MAX_ATTEMPTS attempts.
JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", "5"))
JOB_HEARTBEAT_STALE_SECONDS = float(os.environ.get("JOB_HEARTBEAT_STALE_SECONDS", "60"))
JOB_RECOVER_SECONDS = float(os.environ.get("JOB_RECOVER_SECONDS", "20"))
JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "3"))
if not 0 < 3 * JOB_HEARTBEAT_SECONDS <= JOB_HEARTBEAT_STALE_SECONDS:
    raise ImproperlyConfigured("JOB_HEARTBEAT_STALE_SECONDS must be at least three JOB_HEARTBEAT_SECONDS")
if JOB_RECOVER_SECONDS <= 0 or JOB_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("JOB_RECOVER_SECONDS must be positive and JOB_MAX_ATTEMPTS at least 1")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "naphs")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
JOB_RETENTION_DAYS = int(os.environ.get("JOB_RETENTION_DAYS", "30"))
# Reports on an open period are asked for by e-mail from this many days before they are due, and until they are in.
PROGRESS_REMINDER_DAYS = int(os.environ.get("PROGRESS_REMINDER_DAYS", "7"))
CELERY_BEAT_SCHEDULE = {
    # Sent again at the next interval if no worker took it: a late one is dropped rather than run in a burst.
    "jobs-recover": {
        "task": "naphs.tasks.jobs_recover_task",
        "schedule": timedelta(seconds=JOB_RECOVER_SECONDS),
        "options": {"expires": JOB_RECOVER_SECONDS},
    },
    "jobs-expire": {"task": "naphs.tasks.jobs_expire_task", "schedule": timedelta(minutes=15)},
    "uploads-sweep": {"task": "naphs.tasks.uploads_sweep_task", "schedule": timedelta(minutes=15)},
    "rollups-sweep": {"task": "costing.tasks.rollups_sweep_task", "schedule": timedelta(minutes=2)},
    "monitoring-sweep": {"task": "monitoring.tasks.monitoring_sweep_task", "schedule": timedelta(minutes=2)},
    # Each reviewer is reminded at most once a day (ReviewInvitation.reminded_at); hourly, so a reminder is not a day
    # late when beat was down at one run.
    "review-reminders": {"task": "planning.tasks.review_reminders_task", "schedule": timedelta(hours=1)},
    # Focal points and technical leads are reminded at most once a day per period (monitoring.ProgressReminder).
    "progress-reminders": {"task": "monitoring.tasks.progress_reminders_task", "schedule": timedelta(hours=1)},
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusal_without_traceback": {"()": "naphs.log_filters.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own console handler on "django" would write each record a second time beside the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A refused request (403, 404, 400) is logged once, one line without a traceback.
        "django.request": {"filters": ["refusal_without_traceback"]},
        "django.security": {"filters": ["refusal_without_traceback"]},
    },
}

# Limits: failed sign-ins, API calls, password-reset mails and background jobs (see README, Configuration).
# Counters live in the cache, which every web process must share: Redis when REDIS_URL is set, else files in VAR_DIR.
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "naphs-cache",  # the broker may share the database: its keys are never ours
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }
# A signed-in request reads its session from the cache instead of the database (it is written to both, so a
# session outlives a flushed cache); each session is its person's own, so nothing of one is shown to another.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The header a trusted proxy writes the client's address in (e.g. X-Forwarded-For); the last address in it counts.
# Unset, only the connection's address counts: a client could write anything in such a header.
CLIENT_ADDRESS_HEADER = os.environ.get("CLIENT_ADDRESS_HEADER", "").strip()
# Failed sign-ins (django-axes): signing in pauses for LOGIN_COOLOFF_MINUTES for an account after this many
# failures on it, and for an address after this many from it, whatever the names tried.
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20"))
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
MIDDLEWARE += ["naphs.middleware.RefusalMiddleware", "axes.middleware.AxesMiddleware"]
AXES_HANDLER = "stakeholders.signin.SignInAttempts"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = max(LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS)  # the smaller: SignInAttempts
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a pause ends on time, however often it is tried
AXES_RESET_ON_SUCCESS = True  # the account's own failures only (SignInAttempts.reset_user_attempts)
AXES_USERNAME_CALLABLE = "stakeholders.signin.signin_account_key"
AXES_CLIENT_IP_CALLABLE = "naphs.limits.client_address"
AXES_LOCKOUT_CALLABLE = "stakeholders.signin.signin_paused_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (and cleared after the cool-off); successful sign-ins are not
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # failures and pauses; not every successful sign-in
# API calls (DRF throttling): per signed-in person and per address of those not signed in; "N/second|minute|hour|day".
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["naphs.limits.UserThrottle", "naphs.limits.AnonThrottle"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": os.environ.get("API_RATE_PER_USER", "600/minute"),
    "anon": os.environ.get("API_RATE_PER_ADDRESS", "60/minute"),
}
# Password-reset mails: per e-mail address asked for, and per client address asking.
PASSWORD_RESET_RATE_PER_EMAIL = os.environ.get("PASSWORD_RESET_RATE_PER_EMAIL", "3/hour")
PASSWORD_RESET_RATE_PER_CLIENT = os.environ.get("PASSWORD_RESET_RATE_PER_CLIENT", "10/hour")
# Background jobs: how many one person may have queued or running at once.
JOBS_PER_PERSON = int(os.environ.get("JOBS_PER_PERSON", "5"))

for directory in (VAR_DIR, MEDIA_ROOT, STATIC_ROOT, *([BROKER_DIR] if CELERY_BROKER_URL == "filesystem://" else [])):
    directory.mkdir(parents=True, exist_ok=True)
