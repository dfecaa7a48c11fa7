"""Handing deliveries to the workers, by task name (the task module imports the work).

Deliveries go to their own queue (``COMMS_QUEUE``), in batches of
``COMMS_DELIVERY_BATCH``: a worker claims a batch in one statement and sends it over one
connection per channel.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)
DELIVER = "notifications.tasks.deliver"
DELIVER_MANY = "notifications.tasks.deliver_many"
SLACK_REQUEST = "notifications.tasks.slack_request"


def hand_over(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue deliveries for the workers. If the broker is away this fails fast and the
    tick's sweep hands them over later: nothing is lost."""
    size = max(1, settings.COMMS_DELIVERY_BATCH)
    ids = list(delivery_ids)
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    _queue(DELIVER_MANY, batches, countdown, comms_queue())


def comms_queue() -> str:
    """The deliveries' queue: ``COMMS_QUEUE``, else the task queue's name + ".comms"."""
    return settings.COMMS_QUEUE or f"{settings.CELERY_TASK_DEFAULT_QUEUE}.comms"


def hand_over_slack(request_ids: list[int]) -> None:
    """Queue verified Slack requests for the workers (the sweep again if this fails)."""
    _queue(SLACK_REQUEST, request_ids, None, settings.CELERY_TASK_DEFAULT_QUEUE)


def _queue(task: str, args: list, countdown: float | None, queue: str) -> None:
    if not args:
        return
    try:
        if current_app.conf.broker_url == settings.CELERY_BROKER_URL:
            with current_app.producer_pool.acquire(block=True) as producer:  # pooled
                _send(task, args, countdown, queue, producer=producer)
        else:  # the settings point elsewhere (a test's own broker)
            with current_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
                _send(task, args, countdown, queue, connection=conn)
    except Exception:
        logger.warning("could not queue %d %s; the tick's sweep will", len(args), task)


def _send(task: str, args: list, countdown: float | None, queue: str, **via) -> None:
    for arg in args:
        current_app.send_task(task, (arg,), countdown=countdown, queue=queue, retry=False, **via)
