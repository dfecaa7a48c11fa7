"""Sending PagerDuty's outbox: pending Events v2 messages, each sent until it is taken.

No transaction is held while PagerDuty is asked. A batch of pending rows is claimed in
one conditional UPDATE (a claim token and a lease, committed at once: two senders never
claim one row), sent at once over one connection pool
(:meth:`~notifications.transports.pagerduty.PagerDuty.send_many`), and the answers are
recorded. A sender that dies after PagerDuty took an event and before it recorded that
leaves a lease that runs out: the row is sent again, and PagerDuty merges the repeat into
the open alert by its ``dedup_key`` (per issue and level) — at least once on our side,
one alert on PagerDuty's. A resolve is not sent while its trigger is still pending, so
it never arrives first.

A message PagerDuty refuses for good (400 "invalid event") is marked refused with its
reason and recorded on the release's timeline; 429 and 5xx are retried by the transport,
then at the next tick.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q

from notifications.escalation_models import PagerDutyEvent
from notifications.transports.pagerduty import Event, Outcome, PagerDuty
from warroom import clock, events

logger = logging.getLogger(__name__)
BATCH = 200
#: How long a claim holds a row: longer than a send with its retries (3 tries of 5 s + waits).
LEASE = timedelta(seconds=60)
State = PagerDutyEvent.State


def deliver_pending(transport: PagerDuty | None = None, *, budget_s: float = 30.0) -> int:
    """Send pending messages, oldest first, in batches until none is left or ``budget_s``
    has passed (what is left waits for the next tick); returns how many PagerDuty took."""
    own = transport is None
    sent = 0
    deadline = time.monotonic() + budget_s
    tried: set[int] = set()
    try:
        while time.monotonic() < deadline:
            rows = claim(BATCH, exclude=tried)
            if not rows:
                break
            transport = transport or PagerDuty()
            outcomes = transport.send_many(
                [Event(r.routing_key, r.action, r.dedup_key, r.summary, r.severity) for r in rows]
            )
            sent += record(rows, outcomes)
            tried.update(r.pk for r in rows)  # not again in this call: the next tick retries
    finally:
        if own and transport is not None:
            transport.close()
    return sent


def claim(limit: int, *, exclude=()) -> list[PagerDutyEvent]:
    """Claim up to ``limit`` pending rows (oldest first) for this sender: one UPDATE,
    committed before anything is sent. A resolve waits while its trigger is pending."""
    now = clock.now()
    token = uuid.uuid4().hex
    free = Q(state=State.PENDING) & (Q(lease_until=None) | Q(lease_until__lt=now))
    waiting = PagerDutyEvent.objects.filter(
        state=State.PENDING, action=PagerDutyEvent.Action.TRIGGER
    ).values("dedup_key")
    ids = list(
        PagerDutyEvent.objects.filter(free)
        .exclude(pk__in=list(exclude))
        .exclude(action=PagerDutyEvent.Action.RESOLVE, dedup_key__in=waiting)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    # One statement: a row another sender claimed meanwhile no longer matches ``free``.
    PagerDutyEvent.objects.filter(free, pk__in=ids).update(
        claimed_by=token, lease_until=now + LEASE, attempts=F("attempts") + 1
    )
    return list(
        PagerDutyEvent.objects.filter(claimed_by=token, state=State.PENDING)
        .select_related("release")
        .order_by("created_at", "pk")
    )


def record(rows: list[PagerDutyEvent], outcomes: list[Outcome]) -> int:
    """Write what PagerDuty answered for each claimed row (a few UPDATEs, not one a row);
    a refusal goes on its release's timeline. Returns how many were taken."""
    now = clock.now()
    taken = [r.pk for r, o in zip(rows, outcomes, strict=True) if o.ok]
    again: dict[str, list[int]] = defaultdict(list)
    refused: list[tuple[PagerDutyEvent, Outcome]] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.ok:
            continue
        if outcome.retry:
            logger.warning("PagerDuty %s %s: %s", row.action, row.dedup_key, outcome.message)
            again[outcome.message].append(row.pk)
        else:
            refused.append((row, outcome))
    mine = PagerDutyEvent.objects.filter(state=State.PENDING)
    with transaction.atomic():
        if taken:
            mine.filter(pk__in=taken).update(
                state=State.SENT, sent_at=now, last_error="", lease_until=None
            )
        for message, pks in again.items():  # due again at once: the next tick tries it
            mine.filter(pk__in=pks).update(last_error=message, lease_until=None)
        for row, outcome in refused:
            if mine.filter(pk=row.pk).update(
                state=State.REFUSED, last_error=outcome.message, lease_until=None
            ):
                events.record(
                    row.release,
                    "pagerduty.refused",
                    actor_label="PagerDuty",
                    data={
                        "dedup_key": row.dedup_key,
                        "action": row.action,
                        "reason": outcome.message,
                    },
                )
    return len(taken)
