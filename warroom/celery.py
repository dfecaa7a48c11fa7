"""Celery wiring: one app, settings from Django (CELERY_*), one beat schedule."""

import os

from celery import Celery
from celery.signals import (
    beat_init,
    task_postrun,
    worker_init,
    worker_process_init,
    worker_ready,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")

app = Celery("warroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _use_redis(**_):
    """Workers and beat need Redis (the broker): the embedded one when REDIS_URL is unset."""
    from warroom.embedded import use_if_embedded

    use_if_embedded()


@worker_ready.connect
def _heartbeat(sender=None, **_):
    """Leave a heartbeat in Redis while this worker runs (``/readyz`` looks for one)."""
    from warroom.health import start_worker_heartbeat

    start_worker_heartbeat(getattr(sender, "hostname", None))


@worker_process_init.connect
def _keep_sqlite_connection(**_) -> None:
    """A worker process runs one task at a time, in one thread: on SQLite it keeps its
    connection between tasks instead of reopening it (and re-running the PRAGMAs) for
    each one. PostgreSQL has its per-process pool instead."""
    from django.db import connections

    for conn in connections.all(initialized_only=False):
        if conn.vendor == "sqlite":
            conn.settings_dict["CONN_MAX_AGE"] = None


@task_postrun.connect
def _hand_back_connections(**_) -> None:
    """After each task, a connection goes back to PostgreSQL's pool (CONN_MAX_AGE 0)
    instead of the pool being closed and a new one opened for the next task — what
    Celery's Django fixup does after every task unless ``CELERY_DB_REUSE_MAX`` is set
    (it is): a new connection per task is a round trip too many for a comms batch. A
    connection left broken by the task is closed; SQLite's is kept (see above)."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()
