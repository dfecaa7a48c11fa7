"""Escalation in the API: the policy's levels, PagerDuty, on-call schedules, pages."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from ninja import Field, Router, Schema
from ninja.responses import Status

from notifications import escalation, oncall
from notifications.escalation_models import OnCallOverride, OnCallSchedule, OnCallShift
from warroom import policies
from warroom.access import object_in, release_for
from warroom.api import FILLED, WRITE_ERRORS, BodyIn, responses

router = Router()


class LevelSchema(Schema):
    level: int = Field(ge=1, le=99)
    name: str = Field(max_length=200)
    after_minutes: int = Field(ge=0, le=100000)
    roles: list[str] = []
    contacts: list[str] = []


class PolicyIn(BodyIn):
    levels: list[LevelSchema]


def _levels(levels) -> list[dict]:
    return [
        {
            "level": lv.level,
            "name": lv.name,
            "after_minutes": int(lv.after.total_seconds() // 60) if lv.after else 0,
            "roles": [r.name for r in lv.roles.all()],
            "contacts": list(lv.contacts),
        }
        for lv in levels
    ]


@router.get(
    "/releases/{release_id}/escalation/levels",
    response=responses({200: list[LevelSchema]}),
    tags=["escalation"],
)
def get_policy(request, release_id: int):
    """The release's escalation matrix: levels, when each fires, whom it pages."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return _levels(escalation.policy_of(release))


@router.put(
    "/releases/{release_id}/escalation/levels",
    response=responses({200: list[LevelSchema]}, WRITE_ERRORS),
    tags=["escalation"],
)
def set_policy(request, release_id: int, payload: PolicyIn):
    """Replace the matrix (the release manager); a level without contacts is refused."""
    release, _ = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "escalation policy"}
    )
    escalation.policy_set(
        release=release,
        user=request.user,
        levels=[
            escalation.LevelIn(
                lv.level, lv.name, lv.after_minutes, tuple(lv.roles), tuple(lv.contacts)
            )
            for lv in payload.levels
        ],
    )
    return _levels(escalation.policy_of(release))


class RouteIn(BodyIn):
    routing_key: str = Field(max_length=200)
    enabled: bool = True


class RouteOut(Schema):
    enabled: bool
    routing_key_end: str


@router.put(
    "/releases/{release_id}/escalation/pagerduty",
    response=responses({200: RouteOut}, WRITE_ERRORS),
    tags=["escalation"],
)
def set_pagerduty(request, release_id: int, payload: RouteIn):
    """Trigger PagerDuty incidents for this release's escalations (Events v2 routing key)."""
    release, _ = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "PagerDuty"}
    )
    route = escalation.pagerduty_connect(
        release=release, user=request.user, routing_key=payload.routing_key, enabled=payload.enabled
    )
    return {"enabled": route.enabled, "routing_key_end": route.routing_key[-4:]}


class ShiftIn(BodyIn):
    starts_at: datetime
    ends_at: datetime
    primary: str = Field(pattern=FILLED, max_length=200)
    backup: str = Field("", max_length=200)


class OverrideIn(BodyIn):
    starts_at: datetime
    ends_at: datetime
    person: str = Field(pattern=FILLED, max_length=200)
    note: str = Field("", max_length=300)


class SpanOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime


@router.post(
    "/releases/{release_id}/oncall/{role}/shifts",
    response=responses({201: SpanOut}, WRITE_ERRORS),
    tags=["escalation"],
)
def add_shift(request, release_id: int, role: str, payload: ShiftIn):
    """Add a shift (primary and backup) to the role's on-call schedule; no overlaps."""
    release, _ = release_for(
        request.user, release_id, policies.Action.MANAGE_PEOPLE, target={"what": "on-call"}
    )
    with transaction.atomic():  # refused: the role's schedule is not made either
        schedule = oncall.schedule_for(release=release, user=request.user, role_name=role)
        shift = oncall.shift_add(schedule=schedule, user=request.user, **payload.dict())
    return Status(201, shift)


@router.post(
    "/releases/{release_id}/oncall/{role}/overrides",
    response=responses({201: SpanOut}, WRITE_ERRORS),
    tags=["escalation"],
)
def add_override(request, release_id: int, role: str, payload: OverrideIn):
    """A swap: someone else is on call for a while."""
    release, _ = release_for(
        request.user, release_id, policies.Action.MANAGE_PEOPLE, target={"what": "on-call"}
    )
    with transaction.atomic():  # refused: the role's schedule is not made either
        schedule = oncall.schedule_for(release=release, user=request.user, role_name=role)
        found = oncall.override_add(schedule=schedule, user=request.user, **payload.dict())
    return Status(201, found)


def _manager(request, release_id: int):
    release, _ = release_for(
        request.user, release_id, policies.Action.MANAGE_PEOPLE, target={"what": "on-call"}
    )
    return release


def shift_in(release, shift_id: int) -> OnCallShift:
    return object_in(
        OnCallShift.objects.select_related("schedule__release", "primary"),
        shift_id,
        schedule__release=release,
    )


def override_in(release, override_id: int) -> OnCallOverride:
    return object_in(
        OnCallOverride.objects.select_related("schedule__release", "person"),
        override_id,
        schedule__release=release,
    )


@router.put(
    "/releases/{release_id}/oncall/shifts/{shift_id}",
    response=responses({200: SpanOut}, WRITE_ERRORS),
    tags=["escalation"],
)
def change_shift(request, release_id: int, shift_id: int, payload: ShiftIn):
    """Change a shift's times, primary and backup (the same checks as adding one)."""
    shift = shift_in(_manager(request, release_id), shift_id)
    return oncall.shift_change(shift=shift, user=request.user, **payload.dict())


@router.delete(
    "/releases/{release_id}/oncall/shifts/{shift_id}",
    response=responses({204: None}, WRITE_ERRORS),
    tags=["escalation"],
)
def delete_shift(request, release_id: int, shift_id: int):
    """Take a shift off its schedule."""
    oncall.shift_delete(shift=shift_in(_manager(request, release_id), shift_id), user=request.user)
    return Status(204, None)


@router.delete(
    "/releases/{release_id}/oncall/overrides/{override_id}",
    response=responses({204: None}, WRITE_ERRORS),
    tags=["escalation"],
)
def delete_override(request, release_id: int, override_id: int):
    """Undo a swap."""
    found = override_in(_manager(request, release_id), override_id)
    oncall.override_delete(override=found, user=request.user)
    return Status(204, None)


def schedule_in(release, schedule_id: int) -> OnCallSchedule:
    return object_in(OnCallSchedule.objects.select_related("release"), schedule_id, release=release)
