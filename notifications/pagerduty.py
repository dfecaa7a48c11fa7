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

Beat's tick does not wait for its whole wave to be written before PagerDuty hears of
it: a :class:`Sending` gives the tick's writer the claim to put on the triggers it
writes (its token and lease, already "claimed" when they commit), and each chunk the
writer commits is handed to the transport's threads at once while the next chunk is
written. The same lease covers them: a tick that dies mid-send leaves rows whose lease
runs out, sent again by a later tick.

A message PagerDuty refuses for good (400 "invalid event") is marked refused with its
reason and recorded on the release's timeline; 429 and 5xx are retried by the transport,
then at the next tick.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from concurrent.futures import Future
from datetime import datetime, timedelta

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


def deliver_pending(
    transport: PagerDuty | None = None, *, budget_s: float = 30.0, exclude=()
) -> int:
    """Send pending messages, oldest first, in batches until none is left or ``budget_s``
    has passed (what is left waits for the next tick); returns how many PagerDuty took.
    ``exclude``: ids this tick tried already (they wait for the next one)."""
    own = transport is None
    sent = 0
    deadline = time.monotonic() + budget_s
    tried: set[int] = set(exclude)
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


class Sending:
    """PagerDuty's share of one tick: the triggers the tick writes go out chunk by chunk,
    as soon as each chunk has committed, while the tick writes the next one.

    The writer puts :meth:`claim_fields` on the rows it writes (this sender's token, a
    lease, one attempt): committed, they are already claimed, so no other sender takes
    them and no claiming UPDATE is needed. :meth:`start` hands committed rows to the
    transport's threads; :meth:`finish` waits for their answers and records them (as
    :func:`record` does after a claim), then sends whatever else is pending.
    """

    def __init__(self, transport: PagerDuty | None = None) -> None:
        self.token = uuid.uuid4().hex
        self._transport = transport
        self._own = transport is None
        self._started: list[tuple[list[PagerDutyEvent], list[Future[Outcome]]]] = []
        self.tried: set[int] = set()

    def claim_fields(self, now: datetime) -> dict:
        """The claim a row written now for this sender carries (see :func:`claim`)."""
        return {"claimed_by": self.token, "lease_until": now + LEASE, "attempts": 1}

    def start(self, rows: list[PagerDutyEvent]) -> None:
        """Start sending committed rows claimed by this sender; returns at once."""
        if not rows:
            return
        self._transport = self._transport or PagerDuty()
        futures = self._transport.start_many(
            [Event(r.routing_key, r.action, r.dedup_key, r.summary, r.severity) for r in rows]
        )
        self._started.append((rows, futures))
        self.tried.update(r.pk for r in rows)

    def finish(self, *, budget_s: float = 30.0) -> int:
        """Record the answers to what was started, then send the rest of the outbox
        (not what this tick tried already); returns how many PagerDuty took."""
        sent = 0
        try:
            rows = [r for batch, _ in self._started for r in batch]
            outcomes = [_outcome(f) for _, futures in self._started for f in futures]
            self._started = []
            if rows:
                sent += record(rows, outcomes)
            sent += deliver_pending(self._transport, budget_s=budget_s, exclude=self.tried)
        finally:
            self.close()
        return sent

    def close(self) -> None:
        if self._own and self._transport is not None:
            self._transport.close()
            self._transport = None


def _outcome(future: Future[Outcome]) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # tried again at the next tick, like no answer
        return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")
