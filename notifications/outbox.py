"""The outbox: Message rows written in the transaction of their cause, fanned into
Deliveries, each with a unique idempotency key so a message is created once.

Two writers: the in-transaction event subscriber (a rule triggered by an event) and
beat's tick (a rule whose time has come). The tick claims a due rule with a
compare-and-set on its ``next_due_at`` — one caller wins, on SQLite and PostgreSQL
alike — and writes the message in the same transaction; after downtime it sends the
latest occurrence once, not every missed one. Deliveries are handed to the workers
after commit; the tick's sweep hands on those whose hand-over was lost (a Redis
restart, a worker killed mid-send).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from notifications import audiences, plan
from notifications.models import CommsRule, Delivery, Message
from notifications.queue import hand_over, wake_at
from notifications.render import render_template
from notifications.transports import transport_class
from notifications.transports.base import SLACK_DM
from notifications.transports.email import PAGE
from warroom import clock, events, sqlbatch
from warroom.audit import AuditEvent, release_model

logger = logging.getLogger(__name__)

DEFAULT_CHANNELS = ["slack", "email"]
#: Channels the war room itself shows (the timeline): nothing to deliver.
SHOWN_IN_APP = {"in_app", "war_room"}


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def write(
    release,
    *,
    rule: CommsRule | None,
    key: str,
    cause: str,
    due_at: datetime,
    sent_by: str = "",
    text: str = "",
    title: str = "",
    audience: str = "",
    channels: list[str] | None = None,
    handed: list[int] | None = None,
) -> Message | None:
    """Write the message ``key`` and its deliveries, once: None if it exists already.

    Without a rule, ``title``, ``audience`` and ``channels`` say what and to whom.
    Runs in (or opens) the caller's transaction; a concurrent writer of the same key
    loses on the unique constraint inside a savepoint and leaves the rest untouched.
    The deliveries are handed to the workers after commit — or, given ``handed``, their
    ids are added to it for the caller to hand over in one go (the tick).
    """
    if Message.objects.filter(key=key).exists():
        return None
    now = clock.now()
    message = new_message(
        release, rule, now, key=key, cause=cause, due_at=due_at, sent_by=sent_by, text=text,
        title=title, audience=audience,
    )  # fmt: skip
    if rule is not None and rule.next_text:
        CommsRule.objects.filter(pk=rule.pk).update(next_text="")
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            channels = rule.channels if rule else channels
            deliveries = fan_out(release, message, channels, max(now, due_at))
    except IntegrityError:
        return None  # the same key written by a concurrent writer: it exists once
    _queued(deliveries, handed)
    return message


def new_message(release, rule: CommsRule | None, now: datetime, **given: Any) -> Message:
    """A message as it is to be written (not saved): ``given`` holds its ``key``,
    ``cause``, ``due_at`` (and ``sent_by``), and without a rule its ``title`` and
    ``audience``. A status update is composed when it is sent; anything else is filled
    in now — the release manager's edit of the rule's next message (``next_text``) or
    the ``text`` given."""
    text, title = given.pop("text", ""), given.pop("title", "")
    audience = given.pop("audience", "")
    status_update = bool(rule and is_status_update(rule))
    subject, body = ("", "") if status_update or rule is None else render_template(release, rule)
    if rule is not None and rule.next_text:
        body, status_update = rule.next_text, False
    if text:
        body, status_update = text, False
    return Message(
        release_id=release.pk,
        rule=rule,
        audience=rule.audience if rule else audience,
        subject=subject or title or (rule.name if rule else "Update"),
        body=body,
        status_update=status_update,
        composed=not status_update,
        created_at=now,
        **given,
    )


def _queued(deliveries: list[Delivery], handed: list[int] | None) -> None:
    """Queued deliveries to the workers after commit, or their ids into ``handed``."""
    ids = [d.pk for d in deliveries if d.state == Delivery.State.QUEUED]
    if handed is not None:
        handed.extend(ids)
    elif ids:
        transaction.on_commit(lambda: hand_over(ids))


def fan_out(release, message: Message, channels, now: datetime) -> list[Delivery]:
    """One delivery per channel and target, written (see :func:`delivery_rows`)."""
    return Delivery.objects.bulk_create(delivery_rows(release, message, channels, now))


def delivery_rows(
    release, message: Message, channels, now: datetime, known: dict | None = None
) -> list[Delivery]:
    """One delivery per channel and target (not saved), due at ``now`` (the message's
    time, when it is written ahead of it); a channel nobody can deliver to is written as
    failed, naming why, so the delivery log shows it. ``known``: the email addresses
    :func:`audiences.emails_many` found for many messages at once."""
    rows = []
    for channel in channels or DEFAULT_CHANNELS:
        if channel in SHOWN_IN_APP:
            continue
        cls = transport_class(channel)
        off = cls.disabled() if cls else ""  # a turned-off channel says so, quietly
        for found in audiences.targets(release, channel, message.audience, known):
            target = audiences.Target(found.address, found.problem or off)
            rows.append(
                Delivery(
                    message=message,
                    channel=channel,
                    target=target.address,
                    key=f"{message.key}|{channel}|{target.address}"[:400],
                    next_attempt_at=now,
                    state=Delivery.State.FAILED if target.problem else Delivery.State.QUEUED,
                    last_error=target.problem,
                )
            )
    return rows


def is_status_update(rule: CommsRule) -> bool:
    return rule.status_update or rule.interval is not None


# --- event triggers ------------------------------------------------------------------
#: Per process: release id → (its ``comms_stamp``, the event kinds its enabled rules react
#: to). Trusted only against a stamp read under the release's lock (see :func:`on_events`).
_reacting: dict[int, tuple[str, frozenset[str]]] = {}
REACTING_CACHE = 4096


def rules_changed(release_id: int) -> None:
    """In the transaction that changes a release's comms rules (added, removed, enabled,
    triggers): a new stamp on the release, so every process reads its rules again."""
    Release = release_model()
    Release.objects.filter(pk=release_id).update(
        comms_stamp=Release._meta.get_field("comms_stamp").get_default()
    )


def _rule_saved_or_deleted(sender, instance: CommsRule, **kwargs) -> None:
    rules_changed(instance.release_id)


post_save.connect(_rule_saved_or_deleted, sender=CommsRule, dispatch_uid="outbox.rule_saved")
post_delete.connect(_rule_saved_or_deleted, sender=CommsRule, dispatch_uid="outbox.rule_deleted")


Rules = list[tuple[CommsRule, tuple[str, ...]]]


def _enabled_rules(release_id: int) -> Rules:
    return _enabled_rules_of([release_id])[release_id]


def _enabled_rules_of(release_ids: list[int]) -> dict[int, Rules]:
    """Each release's enabled rules with the event kinds they react to: one query."""
    found: dict[int, Rules] = {pk: [] for pk in release_ids}
    rules = CommsRule.objects.filter(release_id__in=release_ids, enabled=True)
    for r in rules.select_related("template"):
        found[r.release_id].append((r, plan.triggers(r)))
    return found


def _comms_stamps(release_ids: list[int]) -> dict[int, str]:
    """Each release's ``comms_stamp``, in one small statement written out once (read in
    the writer's transaction, after its events locked the release row: current)."""
    meta = release_model()._meta
    marks = ", ".join(["%s"] * len(release_ids))
    sql = (
        f"SELECT {sqlbatch.q(meta.pk.column)}, {sqlbatch.q('comms_stamp')} "
        f"FROM {sqlbatch.q(meta.db_table)} WHERE {sqlbatch.q(meta.pk.column)} IN ({marks})"
    )
    return dict(sqlbatch.run([sqlbatch.Statement(sql, release_ids)])[0].rows)


def _rules_for(
    release_id: int, stamp: str | None, its_events: list[AuditEvent], read: dict[int, Rules]
) -> Rules:
    """The release's enabled rules for its events; none, without a query, when the
    kinds cached for its ``comms_stamp`` miss them all. ``read``: rules read already,
    by release id."""
    known = _reacting.get(release_id)
    rules = read.get(release_id)
    if stamp is None or known is None or known[0] != stamp:
        rules = rules if rules is not None else _enabled_rules(release_id)
        if stamp is None:
            return rules
        known = (stamp, frozenset(k for _, kinds in rules for k in kinds))
        if len(_reacting) >= REACTING_CACHE:
            _reacting.clear()
        _reacting[release_id] = known
    if not any(event.kind in known[1] for event in its_events):
        return []
    return rules if rules is not None else _enabled_rules(release_id)


@events.subscribe_batch(events.ALL)
def on_events(batch: list[AuditEvent]) -> None:
    """In the writer's transaction: each enabled rule triggered by an event's kind writes
    its message (keyed by the event, so a replay writes nothing). The release's rules
    are read once per batch (a tick that records many events at once) — and not at all
    when this process knows, for the release's ``comms_stamp``, that no rule reacts to
    the events' kinds (most ticks, notes and steps: no rule reacts to them). The stamp
    comes with the release row when the events carry it (read under the lock, the
    engine's steps), else from one small statement for all the batch's releases; the
    rules to be read are read in one query for all of them (a comms worker's "update
    sent" events, one per release of its batch)."""
    by_release: dict[int, list[AuditEvent]] = {}
    for event in batch:
        if event.kind in ("release.created", "release.edited"):
            schedule(event.release_id)
        by_release.setdefault(event.release_id, []).append(event)
    locked = {
        release_id: its_events[0].release
        for release_id, its_events in by_release.items()
        if AuditEvent.release.is_cached(its_events[0])
    }
    stamps: dict[int, str] = {pk: release.comms_stamp for pk, release in locked.items()}
    unlocked = [release_id for release_id in by_release if release_id not in stamps]
    if unlocked:
        stamps.update(_comms_stamps(unlocked))
    unknown = [
        release_id
        for release_id in by_release
        if (_reacting.get(release_id) or ("",))[0] != stamps.get(release_id)
    ]
    read = _enabled_rules_of(unknown) if unknown else {}
    for release_id, its_events in by_release.items():
        rules = _rules_for(release_id, stamps.get(release_id), its_events, read)
        if not any(kinds for _, kinds in rules):
            continue
        release = locked.get(release_id)
        for event in its_events:
            for rule, kinds in rules:
                if event.kind not in kinds:
                    continue
                release = release or release_model().objects.get(pk=release_id)
                write(
                    release,
                    rule=rule,
                    key=f"rule:{rule.pk}:event:{event.release_id}:{event.seq}",
                    cause=event.kind,
                    due_at=event.at,
                )


def on_event(event: AuditEvent) -> None:
    """One event's messages (see :func:`on_events`)."""
    on_events([event])


def schedule(release_id: int) -> None:
    """Set each timed rule's next due time from the release's times (on creation, and
    again when T0 moves). Times already past when the release was made are not sent."""
    release = release_model().objects.get(pk=release_id)
    since = max(clock.now(), release.created_at) - timedelta(microseconds=1)
    for rule in CommsRule.objects.filter(release_id=release_id):
        if plan.is_timed(rule):
            due = plan.next_after(rule, release, since)
            if due != rule.next_due_at:
                CommsRule.objects.filter(pk=rule.pk).update(next_due_at=due)


# --- time triggers ------------------------------------------------------------------------
#: Rules claimed and written per transaction by the tick (one commit for many releases).
CLAIM_CHUNK = 20


def write_due(now: datetime, *, written_at: datetime | None = None) -> int:
    """The tick's job: every timed rule whose time has come by ``now`` writes its message
    once.

    Rules are claimed in chunks, across releases, one transaction per chunk, and each
    chunk's deliveries are handed to the workers as soon as it commits. On PostgreSQL
    the chunk's rows are locked with SKIP LOCKED, so a second tick running at once takes
    other rules instead of waiting. A chunk is written in bulk (see :func:`_write_many`);
    if that fails, it is written again one rule at a time, each rule in a savepoint, so
    one bad rule never holds the others back.

    ``written_at``: the time it is really (a wake-up writing a moment's rules ahead of
    it, see :func:`write_due_at`); each delivery is then due at its message's time, and
    a worker handed it early puts it back in the queue until then.
    """
    written = 0
    due = CommsRule.objects.filter(enabled=True, next_due_at__lte=now)
    ids = list(
        due.order_by("next_due_at").values_list("pk", flat=True)[: settings.COMMS_TICK_BATCH]
    )
    for start in range(0, len(ids), CLAIM_CHUNK):
        chunk = ids[start : start + CLAIM_CHUNK]
        handed: list[int] = []  # the chunk's deliveries, handed over in batches at commit
        try:
            with transaction.atomic():
                rules = due.filter(pk__in=chunk).order_by("pk")
                if connection.features.has_select_for_update_skip_locked:
                    rules = rules.select_for_update(skip_locked=True, of=("self",))
                found = list(rules.select_related("template", "release"))
                try:
                    with transaction.atomic():  # a savepoint: the chunk in bulk
                        written += _write_many(found, now, handed, written_at or now)
                except Exception:
                    handed.clear()  # rolled back with the savepoint
                    logger.exception("comms rules %s… written one at a time", chunk[0])
                    written += sum(_fire_alone(rule, now, handed) for rule in found)
                if handed:
                    earliest = _earliest_due(found, now)
                    transaction.on_commit(functools.partial(_hand_over_at, handed, earliest))
        except Exception:
            logger.exception("comms rules %s… failed; the next tick retries", chunk[0])
    return written


def _earliest_due(rules: list[CommsRule], now: datetime) -> datetime:
    """The earliest time among the messages of ``rules`` written by ``now``."""
    found = [occurrence(r, r.release, now)[0] for r in rules if r.next_due_at is not None]
    return min(found, default=now)


def _hand_over_at(ids: list[int], due: datetime) -> None:
    """A chunk's deliveries to the workers, to be taken up at ``due`` (its earliest
    message's time) when they were written ahead of it; now otherwise."""
    wait = (due - clock.now()).total_seconds()
    if wait > 0:
        hand_over(ids, countdown=wait)
    else:
        hand_over(ids)


#: Due moments after a tick that a worker is woken for, each at its moment.
WAKE_MOMENTS = 10


def wake_for_due(now: datetime) -> int:
    """The tick's second comms job: for the rules falling due before the next tick has
    written them ahead (the first few distinct moments, one query), a worker is asked to
    write them ``COMMS_WRITE_AHEAD_SECONDS`` before their moment (:func:`write_due_at`) —
    an update is not held until the next tick, up to ``TICK_SECONDS`` late. Only a
    wake-up: the claim is :func:`write_due`'s, so a wake-up run twice (two ticks see the
    same moment coming), or racing the tick, writes each message once; one that is lost
    leaves the message to the next tick, as before."""
    ahead = settings.TICK_SECONDS + settings.COMMS_WRITE_AHEAD_SECONDS
    soon = CommsRule.objects.filter(
        enabled=True, next_due_at__gt=now, next_due_at__lte=now + timedelta(seconds=ahead)
    )
    found = soon.order_by("next_due_at").values_list("next_due_at", flat=True).distinct()
    moments = [m for m in found[:WAKE_MOMENTS] if m is not None]
    if moments:
        wake_at(moments, clock.now(), ahead=settings.COMMS_WRITE_AHEAD_SECONDS)
    return len(moments)


def write_due_at(moment: datetime) -> int:
    """A wake-up's work: what falls due at ``moment``, written now, ahead of it. The
    write (a few milliseconds a message) is done before the moment, not in it: when the
    moment comes the workers have only to send. Each delivery is due at its message's
    time; the status updates are composed from live state when they are sent."""
    now = clock.now()
    return write_due(max(moment, now), written_at=now)


def _fire_alone(rule: CommsRule, now: datetime, handed: list[int]) -> int:
    """One rule in a savepoint: its failure is its own (the next tick retries it)."""
    mark = len(handed)
    try:
        with transaction.atomic():
            return fire(rule, now, release=rule.release, handed=handed)
    except Exception:
        del handed[mark:]  # rolled back with the savepoint
        logger.exception("comms rule %s failed; the next tick retries", rule.pk)
        return 0


@dataclass
class _Due:
    """A rule's due occurrence, ready to claim and write."""

    rule: CommsRule
    release: Any  # the rule's release (read with it)
    claim: tuple[datetime, datetime | None]  # its stored due time → the one after
    message: Message


def _write_many(
    rules: list[CommsRule], now: datetime, handed: list[int], written_at: datetime
) -> int:
    """Claim and write a chunk of due rules in a few statements, whatever its size: one
    compare-and-set ``UPDATE … RETURNING`` per distinct (due, next) pair claims the
    rules (a rule another caller moved on is not returned, and not written); one query
    finds the keys written already; the email audiences are read once for the chunk;
    the messages and their deliveries are inserted in one statement each. A concurrent
    writer of the same key makes the insert fail: the caller writes the chunk again one
    rule at a time. A rule whose message cannot be made (its template, say) is left
    unclaimed and logged; the next tick retries it."""
    ready: list[_Due] = []
    for rule in rules:
        if rule.next_due_at is None:
            continue
        try:
            release = rule.release
            latest, then = occurrence(rule, release, now)
            key = f"rule:{rule.pk}:at:{_ts(latest)}"
            message = new_message(release, rule, written_at, key=key, cause="time", due_at=latest)
        except Exception:
            logger.exception("comms rule %s failed; the next tick retries", rule.pk)
            continue
        ready.append(_Due(rule, release, (rule.next_due_at, then), message))
    won = _claim([(d.rule.pk, *d.claim) for d in ready])
    ready = [d for d in ready if d.rule.pk in won]
    if not ready:
        return 0
    seen = set(
        Message.objects.filter(key__in=[d.message.key for d in ready]).values_list("key", flat=True)
    )
    fresh = [d for d in ready if d.message.key not in seen]
    edited = [d.rule.pk for d in fresh if d.rule.next_text]
    if edited:  # the release manager's edit of the next message, used once
        CommsRule.objects.filter(pk__in=edited).update(next_text="")
    if not fresh:
        return 0
    Message.objects.bulk_create([d.message for d in fresh])
    known = audiences.emails_many(
        (d.release.pk, d.message.audience)
        for d in fresh
        if "email" in (d.rule.channels or DEFAULT_CHANNELS)
    )
    rows = [
        row
        for d in fresh
        for row in delivery_rows(
            d.release, d.message, d.rule.channels, max(written_at, d.message.due_at), known
        )
    ]
    _queued(Delivery.objects.bulk_create(rows), handed)
    return len(fresh)


def _claim(wanted: list[tuple[int, datetime, datetime | None]]) -> set[int]:
    """Move each rule ``(pk, due, next)`` from ``due`` to ``next`` if it is still due
    then (compare-and-set): the pks moved, one conditional UPDATE … RETURNING per
    distinct (due, next) — one for a chunk of updates due at the same moment."""
    pairs: dict[tuple[datetime, datetime | None], list[int]] = {}
    for pk, due_at, then in wanted:
        pairs.setdefault((due_at, then), []).append(pk)
    ops = connection.ops
    q = ops.quote_name
    won: set[int] = set()
    for (due_at, then), pks in pairs.items():
        marks = ", ".join(["%s"] * len(pks))
        sql = (
            f"UPDATE {q(CommsRule._meta.db_table)} SET {q('next_due_at')} = %s"
            f" WHERE {q('id')} IN ({marks}) AND {q('next_due_at')} = %s RETURNING {q('id')}"
        )
        params = [ops.adapt_datetimefield_value(then), *pks, ops.adapt_datetimefield_value(due_at)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            won.update(row[0] for row in cursor.fetchall())
    return won


def occurrence(rule: CommsRule, release, now: datetime) -> tuple[datetime, datetime | None]:
    """The occurrence of ``rule`` that is sent when it is claimed at ``now`` (the latest
    due: catch-up sends one), and the next due time it moves on to (none after the
    window of a closed release). No queries."""
    due_at = rule.next_due_at
    assert due_at is not None
    latest = plan.latest_due(rule, release, now) or due_at
    following = plan.next_after(rule, release, max(now, due_at))
    closed = getattr(release, "is_closed", False)
    return latest, (None if (closed and rule.interval) else following)


def fire(
    rule: CommsRule,
    now: datetime,
    *,
    skip: bool = False,
    actor=None,
    release=None,
    handed: list[int] | None = None,
) -> int:
    """Claim ``rule``'s due occurrence (compare-and-set: one caller wins) and write its
    message in the same transaction; with ``skip`` write nothing (recorded)."""
    release = release or release_model().objects.get(pk=rule.release_id)
    due_at = rule.next_due_at
    if due_at is None:
        return 0
    latest, then = occurrence(rule, release, now)
    with transaction.atomic():
        won = CommsRule.objects.filter(pk=rule.pk, next_due_at=due_at).update(next_due_at=then)
        if not won:
            return 0
        if skip:
            events.record(
                release,
                "comms.skipped",
                actor=actor,
                data={"rule": rule.name, "due": clock.format_offset(latest - release.go_live_at)},
            )
            return 0
        message = write(
            release,
            rule=rule,
            key=f"rule:{rule.pk}:at:{_ts(latest)}",
            cause="time",
            due_at=latest,
            handed=handed,
        )
    return 1 if message else 0


def sweep(now: datetime) -> int:
    """Hand over deliveries whose hand-over was lost: queued or retrying past their time
    by more than the grace, or sending with an expired lease (the worker died)."""
    grace = now - timedelta(seconds=settings.COMMS_SWEEP_GRACE_SECONDS)
    stale = Delivery.objects.filter(
        Q(state__in=[Delivery.State.QUEUED, Delivery.State.RETRYING], next_attempt_at__lte=grace)
        | Q(state=Delivery.State.SENDING, lease_until__lt=now)
    ).values_list("pk", flat=True)[: settings.COMMS_TICK_BATCH]
    ids = list(stale)
    if ids:
        # Due now, and not stale again for another grace period: a backlog the workers
        # are still working through is handed over once per period, not at every tick.
        # A lease that ran out becomes a retry (the transport checks before re-sending).
        Delivery.objects.filter(pk__in=ids).filter(
            Q(state=Delivery.State.SENDING, lease_until__lt=now) | ~Q(state=Delivery.State.SENDING)
        ).update(state=Delivery.State.RETRYING, next_attempt_at=now, lease_until=None)
        hand_over(ids)
    return len(ids)


# --- pages (escalation) ------------------------------------------------------------------
#: A Slack user ID (U…/W…): what ``conversations.open`` takes.
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class PageOut:
    """One person paged: what to say and where they can be reached."""

    key: str
    release_id: int
    name: str
    subject: str
    text: str
    due_at: datetime
    slack: str = ""
    email: str = ""


def slack_dm_target(slack_handle: str, email: str) -> audiences.Target:
    """Where a Slack DM goes: the person's user ID, or (for a display handle such as
    "@ana") their email, which the transport looks up with ``users.lookupByEmail``."""
    handle = (slack_handle or "").strip()
    if _SLACK_USER_ID.match(handle):
        return audiences.Target(handle)
    if "@" in (email or "")[1:]:
        return audiences.Target(email.strip())
    return audiences.Target(
        handle or "(none)", "no Slack user ID, and no email to look the user up by"
    )


def write_pages(pages: list[PageOut], now: datetime, handed: list[int] | None = None) -> int:
    """Write each page's message with a Slack DM and an email delivery, in the caller's
    transaction; a page whose message exists already is left as it was. The deliveries
    are handed to the workers after commit — or, given ``handed``, their ids are added
    to it for the caller to hand over once it has committed (the tick's sweep, if that
    hand-over is lost). Returns how many messages were written."""
    if not pages:
        return 0
    keys = [f"page:{p.key}"[:200] for p in pages]
    seen = set(Message.objects.filter(key__in=keys).values_list("key", flat=True))
    fresh: dict[str, PageOut] = {}
    for p, key in zip(pages, keys, strict=True):
        if key not in seen:
            fresh.setdefault(key, p)
    if not fresh:
        return 0
    messages = Message.objects.bulk_create(
        [
            Message(
                release_id=p.release_id,
                key=key,
                cause=PAGE,
                audience=p.name[:300],
                subject=p.subject[:300],
                body=p.text,
                composed=True,
                due_at=p.due_at,
                created_at=now,
            )
            for key, p in fresh.items()
        ]
    )
    made = Delivery.objects.bulk_create(_page_deliveries(messages, list(fresh.values()), now))
    ids = [d.pk for d in made if d.state == Delivery.State.QUEUED]
    if handed is not None:
        handed.extend(ids)
    elif ids:
        transaction.on_commit(lambda: hand_over(ids))
    return len(messages)


def _page_deliveries(messages: list[Message], pages: list[PageOut], now) -> list[Delivery]:
    """A Slack DM and an email per page, where the person has them; a channel turned
    off or a person Slack cannot find is written as failed, saying why."""
    off = {c: (cls.disabled() if (cls := transport_class(c)) else "") for c in (SLACK_DM, "email")}
    rows = []
    for message, p in zip(messages, pages, strict=True):
        targets = []
        if p.slack:
            targets.append((SLACK_DM, slack_dm_target(p.slack, p.email)))
        if "@" in p.email[1:]:
            targets.append(("email", audiences.Target(p.email.strip())))
        for channel, target in targets:
            problem = target.problem or off[channel]
            rows.append(
                Delivery(
                    message=message,
                    channel=channel,
                    target=target.address[:300],
                    key=f"{message.key}|{channel}|{target.address}"[:400],
                    next_attempt_at=now,
                    state=Delivery.State.FAILED if problem else Delivery.State.QUEUED,
                    last_error=problem,
                )
            )
    return rows
