"""Escalation: an issue nobody answers climbs the release's escalation matrix by itself.

What starts an escalation is an event another app records (this module subscribes, inside
the writer's transaction, so the escalation exists exactly when the event does):

- ``issue.reported`` — an issue; its levels fall due at the matrix's times ("Level 2 …
  (15-30 minutes)"), scaled by its severity's response target (P1 as written, P2 at
  twice the time, …); ``issue.acknowledged`` stops it at the level it reached and
  ``issue.resolved`` closes it (and resolves its PagerDuty incidents);
- ``rollback.expired`` and ``gate.late`` (recorded once by the clock, see
  ``deployments.clockwork``) and ``decision.proposed`` left unanswered
  (``DECISION_ANSWER_SECONDS``): the decision roles' backups are paged first (level 0),
  then the matrix's next levels; the decision closes it.

Beat's tick runs :func:`escalate_due`: every level that has fallen due is fired once —
the step, its pages, the PagerDuty trigger and the ``issue.escalated`` event are written in
one transaction under the release's row lock, keyed (escalation, level) — so a worker or
beat restarted in between neither loses nor repeats a page. A wave of many releases is
written a chunk of releases per transaction, in bulk statements, and each chunk's pages
and PagerDuty triggers go out as soon as it commits.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from checklists import selectors as checklist_selectors
from deployments.clockwork import watched_releases
from notifications import oncall, outbox
from notifications.escalation_models import (
    Escalation,
    EscalationStep,
    Page,
    PagerDutyEvent,
    PagerDutyRoute,
)
from notifications.models import EscalationLevel, EscalationRole
from notifications.queue import hand_over
from notifications.transports.pagerduty import ROUTING_KEY_LENGTH
from warroom import clock, events, policies
from warroom.audit import AuditEvent, release_model
from warroom.errors import FieldError
from warroom.people.models import Assignment, Person, Role

if TYPE_CHECKING:
    from notifications.pagerduty import Sending

logger = logging.getLogger(__name__)

CLOCK = "escalation"  # the actor label of what escalation does by itself
# How long each severity's levels take, relative to a P1's (its response target ÷ 15 min).
PACE = {"critical": 1.0, "high": 2.0, "medium": 8.0, "low": 96.0}


# --- starting, stopping and closing (subscribers, in the writer's transaction) ---------
def _start(event: AuditEvent, key: str, kind: str, title: str, **fields) -> Escalation:
    # The clock's events carry the moment they stand for ("due_at"): the escalation's
    # times count from there, however late the tick that noticed it.
    due = event.data.get("due_at")
    started = datetime.fromisoformat(due) if due else event.at
    found, _ = Escalation.objects.get_or_create(
        release_id=event.release_id,
        key=key,
        defaults={"kind": kind, "title": title[:300], "started_at": started, **fields},
    )
    return found


@events.subscribe("issue.reported")
def _issue_reported(event: AuditEvent) -> None:
    d = event.data
    severity = d.get("severity", "critical")
    _start(
        event,
        f"issue:{d['issue']}",
        Escalation.Kind.ISSUE,
        f"{d.get('priority', '')} {d.get('title', '')}".strip(),
        issue_id=d["issue"],
        severity=severity,
        pace=PACE.get(severity, 1.0),
    )


@events.subscribe("issue.acknowledged")
def _issue_acknowledged(event: AuditEvent) -> None:
    Escalation.objects.filter(
        release_id=event.release_id, key=f"issue:{event.data['issue']}", stopped_at=None
    ).update(stopped_at=event.at, stopped_by=event.actor_label)


@events.subscribe("issue.resolved")
def _issue_resolved(event: AuditEvent) -> None:
    _close(event, [f"issue:{event.data['issue']}"])


def _decision_role_ids(release_id: int, names: list[str] | None = None) -> list[int]:
    """Who decides: the gates' decision roles and the release managers (or ``names``)."""
    roles = Role.objects.filter(release_id=release_id)
    if names is not None:
        return list(roles.filter(name__in=names).values_list("pk", flat=True))
    deciding = {role_id for _, role_id in checklist_selectors.gate_decision_roles(release_id)}
    managers = set(roles.filter(is_release_manager=True).values_list("pk", flat=True))
    return sorted(deciding | managers)


@events.subscribe("rollback.expired")
def _rollback_expired(event: AuditEvent) -> None:
    d = event.data
    _start(
        event,
        f"rollback:{d['call']}",
        Escalation.Kind.ROLLBACK,
        f"Rollback decision overdue: {d.get('reason', '')}",
        backup_role_ids=_decision_role_ids(event.release_id),
        severity="critical",
    )


@events.subscribe("gate.late")
def _gate_late(event: AuditEvent) -> None:
    d = event.data
    deciders = [
        role_id
        for gate_id, role_id in checklist_selectors.gate_decision_roles(event.release_id)
        if gate_id == d["gate"]
    ]
    _start(
        event,
        f"gate:{d['gate']}",
        Escalation.Kind.GATE,
        f"{d.get('name', 'A gate')} is due and undecided",
        backup_role_ids=deciders,
        severity="critical",
    )


@events.subscribe("decision.proposed")
def _decision_proposed(event: AuditEvent) -> None:
    d = event.data
    wait = timedelta(seconds=settings.DECISION_ANSWER_SECONDS)
    found = _start(
        event,
        f"decision:{d['decision']}",
        Escalation.Kind.DECISION,
        f"Your decision is needed: {d.get('outcome_label', '')} at {d.get('gate', '')}",
        backup_role_ids=_decision_role_ids(event.release_id, list(d.get("awaiting") or [])),
        severity="critical",
    )
    # Unanswered is DECISION_ANSWER_SECONDS after the proposal: the clock starts there.
    Escalation.objects.filter(pk=found.pk).update(started_at=event.at + wait)


@events.subscribe("decision.voted")
def _decision_voted(event: AuditEvent) -> None:
    d = event.data
    if d.get("decision") and (d.get("verdict") != "confirm" or not d.get("awaiting")):
        _close(event, [f"decision:{d['decision']}"])


@events.subscribe("decision.recorded")
def _decision_recorded(event: AuditEvent) -> None:
    d = event.data
    _close(event, [f"gate:{d.get('gate_id')}", f"decision:{d.get('decision')}"])


@events.subscribe("rollback.decided")
def _rollback_decided(event: AuditEvent) -> None:
    # Every pending call is answered by a decision (older events name none: close all).
    call = event.data.get("call")
    _close(event, [f"rollback:{call}"] if call else None)


def _close(event: AuditEvent, keys: list[str] | None) -> None:
    """Close the escalations (``None``: every rollback one); every PagerDuty incident they
    triggered is resolved."""
    open_ones = Escalation.objects.filter(release_id=event.release_id, closed_at=None)
    if keys is None:
        open_ones = open_ones.filter(key__startswith="rollback:")
    else:
        open_ones = open_ones.filter(key__in=keys)
    closing = list(open_ones)
    if not closing:
        return
    Escalation.objects.filter(pk__in=[e.pk for e in closing]).update(closed_at=event.at)
    triggered = PagerDutyEvent.objects.filter(
        release_id=event.release_id,
        action=PagerDutyEvent.Action.TRIGGER,
        dedup_key__in=[
            dedup_key(e, level)
            for e in closing
            for level in e.steps.values_list("level", flat=True)
        ],
    )
    for t in triggered:
        PagerDutyEvent.objects.get_or_create(
            dedup_key=t.dedup_key,
            action=PagerDutyEvent.Action.RESOLVE,
            defaults={
                "release_id": t.release_id,
                "routing_key": t.routing_key,
                "created_at": event.at,
            },
        )


# --- the schedule ---------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    level: int
    name: str
    at: datetime
    role_ids: tuple[int, ...]
    contacts: tuple[str, ...]
    backups: bool = False  # level 0: the decision roles' backups


def schedule(esc: Escalation, levels: list[EscalationLevel]) -> list[Due]:
    """The levels of ``esc`` and when each falls due."""
    found = []
    if esc.kind != Escalation.Kind.ISSUE and esc.backup_role_ids:
        found.append(
            Due(0, "Decision roles' backups", esc.started_at, tuple(esc.backup_role_ids), (), True)
        )
    for lv in levels:
        after = lv.after or timedelta(0)
        if esc.kind != Escalation.Kind.ISSUE and after <= timedelta(0) and esc.backup_role_ids:
            continue  # level 1 is the deciders themselves: they were asked already
        role_ids = tuple(r.pk for r in lv.roles.all())
        found.append(
            Due(lv.level, lv.name, esc.started_at + after * esc.pace, role_ids, tuple(lv.contacts))
        )
    return found


# --- firing a level ---------------------------------------------------------------------
def dedup_key(esc: Escalation, level: int) -> str:
    return f"warroom-{esc.release_id}-{esc.key}-L{level}"


def channels_of(person: Person) -> list[str]:
    found = []
    if person.slack_handle:
        found.append("slack")
    if person.email:
        found.append("email")
    if person.phone:
        found.append("phone")
    return found


@dataclass(frozen=True)
class PageRequest:
    person: Person | None
    text: str
    dedup_key: str
    release_id: int
    step: EscalationStep | None = None
    name: str = ""
    due_at: datetime | None = None
    subject: str = ""


def page_all(requests: list[PageRequest], handed: list[int] | None = None) -> int:
    """Page each person: a :class:`Page` row and, through the communications outbox, a
    Slack DM and an email (:func:`notifications.outbox.write_pages`), in the caller's
    transaction. Once per ``dedup_key``: a key already paged is left as it was.
    ``handed``: see :func:`notifications.outbox.write_pages`. Returns how many pages
    are new."""
    if not requests:
        return 0
    keys = [r.dedup_key[:200] for r in requests]
    seen = set(Page.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))
    now = clock.now()
    fresh = {}
    subjects = {}
    for r, key in zip(requests, keys, strict=True):
        if key in seen or key in fresh:
            continue
        subjects[key] = r.subject or r.text.split(" — ", 1)[0]
        fresh[key] = Page(
            release_id=r.release_id,
            step=r.step,
            person=r.person,
            person_name=(r.person.name if r.person else r.name)[:200],
            channels=channels_of(r.person) if r.person else [],
            text=r.text,
            dedup_key=key,
            due_at=r.due_at,
            created_at=now,
        )
    Page.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
    # Each page goes out through the comms outbox (Slack DM and email), in this same
    # transaction: a page exists exactly when its deliveries do.
    outbox.write_pages(
        [
            outbox.PageOut(
                key=key,
                release_id=row.release_id,
                name=row.person_name,
                subject=subjects[key],
                text=row.text,
                due_at=row.due_at or now,
                slack=row.person.slack_handle if row.person else "",
                email=row.person.email if row.person else "",
            )
            for key, row in fresh.items()
        ],
        now,
        handed,
    )
    return len(fresh)


def page(person: Person | None, text: str, dedup_key: str, *, release_id: int, **more) -> bool:
    """Page one person (see :func:`page_all`); returns whether this page is new."""
    return page_all([PageRequest(person, text, dedup_key, release_id, **more)]) == 1


@dataclass
class Directory:
    """Who holds which role, who is on call and the releases' named people, read once
    for everything one tick fires (a fixed number of queries however many releases)."""

    holders: dict[int, dict[str, list[Person]]]
    on_call: dict[int, tuple[Person, Person | None]]
    named: dict[int, list[Person]]

    @classmethod
    def load(cls, dues: list[tuple[int, Due]], now: datetime) -> Directory:
        """For ``dues``, (release id, level due) pairs."""
        role_ids = sorted({r for _, due in dues for r in due.role_ids})
        holders: dict[int, dict[str, list[Person]]] = defaultdict(lambda: defaultdict(list))
        for a in Assignment.objects.filter(role_id__in=role_ids).select_related("person"):
            holders[a.role_id][a.kind].append(a.person)
        named: dict[int, list[Person]] = defaultdict(list)
        naming = sorted({release_id for release_id, due in dues if due.contacts})
        if naming:
            seen: set[tuple[int, int]] = set()
            for a in Assignment.objects.filter(role__release_id__in=naming).select_related(
                "person", "role"
            ):
                if (a.role.release_id, a.person_id) not in seen:
                    seen.add((a.role.release_id, a.person_id))
                    named[a.role.release_id].append(a.person)
        return cls(holders, oncall.on_call_now(role_ids, now), named)

    def people(self, release_id: int, due: Due) -> list[Person]:
        """Who a level pages: each role's holder now (the on-call schedule's, else the
        primary; the backups at level 0 or where no primary is set), then the named
        contacts."""
        found: dict[int, Person] = {}
        for role_id in due.role_ids:
            if role_id in self.on_call:
                primary, backup = self.on_call[role_id]
                chosen = [backup or primary] if due.backups else [primary]
            else:
                kinds = self.holders.get(role_id) or {}
                primaries, backups = kinds.get("primary", []), kinds.get("backup", [])
                chosen = (backups or primaries) if due.backups else primaries
                chosen = chosen or backups
            for person in chosen:
                if not person.is_placeholder:
                    found.setdefault(person.pk, person)
        names = {n.strip().lower() for n in due.contacts if n.strip()}
        for person in self.named.get(release_id, ()):
            if person.name.strip().lower() in names and not person.is_placeholder:
                found.setdefault(person.pk, person)
        return list(found.values())


def people_for(release_id: int, due: Due, now: datetime) -> list[Person]:
    """Who a level of ``release_id`` pages at ``now`` (see :meth:`Directory.people`)."""
    return Directory.load([(release_id, due)], now).people(release_id, due)


#: Levels fired per transaction by the tick: whole releases, their rows locked together,
#: until a chunk holds this many (a release with more is a chunk of its own).
FIRE_CHUNK = 100


def fire_release(
    release,
    batch: list[tuple[Escalation, Due]],
    now: datetime,
    directory: Directory | None = None,
    routes: dict[int, PagerDutyRoute] | None = None,
    handed: list[int] | None = None,
) -> int:
    """Fire the due levels of one release's escalations, each once (see
    :func:`fire_releases`). Returns how many levels this call fired."""
    return fire_releases({release.pk: batch}, now, directory, routes, handed)


def fire_releases(
    batches: dict[int, list[tuple[Escalation, Due]]],
    now: datetime,
    directory: Directory | None = None,
    routes: dict[int, PagerDutyRoute] | None = None,
    handed: list[int] | None = None,
    sending: Sending | None = None,
) -> int:
    """Fire the due levels of several releases' escalations (``batches``, by release id),
    each once, in one transaction: the releases' rows are locked together (in id order,
    one statement), and under those locks what already fired (another worker, a tick
    before a restart) or was answered meanwhile is skipped. The steps, their events,
    pages and PagerDuty triggers of every release are written in a fixed number of bulk
    statements, however many releases and levels.

    ``directory`` and ``routes`` (by release id) may come read already (the tick reads
    them for every release at once); given ``handed``, the pages' deliveries are added
    to it for the caller to hand over; given ``sending``, the triggers are written
    claimed by it and, once committed, handed to it to send. Returns how many levels
    this call fired."""
    if directory is None:
        directory = Directory.load(
            [(rid, due) for rid, batch in batches.items() for _, due in batch], now
        )
    if routes is None:
        routes = {
            r.release_id: r
            for r in PagerDutyRoute.objects.filter(release_id__in=batches, enabled=True)
        }
    claimed: list[PagerDutyEvent] = []
    with transaction.atomic():
        todo, releases = _still_due(batches, now, directory)
        if not todo:
            return 0
        triggers = _write_fired(todo, now, routes, handed, sending)
        if sending is not None and triggers:
            # What this sender holds: the rows just written (one already there is not).
            claimed = list(
                PagerDutyEvent.objects.filter(
                    claimed_by=sending.token,
                    state=PagerDutyEvent.State.PENDING,
                    dedup_key__in=[t.dedup_key for t in triggers],
                )
            )
            for row in claimed:
                row.release = releases[row.release_id]
    if sending is not None:
        sending.start(claimed)  # committed: PagerDuty hears of it while the next is written
    return len(todo)


#: A level to fire: its release (row read under its lock), escalation, level, the people
#: it pages and the page's text.
Firing = tuple[Any, Escalation, Due, list[Person], str]


def _still_due(
    batches: dict[int, list[tuple[Escalation, Due]]], now: datetime, directory: Directory
) -> tuple[list[Firing], dict[int, Any]]:
    """In the caller's transaction: lock the releases' rows and keep the levels of
    ``batches`` that are still to fire (running, not fired yet), each once."""
    # One statement locks them all, in id order (two writers never wait on each other
    # in a cycle), and reads each head for the events written under the locks.
    releases = {
        r.pk: r
        for r in release_model()
        .objects.select_for_update()
        .filter(pk__in=sorted(batches))
        .order_by("pk")
    }
    ids = [esc.pk for batch in batches.values() for esc, _ in batch]
    running = set(
        Escalation.objects.filter(pk__in=ids, stopped_at=None, closed_at=None).values_list(
            "pk", flat=True
        )
    )
    fired = set(
        EscalationStep.objects.filter(escalation_id__in=ids).values_list("escalation_id", "level")
    )
    todo: list[Firing] = []
    for release_id in sorted(batches):
        release = releases.get(release_id)
        for esc, due in batches[release_id]:
            if release is None or esc.pk not in running or (esc.pk, due.level) in fired:
                continue
            fired.add((esc.pk, due.level))
            minutes = int((now - esc.started_at).total_seconds() // 60)
            text = (
                f"[{release}] {esc.title} — unanswered for {minutes} min: "
                f"escalated to level {due.level} ({due.name})"
            )
            todo.append((release, esc, due, directory.people(release_id, due), text))
    return todo, releases


def _write_fired(
    todo: list[Firing],
    now: datetime,
    routes: dict[int, PagerDutyRoute],
    handed: list[int] | None,
    sending: Sending | None,
) -> list[PagerDutyEvent]:
    """Write the steps of ``todo``, their events, pages and PagerDuty triggers, in bulk
    (a handful of statements for any number of releases); returns the triggers."""
    steps = EscalationStep.objects.bulk_create(
        [
            EscalationStep(
                escalation=esc,
                level=due.level,
                name=due.name[:200],
                due_at=due.at,
                fired_at=now,
                paged=[{"person": p.name, "channels": channels_of(p)} for p in people],
            )
            for _, esc, due, people, _ in todo
        ]
    )
    claim = sending.claim_fields(now) if sending is not None else {}
    pages: list[PageRequest] = []
    triggers: list[PagerDutyEvent] = []
    entries: list[tuple[Any, str, dict]] = []
    for step, (release, esc, due, people, text) in zip(steps, todo, strict=True):
        key = dedup_key(esc, due.level)
        subject = f"Level {due.level} page: {esc.title}"
        pages += [
            PageRequest(p, text, f"{key}-P{p.pk}", release.pk, step, due_at=due.at, subject=subject)
            for p in people
        ]
        route = routes.get(release.pk)
        if route is not None:
            triggers.append(
                PagerDutyEvent(
                    release=release,
                    routing_key=route.routing_key,
                    dedup_key=key,
                    action=PagerDutyEvent.Action.TRIGGER,
                    summary=text[:1024],
                    severity=esc.severity or "critical",
                    created_at=now,
                    **claim,
                )
            )
        kind = "issue.escalated" if esc.kind == Escalation.Kind.ISSUE else "decision.escalated"
        entries.append(
            (
                release,
                kind,
                {
                    "escalation": esc.key,
                    "title": esc.title,
                    "level": due.level,
                    "name": due.name,
                    "paged": step.paged,
                    "pagerduty": route is not None,
                    "due_at": due.at.isoformat(),
                    "late_by_s": int((now - due.at).total_seconds()),
                },
            )
        )
    events.record_locked_across(entries, actor_label=CLOCK)
    page_all(pages, handed)
    PagerDutyEvent.objects.bulk_create(triggers, ignore_conflicts=True)
    return triggers


def escalate_due(now: datetime, timings: dict[str, float] | None = None) -> int:
    """The tick's job: fire every level that has fallen due; send PagerDuty's outbox.

    What every release needs is read once for all of them (levels, steps, who holds
    which role, who is on call, PagerDuty routes); the releases are then fired a chunk
    at a time (:data:`FIRE_CHUNK` levels, one transaction each; a chunk that fails is
    fired again release by release, so one release that fails is retried by the next
    tick without holding back the others). Each chunk's PagerDuty triggers start out as
    soon as it commits, outside any transaction, while the next chunk is written; the
    pages are handed to the workers in one go after the last chunk; the tick then
    records PagerDuty's answers and sends the rest of its outbox. ``timings`` (given)
    gets the seconds each part took: ``read``, ``fire`` (``first_chunk``: until the first
    chunk committed; ``hand_over`` within it) and ``send`` (waiting for PagerDuty after
    the last chunk)."""
    from notifications.pagerduty import Sending

    t0 = time.perf_counter()
    due = _due_now(now)
    t1 = time.perf_counter()
    sending = Sending()
    try:
        fired = _fire_all(due, now, timings, sending)
        t2 = time.perf_counter()
    finally:
        sending.finish()
    if timings is not None:
        timings.update(read=t1 - t0, fire=t2 - t1, send=time.perf_counter() - t2)
    return fired


def _due_now(now: datetime) -> dict[int, list[tuple[Escalation, Due]]]:
    """The levels fallen due and not fired yet, by release."""
    running = list(
        Escalation.objects.filter(
            release__in=watched_releases(now), stopped_at=None, closed_at=None, started_at__lte=now
        ).order_by("started_at", "pk")
    )
    by_release: dict[int, list[tuple[Escalation, Due]]] = defaultdict(list)
    if not running:
        return by_release
    levels: dict[int, list[EscalationLevel]] = defaultdict(list)
    for lv in EscalationLevel.objects.filter(
        release_id__in={e.release_id for e in running}
    ).prefetch_related("roles"):
        levels[lv.release_id].append(lv)
    done = set(
        EscalationStep.objects.filter(escalation__in=running).values_list("escalation_id", "level")
    )
    for esc in running:
        for due in schedule(esc, levels[esc.release_id]):
            if due.at <= now and (esc.pk, due.level) not in done:
                by_release[esc.release_id].append((esc, due))
    return by_release


def _chunks(
    by_release: dict[int, list[tuple[Escalation, Due]]],
) -> list[dict[int, list[tuple[Escalation, Due]]]]:
    """Whole releases, in id order, grouped until a group holds :data:`FIRE_CHUNK` levels."""
    chunks: list[dict[int, list[tuple[Escalation, Due]]]] = []
    current: dict[int, list[tuple[Escalation, Due]]] = {}
    size = 0
    for release_id in sorted(by_release):
        current[release_id] = by_release[release_id]
        size += len(by_release[release_id])
        if size >= FIRE_CHUNK:
            chunks.append(current)
            current, size = {}, 0
    if current:
        chunks.append(current)
    return chunks


def _fire_all(
    by_release: dict[int, list[tuple[Escalation, Due]]],
    now: datetime,
    timings: dict[str, float] | None = None,
    sending: Sending | None = None,
) -> int:
    """Fire ``by_release`` a chunk at a time; the pages are handed to the workers once
    every chunk has committed (inside a caller's transaction: when that commits)."""
    if not by_release:
        return 0
    started = time.perf_counter()
    directory = Directory.load(
        [(rid, due) for rid, batch in by_release.items() for _, due in batch], now
    )
    routes = {
        r.release_id: r
        for r in PagerDutyRoute.objects.filter(release_id__in=by_release, enabled=True)
    }
    fired = 0
    handed: list[int] = []
    for n, chunk in enumerate(_chunks(by_release)):
        mine: list[int] = []
        try:
            fired += fire_releases(chunk, now, directory, routes, mine, sending)
        except Exception:
            logger.warning("escalating releases %s together failed; one by one", sorted(chunk))
            mine = []
            for release_id, batch in chunk.items():
                alone: list[int] = []
                try:
                    fired += fire_releases(
                        {release_id: batch}, now, directory, routes, alone, sending
                    )
                except Exception:
                    logger.exception(
                        "escalating release %s failed; the next tick retries", release_id
                    )
                else:
                    mine += alone
        handed += mine
        if timings is not None and n == 0:
            timings["first_chunk"] = time.perf_counter() - started
    # Every chunk's pages are written before any is handed to the workers (one batch,
    # after commit): the last chunk's pages do not wait for the first's hand-over.
    if handed:
        t = time.perf_counter()
        transaction.on_commit(functools.partial(hand_over, handed))
        if timings is not None:  # (0 inside a caller's transaction: it runs at commit)
            timings["hand_over"] = time.perf_counter() - t
    return fired


# --- editing the policy -----------------------------------------------------------------
@dataclass(frozen=True)
class LevelIn:
    level: int
    name: str
    after_minutes: int
    roles: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()


def policy_set(*, release, user, levels: list[LevelIn]) -> list[EscalationLevel]:
    """Replace the release's escalation levels (the release manager). Every level needs
    contacts (a role or a named person), levels are numbered once each, and their times
    grow with the level; a role is named once per level and a contact is someone on the
    release; anything wrong is refused naming ``levels.N.field``, unwritten."""
    policies.require(
        policies.standing(user, release),
        policies.Action.EDIT_PLAN,
        release,
        target={"what": "escalation policy"},
    )
    roles = {r.name.lower(): r for r in Role.objects.filter(release=release)}
    people = {
        p.name.strip().lower()
        for p in Person.objects.filter(assignments__role__release=release).distinct()
    }
    seen: set[int] = set()
    previous = -1
    for n, lv in enumerate(levels):
        where = f"levels.{n}"
        if lv.level < 1 or lv.level in seen:
            raise FieldError(f"{where}.level", "must be a level number used once, from 1")
        seen.add(lv.level)
        if not lv.name.strip():
            raise FieldError(f"{where}.name", "must not be empty")
        if lv.after_minutes < 0 or lv.after_minutes <= previous:
            raise FieldError(f"{where}.after_minutes", "must grow from one level to the next")
        previous = lv.after_minutes
        _check_whom(where, lv, roles, people)
    with transaction.atomic():
        events.lock_head(release)
        EscalationLevel.objects.filter(release=release).delete()
        made = []
        for lv in sorted(levels, key=lambda x: x.level):
            level = EscalationLevel.objects.create(
                release=release,
                level=lv.level,
                name=lv.name.strip()[:200],
                after=timedelta(minutes=lv.after_minutes),
                contacts=[c.strip() for c in lv.contacts if c.strip()],
            )
            for order, r in enumerate(lv.roles):
                EscalationRole.objects.create(
                    level=level, role=roles[r.strip().lower()], order=order
                )
            made.append(level)
        events.record(
            release,
            "escalation.policy_changed",
            actor=user,
            data={"levels": len(made), "names": [f"{lv.level}: {lv.name}" for lv in made]},
        )
    return made


def _check_whom(where: str, lv: LevelIn, roles: dict[str, Role], people: set[str]) -> None:
    """Whom a level pages: some role or person; each role once and the release's; each
    contact someone on the release (a name nobody answers to pages nobody)."""
    if not [r for r in lv.roles if r.strip()] and not [c for c in lv.contacts if c.strip()]:
        raise FieldError(f"{where}.contacts", "a level needs a role or a person to page")
    named: set[str] = set()
    for r in lv.roles:
        if r.strip().lower() not in roles:
            raise FieldError(f"{where}.roles", f"the release has no role called {r!r}")
        if r.strip().lower() in named:
            raise FieldError(f"{where}.roles", f"names the role {r.strip()!r} twice")
        named.add(r.strip().lower())
    for c in lv.contacts:
        if c.strip() and c.strip().lower() not in people:
            raise FieldError(f"{where}.contacts", f"nobody called {c.strip()!r} is on this release")


def policy_of(release) -> list[EscalationLevel]:
    return list(EscalationLevel.objects.filter(release=release).prefetch_related("roles"))


def pagerduty_connect(*, release, user, routing_key: str, enabled: bool = True) -> PagerDutyRoute:
    """Send the release's escalations to PagerDuty (an integration's 32-character key)."""
    policies.require(
        policies.standing(user, release),
        policies.Action.EDIT_PLAN,
        release,
        target={"what": "PagerDuty"},
    )
    key = (routing_key or "").strip()
    if len(key) != ROUTING_KEY_LENGTH or not key.isalnum():
        raise FieldError(
            "routing_key",
            f"must be the integration's {ROUTING_KEY_LENGTH}-character key "
            f"(letters and digits; this one has {len(key)})",
        )
    with transaction.atomic():
        route, _ = PagerDutyRoute.objects.update_or_create(
            release=release, defaults={"routing_key": key, "enabled": enabled}
        )
        events.record(release, "pagerduty.routed", actor=user, data={"enabled": enabled})
    return route
