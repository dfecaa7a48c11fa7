"""Making one delivery: claim it, send it through its channel's transport, record the
outcome.

A delivery is claimed with one conditional UPDATE (queued or retrying and due, or
sending with an expired lease — its worker died): one worker wins. It is marked sent
only after the far end accepted it, with what identifies it there. A retryable failure
waits an exponential backoff with full jitter, at least the server's ``Retry-After``;
after the last attempt the delivery is failed, recorded on the timeline and shown in the
war room, never dropped.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from notifications import render, transports
from notifications.models import Delivery, Message
from notifications.queue import hand_over
from warroom import clock, events
from warroom.audit import release_model

logger = logging.getLogger(__name__)
State = Delivery.State


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: full jitter over an exponential ceiling,
    never sooner than ``Retry-After``."""
    ceiling = min(
        settings.COMMS_RETRY_MAX_SECONDS, settings.COMMS_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    )
    wait = random.uniform(ceiling / 2, ceiling)  # jitter, not secrecy
    return max(wait, retry_after or 0.0)


def claim(pk: int, now: datetime) -> bool:
    """Take delivery ``pk`` for one attempt, stamped ``sending_since`` (committed before
    anything is sent); a stamp still there from the last attempt counts it interrupted
    (the SET reads the row as it was)."""
    lease = now + timedelta(seconds=settings.COMMS_LEASE_SECONDS)
    due = Q(state__in=[State.QUEUED, State.RETRYING], next_attempt_at__lte=now) | Q(
        state=State.SENDING, lease_until__lt=now
    )
    cut_off = Case(When(sending_since__isnull=False, then=Value(1)), default=Value(0))
    return bool(
        Delivery.objects.filter(due, pk=pk).update(
            state=State.SENDING,
            lease_until=lease,
            attempts=F("attempts") + 1,
            sending_since=now,
            interrupted=F("interrupted") + cut_off,
        )
    )


def compose(message: Message, release) -> render.Content:
    """The message's content; a status update is composed from live state by its first
    delivery and fixed, so every channel says the same."""
    if message.status_update and not message.composed:
        content = render.status_update(release)
        if Message.objects.filter(pk=message.pk, composed=False).update(
            subject=content.subject, body=content.text, composed=True
        ):
            message.subject, message.body, message.composed = content.subject, content.text, True
        else:  # another channel's delivery composed it first: say what that one said
            message.refresh_from_db(fields=["subject", "body", "composed"])
    return render.Content(message.subject, message.body, status_update=message.status_update)


def attempt(pk: int) -> str:
    """Try delivery ``pk`` once if it is due; return what happened."""
    now = clock.now()
    if not claim(pk, now):
        return "not due"
    delivery = Delivery.objects.select_related("message").get(pk=pk)
    cls = transports.transport_class(delivery.channel)
    if cls is None:
        return _fail(delivery, f"no transport delivers to “{delivery.channel}”")
    off = cls.disabled()
    if off:
        return _fail(delivery, off)
    transport = cls()
    release = release_model().objects.get(pk=delivery.message.release_id)
    try:
        content = compose(delivery.message, release)
        remote = transport.send(delivery, content)
    except transports.Retry as e:
        if not e.counts:
            return _wait(delivery, str(e), e.after or 1.0)
        return _retry(delivery, str(e), e.after)
    except transports.Refused as e:
        return _fail(delivery, str(e))
    except Exception as e:  # a bug or the unexpected: retried, and visible
        logger.exception("delivery %s failed unexpectedly", pk)
        return _retry(delivery, f"{type(e).__name__}: {e}", None)
    sent_at = clock.now()
    Delivery.objects.filter(pk=pk, state=State.SENDING).update(
        state=State.SENT, remote_id=remote[:300], sent_at=sent_at, lease_until=None,
        last_error="", sending_since=None,
    )  # fmt: skip
    _first_sent(delivery, release, sent_at)
    return "sent"


def _first_sent(delivery: Delivery, release, sent_at: datetime) -> None:
    """The message's first delivery that arrived records it (once: a conditional
    UPDATE), so the board and the war room show "last update sent" live."""
    message = delivery.message
    with transaction.atomic():
        if Message.objects.filter(pk=message.pk, sent_at=None).update(sent_at=sent_at):
            events.record(
                release,
                "comms.update_sent",
                actor_label="comms",
                data={
                    "message": message.pk,
                    "subject": message.subject[:200],
                    "channel": delivery.channel,
                    "at": sent_at.isoformat(),
                },
            )


def _retry(delivery: Delivery, error: str, after: float | None) -> str:
    if delivery.attempts >= settings.COMMS_MAX_ATTEMPTS:
        return _fail(delivery, error)
    wait = backoff(delivery.attempts, after)
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
        state=State.RETRYING,
        next_attempt_at=clock.now() + timedelta(seconds=wait),
        lease_until=None,
        sending_since=None,
        last_error=error[:2000],
    )
    hand_over([delivery.pk], countdown=wait)
    return "retrying"


def _wait(delivery: Delivery, reason: str, after: float) -> str:
    """Back in the queue without using up an attempt (nothing was sent)."""
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
        state=State.RETRYING,
        attempts=F("attempts") - 1,
        next_attempt_at=clock.now() + timedelta(seconds=after),
        lease_until=None,
        sending_since=None,
        last_error=reason,
    )
    hand_over([delivery.pk], countdown=after)
    return "waiting"


def _fail(delivery: Delivery, error: str) -> str:
    release = release_model().objects.get(pk=delivery.message.release_id)
    with transaction.atomic():
        changed = Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
            state=State.FAILED, lease_until=None, sending_since=None, last_error=error[:2000]
        )
        if changed:
            events.record(
                release,
                "comms.delivery_failed",
                actor_label="comms",
                data={
                    "delivery": delivery.pk,
                    "subject": delivery.message.subject,
                    "channel": delivery.channel,
                    "target": delivery.target,
                    "attempts": delivery.attempts,
                    "error": error[:300],
                },
            )
    return "failed"


def retry_by_hand(delivery: Delivery) -> None:
    """A failed delivery, tried again from the start (the release manager's button)."""
    Delivery.objects.filter(pk=delivery.pk, state=State.FAILED).update(
        state=State.QUEUED, attempts=0, next_attempt_at=clock.now(), last_error=""
    )
    transaction.on_commit(lambda: hand_over([delivery.pk]))
