"""Plan + go-live time -> Release and its rows; and back (Release -> Plan).

``instantiate`` writes everything in one transaction (nothing partial on error)
with bulk inserts, so the 56 KB enterprise runbook imports well under a second.
``plan_from_release`` is its inverse: ``plan_from_release(instantiate(p, t0)) == p``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from checklists.models import Checklist, ChecklistItem, Gate, GateDecisionRole, RequiredSignOff
from deployments.models import Phase, Release, ReleaseContact, RollbackCriterion, RollbackStep
from deployments.runbooks.plan import (
    ParseWarning,
    Plan,
    PlanChecklist,
    PlanCommsRule,
    PlanEscalationLevel,
    PlanGate,
    PlanItem,
    PlanNote,
    PlanPerson,
    PlanPhase,
    PlanRole,
    PlanRollbackCriterion,
    PlanSignOff,
    PlanTemplate,
)
from deployments.runbooks.recognise import is_placeholder
from notifications.models import CommsRule, EscalationLevel, EscalationRole, MessageTemplate
from warroom import events
from warroom.people.models import Assignment, Person, Role

MANAGER_ROLE = re.compile(r"release\s+(manager|lead)|deployment\s+lead|change\s+manager", re.I)


class _Roles:
    """Roles of the release being built, found by name (case-insensitive), made on demand."""

    def __init__(self, release: Release):
        self.release = release
        self.by_key: dict[str, Role] = {}

    def get(self, name: str) -> Role | None:
        name = (name or "").strip()
        if not name:
            return None
        key = name.casefold()
        role = self.by_key.get(key)
        if role is None:
            role = Role.objects.create(
                release=self.release, name=name[:120], order=len(self.by_key), is_declared=False
            )
            self.by_key[key] = role
        return role


def _find_person(p: PlanPerson) -> Person | None:
    """The Person this runbook names, if Warroom already knows them: by email, else by
    exact name (someone who logs in first)."""
    if p.email.strip():
        found = Person.objects.filter(email__iexact=p.email.strip()).order_by("id").first()
        if found is not None:
            return found
    if p.name.strip() and not is_placeholder(p.name):
        return (
            Person.objects.filter(name=p.name)
            .order_by(F("user").asc(nulls_last=True), "id")
            .first()
        )
    return None


_FIELDS = (("name", "name"), ("email", "email"), ("phone", "phone"), ("slack", "slack_handle"))


def people_differences(plan: Plan) -> list[ParseWarning]:
    """Warnings (with the runbook's line) for people who already exist with other contact
    details; the import links them and keeps what is on record."""
    out = []
    for p in plan.people:
        found = _find_person(p)
        if found is None:
            continue
        for label, attr in _FIELDS:
            ours, theirs = getattr(p, label).strip(), (getattr(found, attr) or "").strip()
            if ours and theirs and ours.casefold() != theirs.casefold():
                out.append(
                    ParseWarning(
                        p.line,
                        f"{p.name or p.email} is already known as {found.name} "
                        f"<{found.email or 'no email'}>: this runbook's {label} '{ours}' "
                        f"differs from '{theirs}', which is kept",
                    )
                )
    return out


def _person(p: PlanPerson) -> Person:
    """The runbook's person: the same Person (and login) as on earlier releases when the
    email or the name matches, otherwise a new one. A known person's contact details are
    never overwritten (another release relies on them); only blanks are filled."""
    found = _find_person(p)
    if found is None:
        return Person.objects.create(
            name=p.name[:200], email=p.email[:254], phone=p.phone[:64], slack_handle=p.slack[:100]
        )
    blanks = [attr for label, attr in _FIELDS if getattr(p, label) and not getattr(found, attr)]
    for label, attr in _FIELDS:
        if attr in blanks:
            limit = getattr(Person._meta.get_field(attr), "max_length", None)
            setattr(found, attr, getattr(p, label)[:limit])
    if blanks:
        found.save(update_fields=blanks)
    return found


def _ordered_roles(through, owner_field: str, owner, roles: _Roles, names: list[str]) -> None:
    seen: set[int] = set()
    rows: list[Any] = []
    for name in names:
        role = roles.get(name)
        if role is not None and role.pk not in seen:
            seen.add(role.pk)
            rows.append(through(**{owner_field: owner}, role=role, order=len(rows)))
    through.objects.bulk_create(rows)


def _status(item: PlanItem) -> str:
    return ChecklistItem.Status.DONE if item.done else ChecklistItem.Status.TODO


def _tree(model, items: list[PlanItem], roles: _Roles, parent, start: int, **fixed) -> int:
    """Bulk-insert ``items`` (and their children, depth first) as ``model`` rows."""
    rows = [
        model(
            **fixed,
            parent=parent,
            order=start + n,
            text=i.text,
            owner_role=roles.get(i.owner_role),
            verification=i.verification,
            **({"status": _status(i)} if model is ChecklistItem else {}),
        )
        for n, i in enumerate(items)
    ]
    model.objects.bulk_create(rows)
    order = start + len(rows)
    for row, plan_item in zip(rows, items, strict=True):
        if plan_item.children:
            order = _tree(model, plan_item.children, roles, row, order, **fixed)
    return order


def _items(checklist: Checklist, items: list[PlanItem], roles: _Roles) -> None:
    _tree(ChecklistItem, items, roles, None, 0, checklist=checklist)


def _plan_rollback_steps(release: Release) -> list[PlanItem]:
    rows = list(release.rollback_steps.select_related("owner_role").order_by("order", "id"))
    children: dict[int | None, list[RollbackStep]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r)

    def build(parent: int | None) -> list[PlanItem]:
        return [
            PlanItem(
                text=r.text,
                owner_role=r.owner_role.name if r.owner_role else "",
                verification=r.verification,
                children=build(r.pk),
            )
            for r in children.get(parent, [])
        ]

    return build(None)


def _checklist(release, plan_checklist: PlanChecklist, roles, order, phase=None) -> Checklist:
    checklist = Checklist.objects.create(
        release=release,
        phase=phase,
        name=plan_checklist.name[:255],
        kind=plan_checklist.kind,
        due_offset=plan_checklist.due,
        order=order,
    )
    _items(checklist, plan_checklist.items, roles)
    return checklist


@transaction.atomic
def instantiate(
    plan: Plan, go_live_at: datetime, *, name: str = "", user=None, source_name: str = ""
) -> Release:
    """Create a Release from ``plan`` with T0 at ``go_live_at`` (aware datetime)."""
    release = Release.objects.create(
        name=(name or plan.title or "Untitled release")[:200],
        version=plan.version[:64],
        go_live_at=go_live_at,
        window_start=plan.window_start,
        window_end=plan.window_end,
        timezone=plan.timezone or "UTC",
        source_name=source_name[:255],
        created_by=user,
        notes=[{"title": n.title, "body": n.body} for n in plan.notes],
    )
    roles = _Roles(release)
    _people(release, plan, roles)
    order = _checklists(release, plan, roles)
    _gates(release, plan, roles, order)
    _rollback(release, plan, roles)
    _comms(release, plan)
    _escalation(release, plan, roles)
    events.record(
        release,
        "release.created",
        actor=user,
        data={
            "source": source_name,
            "go_live_at": go_live_at.isoformat(),
            **{k: v for k, v in plan.summary().items() if k != "warnings"},
        },
    )
    return release


def _people(release: Release, plan: Plan, roles: _Roles) -> None:
    """Contacts (known people linked, never overwritten) and the roles' seats."""
    people: dict[str, Person] = {}
    contacts = [_person(p) for p in plan.people]
    # roles name people as the runbook writes them; placeholders like "TBD" may repeat
    for written, person in zip(plan.people, contacts, strict=True):
        people.setdefault(written.name, person)
    # two contacts of the runbook can be one person: a seat's "[DBA: TBD]" and the escalation
    # row's "dba@example.com" with the same email; the release lists that person once
    listed = list({p.pk: p for p in contacts}.values())
    ReleaseContact.objects.bulk_create(
        ReleaseContact(release=release, person=p, order=n) for n, p in enumerate(listed)
    )
    manager_seen = False
    for n, pr in enumerate(plan.roles):
        role = roles.get(pr.name)
        if role is None:
            continue  # a role without a name has no seat to fill
        role.duty, role.kind, role.order, role.is_declared = pr.duty, pr.kind, n, True
        if not manager_seen and MANAGER_ROLE.search(pr.name):
            role.is_release_manager = manager_seen = True
        role.save()
        for kind, names in (
            (Assignment.Kind.PRIMARY, pr.primary),
            (Assignment.Kind.BACKUP, pr.backup),
        ):
            for order, person_name in enumerate(names):
                seated = people.get(person_name)
                if seated is None:
                    seated = people[person_name] = _person(PlanPerson(name=person_name))
                Assignment.objects.get_or_create(
                    role=role, person=seated, defaults={"kind": kind, "order": order}
                )


def _checklists(release: Release, plan: Plan, roles: _Roles) -> int:
    """Plan-level checklists, then phases with theirs; returns the next checklist order."""
    order = 0
    for c in plan.checklists:
        _checklist(release, c, roles, order)
        order += 1
    for n, pp in enumerate(plan.phases):
        phase = Phase.objects.create(
            release=release,
            order=n,
            name=pp.name[:255],
            start_offset=pp.start,
            duration=pp.duration,
            description=pp.description,
            participants=pp.participants,
        )
        for c in pp.checklists:
            _checklist(release, c, roles, order, phase=phase)
            order += 1
    return order


def _gates(release: Release, plan: Plan, roles: _Roles, order: int) -> None:
    for n, pg in enumerate(plan.gates):
        checklist = None
        if pg.checklist:
            checklist = _checklist(
                release,
                PlanChecklist(
                    name=f"{pg.name} checklist", items=pg.checklist, due=pg.at, kind="go_no_go"
                ),
                roles,
                order,
            )
            order += 1
        consensus, quorum = pg.consensus, None
        if consensus.startswith("quorum:"):
            consensus, quorum = "quorum", int(consensus.split(":", 1)[1])
        gate = Gate.objects.create(
            release=release,
            order=n,
            name=pg.name[:255],
            kind=pg.kind,
            at_offset=pg.at,
            consensus=consensus,
            quorum=quorum,
            checklist=checklist,
        )
        _ordered_roles(GateDecisionRole, "gate", gate, roles, pg.decision_roles)
        RequiredSignOff.objects.bulk_create(
            [
                RequiredSignOff(gate=gate, role=roles.get(so.role), criteria=so.criteria, order=k)
                for k, so in enumerate(pg.signoffs)
            ]
        )


def _rollback(release: Release, plan: Plan, roles: _Roles) -> None:
    """The rollback plan's steps (outside progress) and the criteria that call for it."""
    _tree(RollbackStep, plan.rollback_plan, roles, None, 0, release=release)
    RollbackCriterion.objects.bulk_create(
        [
            RollbackCriterion(
                release=release,
                order=n,
                metric=c.metric[:200],
                op=c.comparison,
                threshold=c.threshold,
                unit=c.unit[:20],
                for_s=int(c.duration.total_seconds()) if c.duration is not None else None,
                automatic=c.automatic,
                severity=c.severity,
                text=c.text,
                enabled=bool(c.comparison),  # a criterion in words only is judged by people
            )
            for n, c in enumerate(plan.rollback_criteria)
        ]
    )


def _comms(release: Release, plan: Plan) -> None:
    templates = {}
    for n, t in enumerate(plan.templates):
        templates[t.key] = MessageTemplate.objects.create(
            release=release,
            key=t.key[:100],
            name=t.name[:200],
            channel=t.channel[:32],
            subject=t.subject[:300],
            body=t.body,
            placeholders=t.placeholders,
            order=n,
        )
    CommsRule.objects.bulk_create(
        [
            CommsRule(
                release=release,
                order=n,
                name=r.name[:200],
                at_offset=r.at,
                interval=r.interval,
                milestone=r.milestone[:64],
                channels=r.channels,
                audience=r.audience[:300],
                template=templates.get(r.template),
                template_key=r.template[:100],
            )
            for n, r in enumerate(plan.comms_rules)
        ]
    )


def _escalation(release: Release, plan: Plan, roles: _Roles) -> None:
    for lvl in plan.escalation:
        level = EscalationLevel.objects.create(
            release=release,
            level=lvl.level,
            name=lvl.name[:200],
            after=lvl.after,
            until=lvl.until,
            contacts=list(lvl.contacts),
        )
        _ordered_roles(EscalationRole, "level", level, roles, lvl.roles)


def _plan_items(
    rows: list[ChecklistItem], children: dict[int, list[ChecklistItem]], *, keep_status: bool
) -> list[PlanItem]:
    return [
        PlanItem(
            text=i.text,
            done=keep_status and i.status == ChecklistItem.Status.DONE,
            owner_role=i.owner_role.name if i.owner_role else "",
            verification=i.verification,
            children=_plan_items(children.get(i.pk, []), children, keep_status=keep_status),
        )
        for i in rows
    ]


def plan_from_release(release: Release, *, keep_status: bool = True) -> Plan:
    """The Plan a release was made from (with its current ticks when ``keep_status``)."""
    items = list(
        ChecklistItem.objects.filter(checklist__release=release)
        .select_related("owner_role")
        .order_by("order", "id")
    )
    top: dict[int, list[ChecklistItem]] = {}
    children: dict[int, list[ChecklistItem]] = {}
    for i in items:
        if i.parent_id:
            children.setdefault(i.parent_id, []).append(i)
        else:
            top.setdefault(i.checklist_id, []).append(i)

    def plan_checklist(c: Checklist) -> PlanChecklist:
        return PlanChecklist(
            name=c.name,
            due=c.due_offset,
            kind=c.kind,
            items=_plan_items(top.get(c.pk, []), children, keep_status=keep_status),
        )

    checklists = list(release.checklists.order_by("order", "id"))
    gate_checklists = set(
        Gate.objects.filter(release=release)
        .exclude(checklist=None)
        .values_list("checklist_id", flat=True)
    )
    by_phase: dict[int | None, list[Checklist]] = {}
    for c in checklists:
        if c.pk not in gate_checklists:
            by_phase.setdefault(c.phase_id, []).append(c)
    assignments = list(
        Assignment.objects.filter(role__release=release)
        .select_related("person")
        .order_by("order", "id")
    )
    roles = list(release.roles.order_by("order", "id"))
    levels = list(release.escalation_levels.all())
    level_roles: dict[int, list[str]] = {}
    for er in EscalationRole.objects.filter(level__release=release).select_related("role"):
        level_roles.setdefault(er.level_id, []).append(er.role.name)
    plan = Plan(
        title=release.name,
        version=release.version,
        timezone=release.timezone,
        window_start=release.window_start,
        window_end=release.window_end,
        checklists=[plan_checklist(c) for c in by_phase.get(None, [])],
        phases=[
            PlanPhase(
                name=p.name,
                start=p.start_offset,
                duration=p.duration,
                description=p.description,
                participants=list(p.participants),
                checklists=[plan_checklist(c) for c in by_phase.get(p.pk, [])],
            )
            for p in release.phases.order_by("order", "id")
        ],
        roles=[
            PlanRole(
                name=r.name,
                duty=r.duty,
                kind=r.kind,
                primary=[
                    a.person.name
                    for a in assignments
                    if a.role_id == r.pk and a.kind == Assignment.Kind.PRIMARY
                ],
                backup=[
                    a.person.name
                    for a in assignments
                    if a.role_id == r.pk and a.kind == Assignment.Kind.BACKUP
                ],
            )
            for r in roles
            if r.is_declared
        ],
        people=[
            PlanPerson(name=p.name, email=p.email, phone=p.phone, slack=p.slack_handle)
            for p in release.contacts.order_by("releasecontact__order")
        ],
        escalation=[
            PlanEscalationLevel(
                level=lvl.level,
                name=lvl.name,
                roles=level_roles.get(lvl.pk, []),
                contacts=list(lvl.contacts),
                after=lvl.after,
                until=lvl.until,
            )
            for lvl in levels
        ],
        rollback_plan=_plan_rollback_steps(release),
        rollback_criteria=[
            PlanRollbackCriterion(
                metric=c.metric,
                comparison=c.op,
                threshold=c.threshold,
                unit=c.unit,
                duration=timedelta(seconds=c.for_s) if c.for_s is not None else None,
                automatic=c.automatic,
                severity=c.severity,
                text=c.text,
            )
            for c in release.rollback_criteria.order_by("order", "id")
        ],
        templates=[
            PlanTemplate(
                key=t.key,
                name=t.name,
                subject=t.subject,
                body=t.body,
                channel=t.channel,
                placeholders=list(t.placeholders),
            )
            for t in release.message_templates.order_by("order", "id")
        ],
        comms_rules=[
            PlanCommsRule(
                name=r.name,
                at=r.at_offset,
                interval=r.interval,
                milestone=r.milestone,
                channels=list(r.channels),
                audience=r.audience,
                template=r.template_key,
            )
            for r in release.comms_rules.select_related("template").order_by("order", "id")
        ],
        gates=[],
        notes=[PlanNote(title=n.get("title", ""), body=n.get("body", "")) for n in release.notes],
    )
    for g in (
        Gate.objects.filter(release=release)
        .prefetch_related("decision_roles")
        .select_related("checklist")
        .order_by("order", "id")
    ):
        plan.gates.append(
            PlanGate(
                name=g.name,
                kind=g.kind,
                at=g.at_offset,
                decision_roles=[
                    d.role.name
                    for d in GateDecisionRole.objects.filter(gate=g).select_related("role")
                ],
                signoffs=[
                    PlanSignOff(role=r.role.name, criteria=r.criteria)
                    for r in g.required_signoffs.select_related("role")
                ],
                checklist=plan_checklist(g.checklist).items if g.checklist else [],
                consensus=f"quorum:{g.quorum}" if g.consensus == "quorum" else "all",
            )
        )
    return plan
