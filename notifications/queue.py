"""Handing deliveries to the workers, by task name (the task module imports the work)."""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)
DELIVER = "notifications.tasks.deliver"


def hand_over(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue deliveries for the workers. If the broker is away this fails fast and the
    tick's sweep hands them over later: nothing is lost."""
    try:
        if current_app.conf.broker_url == settings.CELERY_BROKER_URL:
            with current_app.producer_pool.acquire(block=True) as producer:  # pooled
                _send(delivery_ids, countdown, producer=producer)
        else:  # the settings point elsewhere (a test's own broker)
            with current_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
                _send(delivery_ids, countdown, connection=conn)
    except Exception:
        logger.warning("could not queue %d deliveries; the tick's sweep will", len(delivery_ids))


def _send(delivery_ids: list[int], countdown: float | None, **via) -> None:
    for pk in delivery_ids:
        current_app.send_task(
            DELIVER,
            (pk,),
            countdown=countdown,
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            retry=False,
            **via,
        )
