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

import functools
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from notifications import render, transports
from notifications.models import Delivery, Message
from notifications.queue import hand_over
from warroom import clock, events, sqlbatch
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
    return bool(claim_many([pk], now))


def claim_many(ids: list[int], now: datetime) -> list[int]:
    """Claim those of ``ids`` that are due (queued or retrying and due, or sending with
    an expired lease) in one conditional UPDATE … RETURNING: each row goes to one
    worker (PostgreSQL re-checks the condition on a row another worker just took;
    SQLite runs one writer at a time). Each is stamped ``sending_since`` (committed
    before anything is sent); a stamp still there from the last attempt — its worker
    died before recording an answer — counts it ``interrupted`` (the SET reads the row
    as it was)."""
    if not ids:
        return []
    lease = now + timedelta(seconds=settings.COMMS_LEASE_SECONDS)
    ops = connection.ops
    q = ops.quote_name
    at, until = ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(lease)
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {q(Delivery._meta.db_table)} SET {q('state')} = %s, {q('lease_until')} = %s,"
        f" {q('attempts')} = {q('attempts')} + 1, {q('sending_since')} = %s,"
        f" {q('interrupted')} = {q('interrupted')}"
        f" + CASE WHEN {q('sending_since')} IS NULL THEN 0 ELSE 1 END"
        f" WHERE {q('id')} IN ({marks}) AND (({q('state')} IN (%s, %s)"
        f" AND {q('next_attempt_at')} <= %s) OR ({q('state')} = %s AND {q('lease_until')} < %s))"
        f" RETURNING {q('id')}"
    )
    params = [State.SENDING, until, at, *ids, State.QUEUED, State.RETRYING, at, State.SENDING, at]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


def compose(message: Message, release) -> render.Content:
    """The message's content; a status update is composed from live state by its first
    delivery and fixed, so every channel says the same."""
    if message.status_update and not message.composed:
        _fix([message], render.status_updates([release]))
    return render.Content(message.subject, message.body, status_update=message.status_update)


def compose_many(messages: list[Message], releases: dict) -> dict[int, render.Content]:
    """The content of each message that has it, by message id (see :func:`compose`): the
    status updates among them read from live state together — one read for all their
    releases — and fixed in one statement. If that fails, none of them is returned: the
    caller composes each alone, so one release's failure is its own."""
    pending = [m for m in messages if m.status_update and not m.composed]
    if pending:
        try:
            _fix(pending, render.status_updates([releases[m.release_id] for m in pending]))
        except Exception:
            logger.exception("status updates of %d releases composed one at a time", len(pending))
    return {
        m.pk: render.Content(m.subject, m.body, status_update=m.status_update)
        for m in messages
        if m.composed or not m.status_update
    }


def _fix(messages: list[Message], contents: dict[int, render.Content]) -> None:
    """Fix each message's composed content, once: one UPDATE of those nobody composed
    yet; those another worker's delivery composed first say what that one said."""
    by_pk = {m.pk: contents[m.release_id] for m in messages}
    fix = sqlbatch.update_each(
        Message,
        {
            "subject": {pk: c.subject for pk, c in by_pk.items()},
            "body": {pk: c.text for pk, c in by_pk.items()},
            "composed": dict.fromkeys(by_pk, True),
        },
        where=f"{sqlbatch.q('composed')} = %s",
        where_params=[False],
        returning=True,
    )
    won = {pk for (pk,) in sqlbatch.run([fix])[0].rows}
    lost = [pk for pk in by_pk if pk not in won]  # composed by another worker first
    stored = Message.objects.in_bulk(lost) if lost else {}
    for m in messages:
        c = stored.get(m.pk)
        m.subject, m.body = (c.subject, c.body) if c else (by_pk[m.pk].subject, by_pk[m.pk].text)
        m.composed = True


def attempt(pk: int) -> str:
    """Try delivery ``pk`` once if it is due; return what happened."""
    return attempt_many([pk])[pk]


def attempt_many(ids: list[int]) -> dict[int, str]:
    """Try each of ``ids`` once if it is due; return what happened to each.

    One statement claims the batch; each message is composed once (a status update
    read from live state once for all its channels); each channel's deliveries go
    through one transport object (one SMTP connection for the batch's emails, say) — or
    its ``lanes``, each with its own — the channels and lanes side by side in threads
    when run by a worker; what arrived is marked
    sent in one commit. A delivery's own failure is its own: retried or failed alone.
    """
    outcome = {pk: "not due" for pk in ids}
    now = clock.now()
    claimed = claim_many(list(ids), now)
    if len(claimed) < len(ids):
        _back_until_due(set(ids).difference(claimed), now)
    if not claimed:
        return outcome
    groups = _prepare(claimed, outcome)
    batches = [
        _Batch(cls(), lane)
        for cls, items in groups.items()
        for lane in (items[n :: cls.lanes] for n in range(min(cls.lanes, len(items))))
    ]
    for b in batches:  # the database's part here, on this thread and its connection
        b.prepare()
    parallel = len(batches) > 1 and not connection.in_atomic_block
    if parallel:  # the channels' sends side by side
        with ThreadPoolExecutor(max_workers=len(batches)) as pool:
            results = [r for rs in pool.map(_send_threaded, batches) for r in rs]
    else:
        results = [r for b in batches for r in b.send()]
    unsettled = {d.pk for b in batches for d in b.settle()}
    results = [
        NotSent(r.delivery, transports.Retry("what it found out was not recorded"))
        if r.delivery.pk in unsettled and isinstance(r, Sent)
        else r
        for r in results
    ]
    _mark_sent([r for r in results if isinstance(r, Sent)])
    for r in results:
        outcome[r.delivery.pk] = "sent" if isinstance(r, Sent) else _failed_send(r)
    return outcome


def _back_until_due(ids: set[int], now: datetime) -> None:
    """Those of ``ids`` queued for a later time (written ahead of their message's time,
    and handed to a worker whose clock, or Celery's timer, ran ahead of it) back in the
    queue until then; the others are sent, retrying with a task of their own, or
    another worker's: nothing to do."""
    later = Delivery.objects.filter(pk__in=ids, state=State.QUEUED, next_attempt_at__gt=now)
    by_time: dict[datetime, list[int]] = {}
    for pk, at in later.values_list("pk", "next_attempt_at"):
        by_time.setdefault(at, []).append(pk)
    for at, pks in by_time.items():
        hand_over(sorted(pks), countdown=(at - now).total_seconds())


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    remote: str
    at: datetime


@dataclass(frozen=True)
class NotSent:
    delivery: Delivery
    error: Exception


Groups = dict[type[transports.Transport], list[tuple[Delivery, render.Content]]]


def _prepare(claimed: list[int], outcome: dict[int, str]) -> Groups:
    """The claimed deliveries by transport, each with its message's content (composed
    once per message, the batch's status updates read from live state together); those
    with no transport, or a turned-off one, failed now."""
    deliveries, releases = _claimed_rows(claimed)
    ready: list[tuple[Delivery, type[transports.Transport]]] = []
    for d in deliveries:
        cls = transports.transport_class(d.channel)
        off = f"no transport delivers to “{d.channel}”" if cls is None else cls.disabled()
        if cls is None or off:
            outcome[d.pk] = _fail(d, off)
            continue
        d.release = releases[d.message.release_id]  # type: ignore[attr-defined]
        ready.append((d, cls))
    contents = compose_many(list({d.message_id: d.message for d, _ in ready}.values()), releases)
    groups: Groups = {}
    for d, cls in ready:
        try:
            if d.message_id not in contents:
                contents[d.message_id] = compose(d.message, releases[d.message.release_id])
        except Exception as e:
            logger.exception("delivery %s could not be composed", d.pk)
            outcome[d.pk] = _retry(d, f"{type(e).__name__}: {e}", None)
            continue
        groups.setdefault(cls, []).append((d, contents[d.message_id]))
    return groups


def _claimed_rows(claimed: list[int]) -> tuple[list[Delivery], dict]:
    """The claimed deliveries in id order, each with its message (one Message object per
    message: composed once), and their releases by id: two statements written out (the
    ORM took longer to build them than the database to run them), one round trip on
    PostgreSQL."""
    marks = ", ".join(["%s"] * len(claimed))
    deliveries_sql, releases_sql = _claimed_sql(connection.vendor)
    rows, release_rows = sqlbatch.run(
        [
            sqlbatch.Statement(deliveries_sql.replace("{ids}", marks), claimed),
            sqlbatch.Statement(releases_sql.replace("{ids}", marks), claimed),
        ]
    )
    width = len(Delivery._meta.concrete_fields)
    messages: dict[int, Message] = {}
    deliveries = []
    for row in rows.rows:
        d = sqlbatch.instance(Delivery, row[:width])
        m = messages.get(d.message_id) or sqlbatch.instance(Message, row[width:])
        d.message = messages.setdefault(d.message_id, m)
        deliveries.append(d)
    model = release_model()
    releases = {r.pk: r for r in (sqlbatch.instance(model, row) for row in release_rows.rows)}
    return deliveries, releases


@functools.cache
def _claimed_sql(vendor: str) -> tuple[str, str]:
    q = sqlbatch.q
    delivery, message = q(Delivery._meta.db_table), q(Message._meta.db_table)
    release = release_model()
    return (
        f"SELECT {sqlbatch.columns(Delivery, 'd')}, {sqlbatch.columns(Message, 'm')}"
        f" FROM {delivery} d INNER JOIN {message} m ON d.{q('message_id')} = m.{q('id')}"
        f" WHERE d.{q('id')} IN ({{ids}}) ORDER BY d.{q('id')}",
        f"SELECT {sqlbatch.columns(release)} FROM {q(release._meta.db_table)}"
        f" WHERE {q('id')} IN (SELECT m.{q('release_id')} FROM {message} m"
        f" INNER JOIN {delivery} d ON d.{q('message_id')} = m.{q('id')}"
        f" WHERE d.{q('id')} IN ({{ids}}))",
    )


@dataclass
class _Batch:
    """One channel's deliveries in a batch, through one transport object."""

    transport: transports.Transport
    items: list[tuple[Delivery, render.Content]]

    def prepare(self) -> None:
        try:
            self.transport.prepare([d for d, _ in self.items])
        except Exception:  # each send reads what it needs alone
            logger.exception("%s could not prepare a batch", type(self.transport).__name__)

    def send(self) -> list[Sent | NotSent]:
        out: list[Sent | NotSent] = []
        with self.transport.batch():
            for d, content in self.items:
                try:
                    out.append(Sent(d, self.transport.send(d, content), clock.now()))
                except Exception as e:  # judged by the caller, one delivery at a time
                    out.append(NotSent(d, e))
        return out

    def settle(self) -> list[Delivery]:
        """What the transport writes after the sends; if that fails, the deliveries
        whose sends went through are tried again (each checks the far end first)."""
        try:
            self.transport.settle()
        except Exception:
            logger.exception("%s could not settle a batch", type(self.transport).__name__)
            return [d for d, _ in self.items]
        return []


def _send_threaded(batch: _Batch) -> list[Sent | NotSent]:
    try:
        return batch.send()
    finally:
        connection.close()  # this thread's own database connection, if a send opened one


def _failed_send(r: NotSent) -> str:
    d, e = r.delivery, r.error
    if isinstance(e, transports.Retry):
        if not e.counts:
            return _wait(d, str(e), e.after or 1.0)
        return _retry(d, str(e), e.after)
    if isinstance(e, transports.Refused):
        return _fail(d, str(e))
    # a bug or the unexpected: retried, and visible
    logger.error("delivery %s failed unexpectedly", d.pk, exc_info=e)
    return _retry(d, f"{type(e).__name__}: {e}", None)


def _mark_sent(sent: list[Sent]) -> None:
    """Every delivery that arrived, sent, and each message's first arrival recorded once —
    its ``sent_at`` set by whichever batch gets there first (a compare-and-set on the
    rows, locked in id order) and an event on its release's timeline, so the board and
    the war room show "last update sent" live. One commit; its statements are written
    out, and on PostgreSQL all but the events' go in one round trip: the deliveries
    marked, the messages locked and stamped, their releases locked (in id order, so two
    batches never deadlock) and read for the events' chains."""
    if not sent:
        return
    first: dict[int, Sent] = {}
    for r in sent:
        first.setdefault(r.delivery.message_id, r)
    statements = [_sent_rows(sent), *_stamp_messages({pk: r.at for pk, r in first.items()})]
    releases = {r.delivery.message.release_id for r in first.values()}
    with transaction.atomic():
        results = sqlbatch.run([*statements, events.lock_releases(releases)])
        won = sorted(pk for (pk,) in results[-2].rows)
        if not won:
            return
        locked = events.releases_locked(results[-1])
        events.record_locked_across(
            [
                (
                    locked[first[pk].delivery.message.release_id],
                    "comms.update_sent",
                    {
                        "message": pk,
                        "subject": first[pk].delivery.message.subject[:200],
                        "channel": first[pk].delivery.channel,
                        "at": first[pk].at.isoformat(),
                    },
                )
                for pk in sorted(won, key=lambda pk: (first[pk].delivery.message.release_id, pk))
            ],
            actor_label="comms",
        )


def _stamp_messages(at: dict[int, datetime]) -> list[sqlbatch.Statement]:
    """Each message not stamped yet, stamped with its first arrival: an UPDATE … RETURNING
    the rows it stamped; on PostgreSQL the rows are locked first, in id order (two
    batches of overlapping messages never deadlock)."""
    q = sqlbatch.q
    pks = sorted(at)
    stamp = sqlbatch.update_each(
        Message, {"sent_at": {pk: at[pk] for pk in pks}}, where=f"{q('sent_at')} IS NULL",
        returning=True,
    )  # fmt: skip
    if not connection.features.has_select_for_update:
        return [stamp]
    lock = sqlbatch.Statement(
        f"SELECT {q('id')} FROM {q(Message._meta.db_table)} WHERE {q('id')} IN"
        f" ({', '.join(['%s'] * len(pks))}) AND {q('sent_at')} IS NULL"
        f" ORDER BY {q('id')}{sqlbatch.for_update()}",
        pks,
    )
    return [lock, stamp]


def _sent_rows(sent: list[Sent]) -> sqlbatch.Statement:
    """The deliveries still sending, sent, each with its far end's id and time: one
    UPDATE written by hand (the ORM's CASE of 24 WHENs took longer to build than the
    statement takes to run)."""
    ops = connection.ops
    q = ops.quote_name
    by_id = "".join(" WHEN %s THEN %s" for _ in sent)
    sql = (
        f"UPDATE {q(Delivery._meta.db_table)} SET {q('state')} = %s,"
        f" {q('remote_id')} = CASE {q('id')}{by_id} END,"
        f" {q('sent_at')} = CASE {q('id')}{by_id} END,"
        f" {q('lease_until')} = NULL, {q('sending_since')} = NULL, {q('last_error')} = ''"
        f" WHERE {q('id')} IN ({', '.join(['%s'] * len(sent))}) AND {q('state')} = %s"
    )
    params: list = [State.SENT]
    params += [v for r in sent for v in (r.delivery.pk, str(r.remote)[:300])]
    params += [v for r in sent for v in (r.delivery.pk, ops.adapt_datetimefield_value(r.at))]
    params += [r.delivery.pk for r in sent] + [State.SENDING]
    return sqlbatch.Statement(sql, params)


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
