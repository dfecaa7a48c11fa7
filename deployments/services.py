"""Writes to releases. Each service checks the policy and records its event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from deployments.models import Release, Step, StepRun, new_board_token
from warroom import clock, events, policies, revoke
from warroom.errors import FieldError
from warroom.people import services as people
from warroom.people.models import Assignment, Person, Role
from warroom.validation import clean_text


def check_go_live_at(go_live_at) -> None:
    """A go-live time must name its zone and lie within ``GO_LIVE_WINDOW_DAYS`` of today
    (a typo like year 9999 would put every phase and due time out of reach)."""
    if go_live_at.tzinfo is None:
        raise FieldError("go_live_at", "needs a time zone (e.g. 2026-12-19T22:00Z)")
    window = timedelta(days=settings.GO_LIVE_WINDOW_DAYS)
    now = clock.now()
    if not now - window <= go_live_at <= now + window:
        raise FieldError(
            "go_live_at",
            f"must be within {settings.GO_LIVE_WINDOW_DAYS} days of today "
            f"({(now - window):%Y-%m-%d} to {(now + window):%Y-%m-%d})",
        )


def release_rotate_board_link(
    *, release: Release, user, standing: policies.Standing | None = None
) -> Release:
    """Replace the board's secret link; the old link stops working at once."""
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"what": "board link"})
    with transaction.atomic():
        old = release.board_token
        release.board_token = new_board_token()
        release.save(update_fields=["board_token"])
        events.record(release, "board.link_rotated", actor=user, data={})
        # Boards open with the old link are closed once this commits.
        revoke.credential_ended(revoke.credential_digest("board", old))
    return release


def release_edit(
    *,
    release: Release,
    user,
    name: str | None = None,
    go_live_at=None,
    standing: policies.Standing | None = None,
) -> Release:
    """Rename a release or move its T0; everything timed relative to T0 moves with it."""
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"what": "release"})
    changes: dict = {}
    if name is not None:
        name_max = Release._meta.get_field("name").max_length
        name = clean_text(name.strip(), field="name", max_length=name_max)
        if not name:
            raise FieldError("name", "must not be empty")
        changes["name"] = (release.name, name)
        release.name = name
    if go_live_at is not None:
        check_go_live_at(go_live_at)
        changes["go_live_at"] = (release.go_live_at.isoformat(), go_live_at.isoformat())
        release.go_live_at = go_live_at
    if not changes:
        return release
    with transaction.atomic():
        release.save(update_fields=[k for k in ("name", "go_live_at") if k in changes])
        events.record(
            release,
            "release.edited",
            actor=user,
            data={k: {"from": a, "to": b} for k, (a, b) in changes.items()},
        )
    return release


def release_pin_status(
    *,
    release: Release,
    user,
    text: str,
    next_update_at=None,
    standing: policies.Standing | None = None,
) -> Release:
    """Pin the status line stakeholders read on the board (empty text unpins it)."""
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"what": "status line"})
    max_length = Release._meta.get_field("status_line").max_length
    text = clean_text((text or "").strip(), field="text", max_length=max_length)
    if next_update_at is not None:
        if next_update_at.tzinfo is None:
            raise FieldError("next_update_at", "needs a time zone (e.g. 2026-12-19T23:45Z)")
        if next_update_at <= clock.now():
            raise FieldError("next_update_at", "is in the past")
    with transaction.atomic():
        release.status_line = text
        release.status_line_by = events.actor_label_for(user)
        release.status_line_at = clock.now() if text else None
        release.next_update_at = next_update_at if text else None
        release.save(
            update_fields=["status_line", "status_line_by", "status_line_at", "next_update_at"]
        )
        events.record(
            release,
            "release.status_pinned",
            actor=user,
            data={
                "text": text,
                "next_update_at": next_update_at.isoformat() if next_update_at else None,
            },
        )
    return release


def step_request_run(*, step: Step, user, standing: policies.Standing | None = None) -> StepRun:
    """Run (or retry) ``step`` now: stored, then dispatched to a worker by the engine."""
    from deployments import engine

    return engine.step_request_run(step=step, user=user, standing=standing)


def role_assign(
    *, role: Role, username: str, kind: str, user, standing: policies.Standing | None = None
) -> Assignment:
    """Put a user (by username) on a role as primary or backup."""
    from django.contrib.auth import get_user_model

    release = role.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.MANAGE_PEOPLE, release, target={"role": role.name, "username": username}
    )
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise FieldError("username", f"no user called {username!r}")
    with transaction.atomic():
        person, _ = Person.objects.get_or_create(
            user=member,
            defaults={"name": member.get_full_name() or member.username, "email": member.email},
        )
        assignment, created = Assignment.objects.update_or_create(
            role=role, person=person, defaults={"kind": kind}
        )
        if member != user:
            people.notify(
                member,
                f"You were added to {release.name} as {role.name}"
                + (" (backup)" if kind == "backup" else "")
                + f" by {events.actor_label_for(user)}",
                release=release,
            )
        events.record(
            release,
            "people.assigned",
            actor=user,
            data={
                "role": role.name,
                "person": person.name,
                "kind": kind,
                "new": created,
                **_decides(role),
            },
        )
    return assignment


def runbook_limits() -> tuple[int, int]:
    """(bytes, items) a runbook may have: settings RUNBOOK_MAX_BYTES and RUNBOOK_MAX_ITEMS."""
    from deployments.runbooks.parse import MAX_BYTES, MAX_ITEMS

    return (
        int(getattr(settings, "RUNBOOK_MAX_BYTES", MAX_BYTES)),
        int(getattr(settings, "RUNBOOK_MAX_ITEMS", MAX_ITEMS)),
    )


def _decides(role: Role) -> dict:
    """The gates ``role`` decides, for the audit of who holds it (separation of duties)."""
    gates = list(role.gates_deciding.order_by("order", "id").values_list("name", flat=True))
    return {"decides": gates} if gates else {}


def role_unassign(
    *, role: Role, username: str, user, standing: policies.Standing | None = None
) -> None:
    """Take a user off a role; their open pages of the release close if that was their
    last reason to see it (warroom.revoke)."""
    release = role.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.MANAGE_PEOPLE, release, target={"role": role.name, "username": username}
    )
    username = clean_text(username, field="username", max_length=150)
    assignment = (
        Assignment.objects.select_related("person")
        .filter(role=role, person__user__username=username)
        .first()
    )
    if assignment is None:
        raise FieldError("username", f"{username!r} does not hold {role.name}")
    with transaction.atomic():
        assignment.delete()
        events.record(
            release,
            "people.unassigned",
            actor=user,
            data={
                "role": role.name,
                "person": assignment.person.name,
                "kind": assignment.kind,
                **_decides(role),
            },
        )


def runbook_preview(raw: bytes | str, *, source_name: str = "", compare_people: bool = True):
    """Parse a runbook without writing anything; returns (plan, repaired text).

    ``compare_people``: warn where the runbook's people differ from those on record (it
    reads the database; a pipeline that only validates runbooks may have none)."""
    from deployments.runbooks.instantiate import people_differences
    from deployments.runbooks.parse import parse_runbook

    max_bytes, max_items = runbook_limits()
    # raises RunbookError on bad bytes, or over a limit
    plan = parse_runbook(raw, source_name=source_name, max_bytes=max_bytes, max_items=max_items)
    if compare_people:
        plan.warnings = sorted([*plan.warnings, *people_differences(plan)], key=lambda w: w.line)
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    return plan, text


def release_import(
    *, plan, go_live_at, user=None, name: str = "", source_name: str = ""
) -> Release:
    """Create a release from a parsed plan (all or nothing). The importer becomes its manager."""
    from deployments.runbooks import steps_block
    from deployments.runbooks.instantiate import instantiate

    policies.require_create(user)
    check_go_live_at(go_live_at)
    specs = steps_block.read(plan)  # the automated steps: checked before anything is written
    steps_block.strip(plan)
    with transaction.atomic():
        release = instantiate(plan, go_live_at, name=name, user=user, source_name=source_name)
        Step.objects.bulk_create(steps_block.build(release, specs))
    return release


def release_export(*, release: Release) -> str:
    """The release as a markdown runbook (times relative to T0, ticks kept)."""
    from deployments.runbooks import steps_block
    from deployments.runbooks.export import render_plan
    from deployments.runbooks.instantiate import plan_from_release

    return render_plan(plan_from_release(release)) + steps_block.render(release)


def release_team(release: Release) -> list[tuple[Role, list[Assignment]]]:
    """The roles of ``release`` with who holds them (primaries first), for choosing a copy's
    team."""
    held: dict[int, list[Assignment]] = {}
    for a in (
        Assignment.objects.filter(role__release=release)
        .select_related("person")
        .order_by("role_id", "-kind", "order", "id")
    ):
        held.setdefault(a.role_id, []).append(a)
    return [(role, held.get(role.pk, [])) for role in release.roles.order_by("order", "id")]


def release_clone(
    *, release: Release, go_live_at, user, name: str = "", team: Iterable[int] = ()
) -> Release:
    """A fresh release from a past one's plan (nothing ticked), at another go-live time.

    Only those who manage ``release`` may reuse it (its plan names the team). The copy's
    team is chosen, not copied: ``team`` lists the assignments of ``release`` (ids) to
    carry over; every other seat starts empty, and whoever reuses it manages the copy.
    Each person carried over is told in the app."""
    from deployments.runbooks.instantiate import instantiate, plan_from_release

    st = policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"what": "reuse as template"})
    policies.require_create(user)
    chosen_ids = set(team)
    chosen = {
        (a.role.name, a.person.name)
        for a in Assignment.objects.filter(pk__in=chosen_ids, role__release=release).select_related(
            "role", "person"
        )
    }
    if len(chosen) != len(chosen_ids):
        raise FieldError("team", f"names people who are not on {release.name}")
    from deployments.runbooks import steps_block

    plan = plan_from_release(release, keep_status=False)
    for role in plan.roles:
        role.primary = [n for n in role.primary if (role.name, n) in chosen]
        role.backup = [n for n in role.backup if (role.name, n) in chosen]
    check_go_live_at(go_live_at)
    with transaction.atomic():
        new = instantiate(
            plan,
            go_live_at,
            name=name or release.name,
            user=user,
            source_name=f"release {release.pk}",
        )
        by = events.actor_label_for(user)
        for a in (
            Assignment.objects.filter(role__release=new, person__user__isnull=False)
            .exclude(person__user=user)
            .select_related("role", "person__user")
        ):
            backup = " (backup)" if a.kind == Assignment.Kind.BACKUP else ""
            people.notify(
                a.person.user,
                f"You were added to {new.name} as {a.role.name}{backup} by {by}",
                release=new,
            )
        Step.objects.bulk_create(steps_block.build(new, steps_block.specs_of(release)))
    return new
