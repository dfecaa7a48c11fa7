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

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from notifications import audiences, plan
from notifications.models import CommsRule, Delivery, Message
from notifications.queue import hand_over
from notifications.render import render_template
from notifications.transports import transport_class
from notifications.transports.base import SLACK_DM
from notifications.transports.email import PAGE
from warroom import clock, events
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
    status_update = bool(rule and is_status_update(rule))
    # A status update is composed when it is sent; anything else is filled in now.
    subject, body = ("", "") if status_update or rule is None else render_template(release, rule)
    if rule is not None and rule.next_text:
        body, status_update = rule.next_text, False
        CommsRule.objects.filter(pk=rule.pk).update(next_text="")
    if text:
        body, status_update = text, False
    try:
        with transaction.atomic():
            message = Message.objects.create(
                release_id=release.pk,
                rule=rule,
                key=key,
                cause=cause,
                audience=rule.audience if rule else audience,
                subject=subject or title or (rule.name if rule else "Update"),
                body=body,
                status_update=status_update,
                composed=not status_update,
                due_at=due_at,
                created_at=now,
                sent_by=sent_by,
            )
            deliveries = fan_out(release, message, (rule.channels if rule else channels), now)
    except IntegrityError:
        return None  # the same key written by a concurrent writer: it exists once
    ids = [d.pk for d in deliveries if d.state == Delivery.State.QUEUED]
    if handed is not None:
        handed.extend(ids)
    elif ids:
        transaction.on_commit(lambda: hand_over(ids))
    return message


def fan_out(release, message: Message, channels, now: datetime) -> list[Delivery]:
    """One delivery per channel and target; a channel nobody can deliver to is written
    as failed, naming why, so the delivery log shows it."""
    rows = []
    for channel in channels or DEFAULT_CHANNELS:
        if channel in SHOWN_IN_APP:
            continue
        cls = transport_class(channel)
        off = cls.disabled() if cls else ""  # a turned-off channel says so, quietly
        for found in audiences.targets(release, channel, message.audience):
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
    return Delivery.objects.bulk_create(rows)


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


def _enabled_rules(release_id: int) -> list[tuple[CommsRule, tuple[str, ...]]]:
    found = CommsRule.objects.filter(release_id=release_id, enabled=True).select_related("template")
    return [(r, plan.triggers(r)) for r in found]


def _rules_for(release, its_events: list[AuditEvent]) -> list[tuple[CommsRule, tuple[str, ...]]]:
    """The release's enabled rules for events that carry its row read under the lock;
    none, without a query, when the kinds cached for its ``comms_stamp`` miss them all."""
    known = _reacting.get(release.pk)
    rules = None
    if known is None or known[0] != release.comms_stamp:
        rules = _enabled_rules(release.pk)
        known = (release.comms_stamp, frozenset(k for _, kinds in rules for k in kinds))
        if len(_reacting) >= REACTING_CACHE:
            _reacting.clear()
        _reacting[release.pk] = known
    if not any(event.kind in known[1] for event in its_events):
        return []
    return rules if rules is not None else _enabled_rules(release.pk)


@events.subscribe_batch(events.ALL)
def on_events(batch: list[AuditEvent]) -> None:
    """In the writer's transaction: each enabled rule triggered by an event's kind writes
    its message (keyed by the event, so a replay writes nothing). The release's rules
    are read once per batch (a tick that records many events at once) — and not at all
    when the events carry the release row read under its lock (the engine's steps) and
    this process knows, for that row's ``comms_stamp``, that no rule reacts to them."""
    by_release: dict[int, list[AuditEvent]] = {}
    for event in batch:
        if event.kind in ("release.created", "release.edited"):
            schedule(event.release_id)
        by_release.setdefault(event.release_id, []).append(event)
    for release_id, its_events in by_release.items():
        head = its_events[0]
        release = head.release if AuditEvent.release.is_cached(head) else None
        rules = _rules_for(release, its_events) if release else _enabled_rules(release_id)
        if not any(kinds for _, kinds in rules):
            continue
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


def write_due(now: datetime) -> int:
    """The tick's job: every timed rule whose time has come writes its message once.

    Rules are claimed in chunks, across releases, one transaction per chunk: on
    PostgreSQL the chunk's rows are locked with SKIP LOCKED, so a second tick running at
    once takes other rules instead of waiting; each rule's claim is still its own
    compare-and-set (in a savepoint), so a rule is sent once whatever runs beside it.
    """
    written = 0
    due = CommsRule.objects.filter(enabled=True, next_due_at__lte=now)
    ids = list(
        due.order_by("next_due_at").values_list("pk", flat=True)[: settings.COMMS_TICK_BATCH]
    )
    for start in range(0, len(ids), CLAIM_CHUNK):
        handed: list[int] = []  # the chunk's deliveries, handed over in batches at commit
        try:
            with transaction.atomic():
                rules = due.filter(pk__in=ids[start : start + CLAIM_CHUNK]).order_by("pk")
                if connection.features.has_select_for_update_skip_locked:
                    rules = rules.select_for_update(skip_locked=True, of=("self",))
                for rule in rules.select_related("template", "release"):
                    mark = len(handed)
                    try:
                        with transaction.atomic():  # a savepoint: one rule's failure is its own
                            written += fire(rule, now, release=rule.release, handed=handed)
                    except Exception:
                        del handed[mark:]  # rolled back with the savepoint
                        logger.exception("comms rule %s failed; the next tick retries", rule.pk)
                if handed:
                    transaction.on_commit(functools.partial(hand_over, handed))
        except Exception:
            logger.exception("comms rules %s… failed; the next tick retries", ids[start])
    return written


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
    latest = plan.latest_due(rule, release, now) or due_at
    following = plan.next_after(rule, release, max(now, due_at))
    closed = getattr(release, "is_closed", False)
    with transaction.atomic():
        won = CommsRule.objects.filter(pk=rule.pk, next_due_at=due_at).update(
            next_due_at=None if (closed and rule.interval) else following
        )
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
