"""Workers deliver the outbox. Thin: the work is in :mod:`notifications.delivery`."""

from __future__ import annotations

from celery import shared_task

from notifications import delivery, slack_inbound


@shared_task(name="notifications.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> str:
    """One delivery (tasks queued before deliveries were batched)."""
    return delivery.attempt(delivery_id)


@shared_task(name="notifications.tasks.deliver_many", ignore_result=True)
def deliver_many(delivery_ids: list[int]) -> dict[int, str]:
    return delivery.attempt_many(delivery_ids)


@shared_task(name="notifications.tasks.slack_request", ignore_result=True)
def slack_request(request_id: int) -> str:
    return slack_inbound.perform(request_id)
