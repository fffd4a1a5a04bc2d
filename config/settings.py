"""Doorstep settings. Every deployment-specific value comes from the environment;
see ``.env.example`` for the full list and the README's configuration table."""

import datetime as dt
import sys
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    database_config,
    env_bool,
    env_decimal_str,
    env_int,
    env_list,
    env_str,
    env_timezone,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DOORSTEP_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET = "django-insecure-doorstep-development-key-never-use-in-production"  # noqa: S105
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "") or _DEV_SECRET
else:
    SECRET_KEY = env_str("SECRET_KEY", "")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be set (at least 32 characters) when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "config",
    "collections_app",
    "credentials",
    "visits",
    "repayment",
    "evidence",
    "quality",
    "voice",
    "dashboard",
    "risk",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID), the request metrics and the one log line per request.
    "config.observability.RequestObservabilityMiddleware",
    # JSON errors under /api/ for whatever a view raises (config.urls sets the error handlers too).
    "config.api_errors.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A device's Bearer access token on /sync/ (the offline outbox), as the API accepts it.
    "credentials.authentication.BearerTokenMiddleware",
    # Before any view or process_view (CSRF reads the form) touches the body.
    "collections_app.security.RequestSizeLimitMiddleware",
    "collections_app.i18n.BranchTimezoneMiddleware",
    "collections_app.security.NoStoreMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "collections_app.middleware.RequestContextMiddleware",
    "collections_app.security.RefusedAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "collections_app.security.SessionLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a lockout flagged during authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
                "collections_app.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_config(env_str("DATABASE_URL", ""), sqlite_path=str(VAR_DIR / "doorstep.sqlite3"))}
# Persistent connections suit gunicorn's few long-lived workers (one connection each). runserver serves
# every request on a new thread, and each thread would keep its own connection open after the client
# left (exhausting max_connections under load): there, close after every request.
DATABASES["default"]["CONN_MAX_AGE"] = (
    0 if "runserver" in sys.argv else env_int("DB_CONN_MAX_AGE", DATABASES["default"].get("CONN_MAX_AGE", 0), minimum=0)
)

# A streaming replica for the read-only pages (config.db_router, README "Scaled-out topology"): used while its
# lag is at most DATABASE_REPLICA_MAX_LAG_SECONDS; tests read the primary through it (MIRROR).
if env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = database_config(env_str("DATABASE_REPLICA_URL", ""), sqlite_path="") | {
        "TEST": {"MIRROR": "default"}
    }
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["replica"].get("OPTIONS", {}), "connect_timeout": 2}
DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 5, minimum=0)
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
# Behind pgbouncer in transaction mode a server-side cursor (QuerySet.iterator()) would outlive its transaction.
if env_bool("DATABASE_TRANSACTION_POOLING", False):
    for _alias in DATABASES.values():
        _alias["DISABLE_SERVER_SIDE_CURSORS"] = True
# Covering columns (``Index(include=...)``) are a PostgreSQL optimisation for index-only scans; SQLite
# builds the same indexes on their key columns alone, which is all the no-server default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "collections_app.User"
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Amounts grouped by thousands with commas in Chinese too (¥1,234.50).
FORMAT_MODULE_PATH = ["collections_app.formats"]
TIME_ZONE = env_timezone("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded evidence (visit photos) lives outside the web root and is served only
# through views that check the user may see the case.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Several app servers share one media store: a shared disk under MEDIA_ROOT, or S3-compatible object storage
# (MinIO, Ceph, a cloud bucket) with MEDIA_STORAGE=s3 (README, "Deploying: media"). Files are private: served
# only through the views above, never by a public or presigned URL handed to the browser.
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "filesystem").lower()
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("MEDIA_S3_BUCKET"),
            "endpoint_url": env_str("MEDIA_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("MEDIA_S3_REGION", "") or None,
            "access_key": env_str("MEDIA_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("MEDIA_S3_SECRET_ACCESS_KEY", "") or None,
            "location": env_str("MEDIA_S3_PREFIX", ""),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be 'filesystem' or 's3', not {MEDIA_STORAGE!r}")
MEDIA_URL = "/media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery -----------------------------------------------------------------
# With no REDIS_URL the broker is kombu's filesystem transport under var/, so the
# app, its worker and its scheduler run on a machine with no server installed.
REDIS_URL = redis_url(env_str("REDIS_URL", ""))
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
# Every Redis client (broker, result backend, cache) gives up after a second: a hung Redis must not hold
# a web worker for redis-py's default 5 s per call (README, "Runbooks: Redis down").
REDIS_SOCKET_TIMEOUT = 1
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "visibility_timeout": 3600,
        "max_retries": 1,
    }
else:
    # The folders are made when the Celery app loads (config.celery), not when settings are read.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "in"),
        "data_folder_out": str(CELERY_BROKER_DIR / "in"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # Broadcast/control messages (inspect, ping) would otherwise land in ./control.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
# kombu's Connection.ensure() takes no "timeout"; the 1-second broker timeouts above bound each try.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_WORKER_CONCURRENCY = env_int("CELERY_CONCURRENCY", 2, minimum=1)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The dashboard's tallies (README, "Dashboard"): the current state (portfolio, open cases, active plans)
# retaken every few minutes and read while younger than its maximum age; the period facts (visits,
# contacts, payments, stage stays, closures, plan ends) rolled into day tallies every hour.
DASHBOARD_STATE_SECONDS = env_int("DASHBOARD_STATE_SECONDS", 300, minimum=10)
DASHBOARD_STATE_MAX_AGE_SECONDS = env_int("DASHBOARD_STATE_MAX_AGE_SECONDS", 1800, minimum=60)
# Running imports whose heartbeat is older than this are taken back (worker stopped mid-file; README,
# "Importing accounts"): queued again, or failed after the third attempt.
IMPORT_STALL_MINUTES = env_int("IMPORT_STALL_MINUTES", 15, minimum=1)
# Complaint deadlines (README, "The borrower's voice"): acknowledge within, resolve within (days).
COMPLAINT_ACK_DAYS = env_int("COMPLAINT_ACK_DAYS", 1, minimum=1)
COMPLAINT_RESOLVE_DAYS = env_int("COMPLAINT_RESOLVE_DAYS", 15, minimum=1)
# The borrower's self-service link: how long it lives, how many requests per link and address per hour,
# and the how-to-pay text it shows (README, "The borrower's voice").
BORROWER_LINK_DAYS = env_int("BORROWER_LINK_DAYS", 14, minimum=1)
BORROWER_LINK_RATE_PER_HOUR = env_int("BORROWER_LINK_RATE_PER_HOUR", 60, minimum=1)
BORROWER_HOW_TO_PAY = env_str(
    "BORROWER_HOW_TO_PAY",
    "Pay by bank transfer to the account on your loan statement, quoting your name, or in cash at any branch.",
)
# Task modules outside "<app>.tasks", which autodiscovery does not find.
CELERY_IMPORTS = ["collections_app.importer.tasks", "collections_app.importer.stalled", "collections_app.feed.tasks"]
# The daily feed's drop folder (README, "A daily feed from core banking"): IMPORT_DROP_DIR/<kind>/, e.g.
# accounts/; files younger than the settle time are left for the next pass (a sender still writing).
IMPORT_DROP_DIR = Path(env_str("IMPORT_DROP_DIR", str(VAR_DIR / "drop")))
IMPORT_DROP_SETTLE_SECONDS = env_int("IMPORT_DROP_SETTLE_SECONDS", 30, minimum=0)
# The beat schedule, in one place: each entry names a task; the tasks only call services.
CELERY_BEAT_SCHEDULE = {
    # Each account's aging bucket once a day, for the dashboard's roll and cure rates (idempotent per day).
    "dashboard-snapshot-buckets": {"task": "dashboard.tasks.snapshot_buckets", "schedule": crontab(hour=1, minute=30)},
    "dashboard-state-tally": {
        "task": "dashboard.tasks.refresh_state_tally",
        "schedule": float(DASHBOARD_STATE_SECONDS),
    },
    "dashboard-day-tally": {"task": "dashboard.tasks.roll_day_tally", "schedule": crontab(minute=5)},
    # Imports left queued while the broker was down are enqueued again.
    "imports-requeue-queued": {"task": "collections_app.importer.tasks.requeue_queued_imports", "schedule": 60.0},
    # Files core banking put in the drop folder: claimed once, imported, moved to done/ or failed/.
    "imports-drop-folder": {"task": "collections_app.feed.tasks.pick_up_drop_folder", "schedule": 60.0},
    "imports-take-back-stalled": {
        "task": "collections_app.importer.stalled.take_back_stalled_imports",
        "schedule": 60.0,
    },
    # Complaints past their acknowledgement or resolution deadline: the managers are told once.
    "voice-escalate-overdue-complaints": {"task": "voice.tasks.escalate_overdue_complaints", "schedule": 300.0},
    # The follow-up engine: promises, instalments, reminders and care revisits due as database rows.
    "repayment-sweep-followups": {
        "task": "repayment.tasks.sweep_followups",
        "schedule": float(env_int("REPAYMENT_SWEEP_SECONDS", 60, minimum=1)),
    },
    # Retention (PIPL): once a day, anonymise borrowers whose cases closed beyond the rule pack's period.
    "retention-anonymise": {"task": "collections_app.tasks.retention_anonymise", "schedule": 24 * 3600.0},
    # Uploaded files no row names, older than a day (collections_app.services.uploads).
    "uploads-remove-orphans": {
        "task": "collections_app.tasks.remove_orphan_uploads",
        "schedule": crontab(hour=3, minute=40),
    },
    # Every account's risk of 30+ DPD at its next period end, from the model in use (README, "Risk").
    "risk-score-accounts": {"task": "risk.tasks.score_accounts", "schedule": crontab(hour=2, minute=30)},
    "risk-requeue-statement-imports": {"task": "risk.tasks.requeue_queued_statement_imports", "schedule": 60.0},
    # The hash chains (README, "Evidence pack"): rows a bulk write left unsealed are chained within a minute.
    "chains-seal-pending": {"task": "collections_app.tasks.seal_chains", "schedule": 60.0},
    # Field safety (README, "Field safety"): collectors overdue on a visit are reported every minute.
    "safety-sweep": {"task": "quality.tasks.sweep_safety", "schedule": 60.0},
}
# Risk (README, "Risk and early warning"): the early-warning threshold, and the least a test period
# must hold (accounts and 30+ DPD outcomes) before a model is judged on it.
RISK_WARNING_THRESHOLD = env_int("RISK_WARNING_PERCENT", 20, minimum=1) / 100
RISK_WARNING_RISE = env_int("RISK_WARNING_RISE_POINTS", 10, minimum=1) / 100
RISK_MIN_TEST_POSITIVES = env_int("RISK_MIN_TEST_POSITIVES", 20, minimum=1)
# Threads scikit-learn may use to train and score (OpenMP threads spin: more than the free cores is slower).
RISK_THREADS = env_int("RISK_THREADS", 1, minimum=1)
# Champion/challenger: the seed of the strategy draw (a case's strategy is reproducible from it and its id).
RISK_STRATEGY_SEED = env_str("RISK_STRATEGY_SEED", "doorstep")

# --- Caches -----------------------------------------------------------------
# "dashboard" holds the roll/cure matrices of past snapshot days (immutable history), shared by every
# web process: Redis when configured, else files under var/ (never locmem, which is per process).
# "default" stays Django's per-process locmem so nothing else changes behaviour.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # config.cache.DegradingRedisCache: a Redis outage reads as a miss instead of an error or a wait.
    "dashboard": (
        {
            "BACKEND": "config.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
    | {"KEY_PREFIX": "doorstep", "TIMEOUT": 30 * 86400},
}

# Personal data at rest (collections_app.pii). Required when DEBUG is off.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
if not FIELD_ENCRYPTION_KEY and DEBUG:
    FIELD_ENCRYPTION_KEY = "development-only:" + SECRET_KEY
if len(FIELD_ENCRYPTION_KEY) < 32:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set (at least 32 characters) when DEBUG is off.")

# --- Domain settings ------------------------------------------------------------
DOORSTEP_CURRENCY = env_str("DOORSTEP_CURRENCY", "CNY")
DOORSTEP_RULE_PACK = env_str("DOORSTEP_RULE_PACK", "CN")
DOORSTEP_BRAND = env_str("DOORSTEP_BRAND", "Doorstep")
# Largest visit photo accepted, in bytes (visits.photos).
# A visit longer than this is refused until its check-out time is entered (a back-dated check-in left open).
DOORSTEP_VISIT_MAX_MINUTES = env_int("DOORSTEP_VISIT_MAX_MINUTES", 240, minimum=10)
DOORSTEP_VISIT_PHOTO_MAX_BYTES = env_int("DOORSTEP_VISIT_PHOTO_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)
# Largest request body, refused with 413 before anything reads it (collections_app.security): any page,
# e.g. a visit with ten photos; the import upload has its own, for core-banking files.
DOORSTEP_MAX_REQUEST_BYTES = env_int("DOORSTEP_MAX_REQUEST_BYTES", 100 * 1024 * 1024, minimum=1024 * 1024)
DOORSTEP_IMPORT_MAX_BYTES = env_int("DOORSTEP_IMPORT_MAX_BYTES", 1024 * 1024 * 1024, minimum=1024 * 1024)
# Screening priority weights (see README, "Priority score").
DOORSTEP_PRIORITY_WEIGHTS = {
    "dpd": env_decimal_str("PRIORITY_WEIGHT_DPD", "1.0"),
    "amount": env_decimal_str("PRIORITY_WEIGHT_AMOUNT", "1.0"),
    "broken_promises": env_decimal_str("PRIORITY_WEIGHT_BROKEN_PROMISES", "10"),
    "no_contact": env_decimal_str("PRIORITY_WEIGHT_NO_CONTACT", "5"),
}
# Repayment and follow-up (README, "Repayment and follow-up"; read through repayment.conf).
REPAYMENT_GRACE_DAYS = env_int("REPAYMENT_GRACE_DAYS", 3, minimum=0)
REPAYMENT_WAIVER_APPROVAL_PERCENT = env_decimal_str("REPAYMENT_WAIVER_APPROVAL_PERCENT", "10")
REPAYMENT_TERM_APPROVAL_MONTHS = env_int("REPAYMENT_TERM_APPROVAL_MONTHS", 12, minimum=0)
REPAYMENT_BROKEN_PROMISES_ALERT = env_int("REPAYMENT_BROKEN_PROMISES_ALERT", 2, minimum=1)
REPAYMENT_REMINDER_LEAD_DAYS = env_int("REPAYMENT_REMINDER_LEAD_DAYS", 2, minimum=0)
REPAYMENT_CARE_REVISIT_DAYS = env_int("REPAYMENT_CARE_REVISIT_DAYS", 30, minimum=1)

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: an unauthenticated API call gets 401 with "WWW-Authenticate: Bearer" (not 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "credentials.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Documents the JSON error responses of every operation (collections_app.api.schema).
    "DEFAULT_SCHEMA_CLASS": "collections_app.api.schema.DoorstepAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "collections_app.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# API token lifetimes (credentials): a short access token, a refresh token used once per refresh.
API_ACCESS_TOKEN_SECONDS = env_int("API_ACCESS_TOKEN_SECONDS", 15 * 60, minimum=60)
API_REFRESH_TOKEN_SECONDS = env_int("API_REFRESH_TOKEN_SECONDS", 7 * 24 * 3600, minimum=300)
SPECTACULAR_SETTINGS = {
    "TITLE": "Doorstep API",
    "DESCRIPTION": "Visit-based debt collection: accounts, cases, visits, promises, plans, payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set, however many serializers use it.
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "collections_app.models.cases.Stage",
        "CloseReasonEnum": "collections_app.models.cases.CloseReason",
        "ProductEnum": "collections_app.models.cases.Product",
        "FigureKindEnum": "repayment.models_finances.DeclaredFigure.Kind",
        "EvidenceKindEnum": "repayment.models_finances.FinanceEvidence.Kind",
        "PlanKindEnum": "repayment.models.RepaymentPlan.Kind",
    },
}

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# The language cookie is read by the server only (no script needs it) and, like the session and CSRF
# cookies, travels over HTTPS only when DEBUG is off.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
# Not on every request (an UPDATE and a commit per page): SessionLimitMiddleware renews the idle
# expiry at most once a minute, so a session ends 29 to 30 minutes after its last request.
SESSION_SAVE_EVERY_REQUEST = False
# Absolute limit from login, whatever the activity (collections_app.security.SessionLimitMiddleware).
DOORSTEP_SESSION_MAX_AGE = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
# Login lockout (django-axes): 10 failures of one username from one IP lock that pair for 30
# minutes; other users behind the same (mobile carrier) IP are unaffected. Axes keeps one counter
# per username+IP and drops it once its last failure is older than the cool-off, so failures
# count while each comes within 30 minutes of the previous one (a sliding window, never looser
# than a fixed 30-minute window). Attempts during a lockout do not extend it.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_USERNAME_CALLABLE = "collections_app.security.axes_username"
# The client IP is REMOTE_ADDR (as for the audit trail): a reverse proxy must pass the real client
# address there (e.g. nginx real_ip); X-Forwarded-For is never trusted, since clients can forge it.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline.
# Inline *styles* stay allowed: htmx injects its indicator <style> and progress bars set a width.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    # Probes from the load balancer and the metrics scraper speak plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^metrics$"]

# /metrics answers these client addresses only (REMOTE_ADDR: the scraper, or the balancer in front of it).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])

# Every handler masks national ID and mobile numbers (collections_app.logging.PIIScrubFilter) and adds the
# request id (config.observability); LOG_FORMAT=json writes one JSON object per line for a log shipper.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "pii": {"()": "collections_app.logging.PIIScrubFilter"},
        "request_id": {"()": "config.observability.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["pii", "request_id"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's default handlers (console, mail_admins) would bypass the filter: route through root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # Login failures and lockouts are warnings; axes' per-login housekeeping is not worth a line.
        "axes": {"level": "WARNING"},
    },
}
# The Celery worker keeps this configuration (and its filter) instead of installing its own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
