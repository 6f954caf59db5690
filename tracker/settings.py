"""Settings for the meeting tracker; everything that varies per deployment comes from the environment."""
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env (see .env.example) is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# The fallback key only exists so `make run`, the tests and the local tools work on a bare
# machine: it is refused as soon as the site is served to other hosts with DEBUG off (unless
# DJANGO_ALLOW_INSECURE_KEY says so), and `check --deploy` reports it (tracker.security.E001).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    _local_only = set(ALLOWED_HOSTS) <= {"localhost", "127.0.0.1", "[::1]", "testserver"}
    if not (DEBUG or _local_only or env.bool("DJANGO_ALLOW_INSECURE_KEY", default=False)):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: it is required when DEBUG is off and DJANGO_ALLOWED_HOSTS "
            "names a real host (see docs/security.md)."
        )
    SECRET_KEY = "insecure-dev-key-change-me-" + "x" * 24
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

# DATABASES
# ------------------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent appenders queue up instead of
    # failing half-way with "database is locked" (Django 5.1+ option).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "tracker.reliability",  # before the admin: its admin/index.html adds the broker status
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc files served locally, no CDN
    "tracker.eventstore",
    "people",
    "meetings",
    "meetings.ingest",
    "tracker.moderation",
    "tracker.demo",  # `manage.py demo` and `ensure_curator` (make run)
    "tracker.security",  # `manage.py hostile_sweep`, admin login throttling
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tracker" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# STATIC
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# SECURITY
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG and SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):  # the proxy sets X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Login throttling (tracker/security/throttle.py): this many failures per username and IP
# address lock that pair out for the window.
AUTHENTICATION_BACKENDS = [
    "tracker.security.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.DefaultPagination",
    "EXCEPTION_HANDLER": "tracker.api.errors.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meeting tracker API",
    "DESCRIPTION": "A sourced, event-sourced record of meetings between government officials.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # https://drf-spectacular.readthedocs.io/en/latest/settings.html — the sidecar ships the
    # Swagger UI and Redoc files, so /api/v1/docs/ works without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MeetingKindEnum": "meetings.models.Meeting.Kind",
        "ProposalKindEnum": "tracker.moderation.models.Proposal.Kind",
    },
}

# CACHES
# ------------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# CELERY
# ------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# The default broker is kombu's filesystem transport: it needs no server, yet a separate
# worker process still picks the messages up, so `make run` works on a bare machine.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker" / "out"),
        "data_folder_out": str(VAR_DIR / "broker" / "out"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    for _folder in ("out", "control", "results"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND",
    default=(
        f"file://{VAR_DIR / 'broker' / 'results'}"
        if CELERY_BROKER_URL.startswith("filesystem")
        else CELERY_BROKER_URL
    ),
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Seconds a new pool process has to report itself up after a killed one is replaced; Celery's
# 4 s default can be missed on a loaded host, and the late process is then killed and
# replaced again (celery/celery#1715, #4323).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.float("CELERY_WORKER_PROC_ALIVE_TIMEOUT", default=30.0)
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# A task whose worker dies mid-run goes back to the queue; only idempotent tasks ack late.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
if CELERY_BROKER_URL.startswith("redis"):
    # How long an unacknowledged message waits before redelivery after a worker was killed.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # How often a worker scans for such messages to restore (kombu: every 10 s × 10 cycles).
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    }
# Seconds after which `redeliver` sends again an enqueued task not finished yet (its message
# may be lost with a killed worker: kombu's Redis transport is at-most-once between its BRPOP
# and recording the message as unacknowledged). Well above a task's run time and the
# visibility timeout, so a healthy system rarely sends twice; the tasks are idempotent.
DISPATCH_RESEND_AFTER_SECONDS = env.float("DISPATCH_RESEND_AFTER_SECONDS", default=3 * 3600.0)
CELERY_BEAT_SCHEDULE: dict = {
    # every minute: https://crontab.guru/#*_*_*_*_*
    "poll-due-feeds": {"task": "meetings.poll_due_feeds", "schedule": 60.0},
    # tasks parked while the broker was down or lost with a worker (tracker.reliability.dispatch)
    "redeliver-parked-tasks": {"task": "reliability.redeliver", "schedule": 60.0},
}

# NEWS INGESTION
# ------------------------------------------------------------------------------
INGEST_MAX_BYTES = env.int("INGEST_MAX_BYTES", default=5 * 1024 * 1024)
INGEST_TIMEOUT_SECONDS = env.float("INGEST_TIMEOUT_SECONDS", default=30.0)
# CIDR ranges exempt from the address guard (e.g. 127.0.0.1/32 for a local test server);
# empty in production so private, loopback and link-local addresses are never fetched.
INGEST_ALLOWED_NETWORKS = env.list("INGEST_ALLOWED_NETWORKS", default=[])

# MODERATION
# ------------------------------------------------------------------------------
# One-person installs may let an author accept their own proposals (off by default).
MODERATION_ALLOW_SELF_ACCEPT = env.bool("MODERATION_ALLOW_SELF_ACCEPT", default=False)

# EVENT STORE
# ------------------------------------------------------------------------------
# Bounded wait for the append lock, so a stuck writer surfaces as an error, not a hang.
EVENTSTORE_LOCK_TIMEOUT = env("EVENTSTORE_LOCK_TIMEOUT", default="10s")

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
