"""On-call schedules: who holds a role ("On-Call Engineer") right now.

A schedule belongs to one role of a release; its shifts (a primary and a backup each,
e.g. Fri 08:00-20:00) may not overlap; an override puts someone else on call for a while
(a swap) without touching the shift. :func:`on_call_now` is what escalation asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import Prefetch

from deployments.runbooks.recognise import TZ_OFFSETS
from notifications.escalation_models import OnCallOverride, OnCallSchedule, OnCallShift
from warroom import events, policies
from warroom.clock import format_offset
from warroom.errors import FieldError
from warroom.people.models import Person, Role


def on_call_now(role_ids, now: datetime) -> dict[int, tuple[Person, Person | None]]:
    """(primary, backup) on call at ``now`` for each role that has a schedule covering it."""
    found: dict[int, tuple[Person, Person | None]] = {}
    shifts = OnCallShift.objects.filter(
        schedule__role_id__in=list(role_ids), starts_at__lte=now, ends_at__gt=now
    ).select_related("schedule", "primary", "backup")
    for s in shifts:
        found[s.schedule.role_id] = (s.primary, s.backup)
    overrides = OnCallOverride.objects.filter(
        schedule__role_id__in=list(role_ids), starts_at__lte=now, ends_at__gt=now
    ).select_related("schedule", "person")
    for o in overrides:
        backup = found.get(o.schedule.role_id, (o.person, None))[1]
        found[o.schedule.role_id] = (o.person, backup)
    return found


def _person(release, name: str, field: str) -> Person:
    person = (
        Person.objects.filter(assignments__role__release=release, name__iexact=(name or "").strip())
        .distinct()
        .first()
    )
    if person is None:
        raise FieldError(field, f"nobody called {name!r} is on this release")
    return person


def _span(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime]:
    if starts_at is None or starts_at.tzinfo is None:
        raise FieldError("starts_at", "needs a date and time with a time zone")
    if ends_at is None or ends_at.tzinfo is None:
        raise FieldError("ends_at", "needs a date and time with a time zone")
    if ends_at <= starts_at:
        raise FieldError("ends_at", "must be after starts_at")
    return starts_at, ends_at


def schedule_for(*, release, user, role_name: str) -> OnCallSchedule:
    """The role's schedule, made on first use (the release manager)."""
    _allowed(user, release, "on-call schedule")
    role = Role.objects.filter(release=release, name__iexact=(role_name or "").strip()).first()
    if role is None:
        raise FieldError("role", f"the release has no role called {role_name!r}")
    found, _ = OnCallSchedule.objects.get_or_create(
        release=release, role=role, defaults={"name": f"{role.name} rotation"}
    )
    return found


def _allowed(user, release, what: str) -> None:
    policies.require(
        policies.standing(user, release),
        policies.Action.MANAGE_PEOPLE,
        release,
        target={"what": what},
    )


def release_zone(release) -> tzinfo:
    """The release's own time zone: an IANA name ("Europe/Berlin"), or an abbreviation a
    runbook writes ("MSK", "CET") as its fixed offset; UTC when it is neither."""
    name = (getattr(release, "timezone", "") or "UTC").strip()
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        hours = TZ_OFFSETS.get(name.upper())
        return UTC if hours is None else timezone(timedelta(hours=hours), name.upper())


def _when(release, moment: datetime) -> str:
    """``Fri 20 Nov 2026 09:00 CET (T-2:00)``: in the release's time zone, with T-offset."""
    local = moment.astimezone(release_zone(release))
    offset = format_offset(moment - release.go_live_at)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()} ({offset})"


class Overlap(FieldError):
    """A shift or swap that runs into another one: the field at fault, whose it is and its
    times (the contacts page shows them in the viewer's own time and as T-offset; the
    message, for the API, in the release's time zone)."""

    def __init__(self, field: str, release, whose: str, starts_at: datetime, ends_at: datetime):
        super().__init__(
            field,
            f"overlaps {whose} ({_when(release, starts_at)} to {_when(release, ends_at)})",
        )
        self.whose = whose
        self.starts_at, self.ends_at = starts_at, ends_at
        self.starts_offset = starts_at - release.go_live_at
        self.ends_offset = ends_at - release.go_live_at


def _checked_shift(schedule, starts_at, ends_at, primary: str, backup: str, *, keep=None):
    """The shift's span and people, or a FieldError naming the field; ``keep`` is the shift
    being edited (it does not clash with itself). Call under the release's lock."""
    starts_at, ends_at = _span(starts_at, ends_at)
    first = _person(schedule.release, primary, "primary")
    second = _person(schedule.release, backup, "backup") if (backup or "").strip() else None
    if second is not None and second.pk == first.pk:
        raise FieldError("backup", "must be someone other than the primary")
    others = schedule.shifts.exclude(pk=keep.pk) if keep is not None else schedule.shifts.all()
    clash = (
        others.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("primary")
        .first()
    )
    if clash is not None:
        # Name the end of the new shift that runs into the other one.
        field = "starts_at" if clash.starts_at <= starts_at else "ends_at"
        raise Overlap(
            field,
            schedule.release,
            f"the shift of {clash.primary.name}",
            clash.starts_at,
            clash.ends_at,
        )
    return starts_at, ends_at, first, second


def _shift_event(release, user, schedule, what: str, starts_at, ends_at) -> None:
    events.record(
        release,
        "oncall.changed",
        actor=user,
        data={
            "schedule": schedule.name,
            "what": what,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
    )


def _who(first: Person, second: Person | None) -> str:
    return first.name + (f" with {second.name} as backup" if second else "")


def shift_add(
    *,
    schedule: OnCallSchedule,
    user,
    starts_at: datetime | None,
    ends_at: datetime | None,
    primary: str,
    backup: str = "",
) -> OnCallShift:
    """Add a shift; one that overlaps another of the schedule is refused, naming it."""
    release = schedule.release
    _allowed(user, release, "on-call shift")
    with transaction.atomic():
        events.lock_head(release)
        starts_at, ends_at, first, second = _checked_shift(
            schedule, starts_at, ends_at, primary, backup
        )
        shift = OnCallShift.objects.create(
            schedule=schedule, starts_at=starts_at, ends_at=ends_at, primary=first, backup=second
        )
        _shift_event(
            release, user, schedule, f"put {_who(first, second)} on call", starts_at, ends_at
        )
    return shift


def shift_change(
    *,
    shift: OnCallShift,
    user,
    starts_at: datetime | None,
    ends_at: datetime | None,
    primary: str,
    backup: str = "",
) -> OnCallShift:
    """Edit a shift (times, primary, backup); the same checks as adding one."""
    schedule = shift.schedule
    release = schedule.release
    _allowed(user, release, "on-call shift")
    with transaction.atomic():
        events.lock_head(release)
        starts_at, ends_at, first, second = _checked_shift(
            schedule, starts_at, ends_at, primary, backup, keep=shift
        )
        shift.starts_at, shift.ends_at, shift.primary, shift.backup = (
            starts_at, ends_at, first, second
        )  # fmt: skip
        shift.save(update_fields=["starts_at", "ends_at", "primary", "backup"])
        _shift_event(
            release, user, schedule, f"changed a shift: {_who(first, second)}", starts_at, ends_at
        )
    return shift


def shift_delete(*, shift: OnCallShift, user) -> None:
    """Take a shift off the schedule."""
    _remove(shift, user, "on-call shift", f"removed the shift of {shift.primary.name}")


def override_delete(*, override: OnCallOverride, user) -> None:
    """Undo a swap."""
    _remove(override, user, "on-call override", f"removed the swap for {override.person.name}")


def _remove(entry: OnCallShift | OnCallOverride, user, what: str, said: str) -> None:
    schedule = entry.schedule
    release = schedule.release
    _allowed(user, release, what)
    with transaction.atomic():
        events.lock_head(release)
        deleted, _ = type(entry).objects.filter(pk=entry.pk).delete()
        if deleted:  # (already gone: a second click changes nothing)
            _shift_event(release, user, schedule, said, entry.starts_at, entry.ends_at)


def override_add(
    *,
    schedule: OnCallSchedule,
    user,
    starts_at: datetime | None,
    ends_at: datetime | None,
    person: str,
    note: str = "",
) -> OnCallOverride:
    """A swap: ``person`` is on call instead for a while (overrides may not overlap)."""
    release = schedule.release
    _allowed(user, release, "on-call override")
    starts_at, ends_at = _span(starts_at, ends_at)
    who = _person(release, person, "person")
    with transaction.atomic():
        events.lock_head(release)
        clash = schedule.overrides.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).first()
        if clash is not None:
            field = "starts_at" if clash.starts_at <= starts_at else "ends_at"
            raise Overlap(
                field, release, f"the swap for {clash.person.name}", clash.starts_at, clash.ends_at
            )
        found = OnCallOverride.objects.create(
            schedule=schedule, starts_at=starts_at, ends_at=ends_at, person=who, note=note[:300]
        )
        _shift_event(release, user, schedule, f"swapped in {who.name}", starts_at, ends_at)
    return found


def _ics_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _ics_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics(schedule: OnCallSchedule, host: str = "warroom") -> str:
    """The schedule as an iCalendar feed (RFC 5545): one event per shift and override."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Warroom//On-call//EN",
        f"X-WR-CALNAME:{_ics_text(schedule.name)}",
    ]
    stamp = _ics_time(schedule.release.created_at)
    entries = [
        (f"shift-{s.pk}", s.starts_at, s.ends_at, f"On call: {s.primary.name}", s.backup)
        for s in schedule.shifts.select_related("primary", "backup")
    ] + [
        (f"override-{o.pk}", o.starts_at, o.ends_at, f"On call (swap): {o.person.name}", None)
        for o in schedule.overrides.select_related("person")
    ]
    for uid, start, end, summary, backup in sorted(entries, key=lambda e: e[1]):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}-{schedule.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(start)}",
            f"DTEND:{_ics_time(end)}",
            f"SUMMARY:{_ics_text(summary)}",
        ]
        if backup is not None:
            lines.append(f"DESCRIPTION:{_ics_text(f'Backup: {backup.name}')}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


@dataclass
class Seat:
    """A role with who holds it: primaries, backups, who is on call now; unfilled or not."""

    role: Role
    primary: list[Person]
    backup: list[Person]
    on_call: tuple[Person, Person | None] | None
    schedule: OnCallSchedule | None

    @property
    def unfilled(self) -> bool:
        return not self.on_call and not [p for p in self.primary if not p.is_placeholder]


def contact_sheet(release, now: datetime) -> list[Seat]:
    """Every role of the release with its people (a fixed number of queries)."""
    roles = list(Role.objects.filter(release=release).prefetch_related("assignments__person"))
    schedules = {s.role_id: s for s in OnCallSchedule.objects.filter(release=release)}
    current = on_call_now([r.pk for r in roles], now)
    seats = []
    for role in roles:
        people = {"primary": [], "backup": []}  # type: dict[str, list[Person]]
        for a in role.assignments.all():
            people[a.kind].append(a.person)
        seats.append(
            Seat(
                role,
                people["primary"],
                people["backup"],
                current.get(role.pk),
                schedules.get(role.pk),
            )
        )
    return seats


def schedules_of(release) -> list[OnCallSchedule]:
    """The release's on-call schedules with their shifts and swaps, in time order."""
    return list(
        OnCallSchedule.objects.filter(release=release)
        .select_related("role")
        .prefetch_related(
            Prefetch(
                "shifts",
                OnCallShift.objects.select_related("primary", "backup").order_by("starts_at"),
            ),
            Prefetch(
                "overrides", OnCallOverride.objects.select_related("person").order_by("starts_at")
            ),
        )
        .order_by("role__name")
    )
