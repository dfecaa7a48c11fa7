"""Handing deliveries to the workers, by task name (the task module imports the work).

Deliveries go to their own queue (``COMMS_QUEUE``), in batches of
``COMMS_DELIVERY_BATCH``: a worker claims a batch in one statement and sends it over one
connection per channel.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)
DELIVER = "notifications.tasks.deliver"
DELIVER_MANY = "notifications.tasks.deliver_many"
SLACK_REQUEST = "notifications.tasks.slack_request"
WRITE_DUE = "notifications.tasks.write_due"


def hand_over(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue deliveries for the workers. If the broker is away this fails fast and the
    tick's sweep hands them over later: nothing is lost."""
    size = max(1, settings.COMMS_DELIVERY_BATCH)
    ids = list(delivery_ids)
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    _queue(DELIVER_MANY, batches, comms_queue(), countdown=countdown)


def comms_queue() -> str:
    """The deliveries' queue: ``COMMS_QUEUE``, else the task queue's name + ".comms"."""
    return settings.COMMS_QUEUE or f"{settings.CELERY_TASK_DEFAULT_QUEUE}.comms"


def hand_over_slack(request_ids: list[int]) -> None:
    """Queue verified Slack requests for the workers (the sweep again if this fails)."""
    _queue(SLACK_REQUEST, request_ids, settings.CELERY_TASK_DEFAULT_QUEUE)


def wake_at(moments: list[datetime], now: datetime, *, ahead: float = 0.0) -> None:
    """Ask a worker to write what falls due at each of ``moments`` (soon after ``now``)
    ``ahead`` seconds before it falls due, not at the first tick after (see
    :func:`notifications.outbox.wake_for_due`). A wake-up that does not run by the next
    tick is dropped: that tick writes what it would have. Lost if the broker is away —
    the tick writes it then."""
    for moment in moments:
        wait = max(0.0, (moment - now).total_seconds() - ahead)
        _queue(
            WRITE_DUE,
            [moment.isoformat()],
            settings.CELERY_TASK_DEFAULT_QUEUE,
            countdown=wait,
            expires=wait + max(1.0, settings.TICK_SECONDS),
        )


def _queue(task: str, args: list, queue: str, **options) -> None:
    """One task of ``task`` per argument; ``options``: Celery's (``countdown``, …)."""
    if not args:
        return
    try:
        broker = current_app.connection_for_write(settings.CELERY_BROKER_URL)
        if broker.as_uri(include_password=True) == _pooled_broker():
            with current_app.producer_pool.acquire(block=True) as producer:  # pooled
                _send(task, args, queue, producer=producer, **options)
        else:  # the settings point elsewhere (a test's own broker)
            with broker as conn:
                _send(task, args, queue, connection=conn, **options)
    except Exception:
        logger.warning("could not queue %d %s; the tick's sweep will", len(args), task)


def _pooled_broker() -> str:
    """The broker the app's producer pool sends to: the one configured when the pool was
    made (the app's ``broker_url`` reads the settings as they are now, so comparing with
    it told nothing once a test pointed this process at a broker of its own)."""
    return current_app.producer_pool.connections.connection.as_uri(include_password=True)


def _send(task: str, args: list, queue: str, **options) -> None:
    for arg in args:
        current_app.send_task(task, (arg,), queue=queue, retry=False, **options)
