"""Celery wiring: one app, settings from Django (CELERY_*), one beat schedule."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

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
