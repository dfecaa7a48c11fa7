"""Celery wiring: one app, settings from Django (CELERY_*), one beat schedule."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")

app = Celery("warroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _heartbeat(sender=None, **_):
    """Leave a heartbeat in Redis while this worker runs (``/readyz`` looks for one)."""
    from warroom.health import start_worker_heartbeat

    start_worker_heartbeat(getattr(sender, "hostname", None))
