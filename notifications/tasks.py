"""Workers deliver the outbox. Thin: the work is in :mod:`notifications.delivery`."""

from __future__ import annotations

import contextlib
from datetime import datetime

from celery import shared_task
from celery.signals import worker_process_init

from notifications import delivery, outbox, slack_inbound, transports


@worker_process_init.connect
def _load_transports(**_) -> None:
    """A worker process loads every channel's transport (slack-sdk, httpx and their
    clients) when it starts, not in its first batch: when many updates fall due at
    once, that batch's first deliveries are not held up by it."""
    for channel in ("slack", "email", "status_page", "webhook"):
        cls = transports.transport_class(channel)
        if cls is not None and not cls.disabled():
            with contextlib.suppress(Exception):  # its first delivery says what is wrong
                cls()


@shared_task(name="notifications.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> str:
    """One delivery (tasks queued before deliveries were batched)."""
    return delivery.attempt(delivery_id)


@shared_task(name="notifications.tasks.deliver_many", ignore_result=True)
def deliver_many(delivery_ids: list[int]) -> dict[int, str]:
    return delivery.attempt_many(delivery_ids)


@shared_task(name="notifications.tasks.write_due", ignore_result=True)
def write_due(moment: str) -> int:
    """What falls due at ``moment`` (ISO 8601), written then: a wake-up the tick asked
    for (see :func:`notifications.outbox.wake_for_due`)."""
    return outbox.write_due_at(datetime.fromisoformat(moment))


@shared_task(name="notifications.tasks.slack_request", ignore_result=True)
def slack_request(request_id: int) -> str:
    return slack_inbound.perform(request_id)
