"""Handing deliveries to the workers, by task name (the task module imports the work)."""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)
DELIVER = "notifications.tasks.deliver"
SLACK_REQUEST = "notifications.tasks.slack_request"


def hand_over(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue deliveries for the workers. If the broker is away this fails fast and the
    tick's sweep hands them over later: nothing is lost."""
    _queue(DELIVER, delivery_ids, countdown)


def hand_over_slack(request_ids: list[int]) -> None:
    """Queue verified Slack requests for the workers (the sweep again if this fails)."""
    _queue(SLACK_REQUEST, request_ids, None)


def _queue(task: str, ids: list[int], countdown: float | None) -> None:
    try:
        if current_app.conf.broker_url == settings.CELERY_BROKER_URL:
            with current_app.producer_pool.acquire(block=True) as producer:  # pooled
                _send(task, ids, countdown, producer=producer)
        else:  # the settings point elsewhere (a test's own broker)
            with current_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
                _send(task, ids, countdown, connection=conn)
    except Exception:
        logger.warning("could not queue %d %s; the tick's sweep will", len(ids), task)


def _send(task: str, ids: list[int], countdown: float | None, **via) -> None:
    for pk in ids:
        current_app.send_task(
            task,
            (pk,),
            countdown=countdown,
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            retry=False,
            **via,
        )
