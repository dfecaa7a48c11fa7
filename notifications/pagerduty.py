"""Sending PagerDuty's outbox: pending Events v2 messages, each sent until it is taken.

A row is claimed under a row lock (``SKIP LOCKED`` where the database has it), sent, and
marked in the same transaction, so two workers never send one row; a message PagerDuty
refuses for good (400 "invalid event") is marked refused with its reason and recorded on
the release's timeline; 429 and 5xx are retried by the transport, then at the next tick.
"""

from __future__ import annotations

import logging
import time

from django.db import connection, transaction

from notifications.escalation_models import PagerDutyEvent
from notifications.transports.pagerduty import PagerDuty
from warroom import clock, events

logger = logging.getLogger(__name__)
BATCH = 200


def deliver_pending(transport: PagerDuty | None = None, *, budget_s: float = 30.0) -> int:
    """Send pending messages, oldest first, in batches until none is left or ``budget_s``
    has passed (what is left waits for the next tick); returns how many PagerDuty took."""
    own = transport is None
    sent = 0
    deadline = time.monotonic() + budget_s
    failed: set[int] = set()
    try:
        while time.monotonic() < deadline:
            pending = list(
                PagerDutyEvent.objects.filter(state=PagerDutyEvent.State.PENDING)
                .exclude(pk__in=failed)
                .order_by("created_at", "pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not pending:
                break
            transport = transport or PagerDuty()
            for pk in pending:
                if _deliver_one(transport, pk):
                    sent += 1
                else:
                    failed.add(pk)  # not again in this call: the next tick retries it
                if time.monotonic() >= deadline:
                    break
    finally:
        if own and transport is not None:
            transport.close()
    return sent


def _deliver_one(transport: PagerDuty, pk: int) -> bool:
    with transaction.atomic():
        rows = PagerDutyEvent.objects.filter(pk=pk, state=PagerDutyEvent.State.PENDING)
        skip = connection.features.has_select_for_update_skip_locked
        row = rows.select_for_update(skip_locked=skip).first()
        if row is None:
            return False  # sent by another worker meanwhile
        outcome = transport.send(
            routing_key=row.routing_key,
            action=row.action,
            dedup_key=row.dedup_key,
            summary=row.summary,
            severity=row.severity,
        )
        row.attempts += 1
        row.last_error = "" if outcome.ok else outcome.message
        if outcome.ok:
            row.state, row.sent_at = PagerDutyEvent.State.SENT, clock.now()
        elif not outcome.retry:
            row.state = PagerDutyEvent.State.REFUSED
            events.record(
                row.release,
                "pagerduty.refused",
                actor_label="PagerDuty",
                data={"dedup_key": row.dedup_key, "action": row.action, "reason": outcome.message},
            )
        else:
            logger.warning("PagerDuty %s %s: %s", row.action, row.dedup_key, outcome.message)
        row.save(update_fields=["attempts", "last_error", "state", "sent_at"])
        return outcome.ok
