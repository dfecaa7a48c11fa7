"""Admin for escalation and on-call (loaded from the app's config; see escalation_models)."""

from __future__ import annotations

from django.contrib import admin

from notifications.escalation_models import (
    Escalation,
    EscalationStep,
    OnCallOverride,
    OnCallSchedule,
    OnCallShift,
    Page,
    PagerDutyEvent,
    PagerDutyRoute,
)
from warroom.admin import AuditedModelAdmin, ReadOnlyAdmin


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "title", "release", "started_at", "stopped_at", "closed_at")


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnlyAdmin):
    list_display = ("escalation", "level", "name", "due_at", "fired_at")


@admin.register(Page)
class PageAdmin(ReadOnlyAdmin):
    list_display = ("person_name", "channels", "release", "due_at", "created_at")


@admin.register(PagerDutyEvent)
class PagerDutyEventAdmin(ReadOnlyAdmin):
    list_display = ("dedup_key", "action", "state", "attempts", "created_at", "sent_at")


@admin.register(PagerDutyRoute)
class PagerDutyRouteAdmin(AuditedModelAdmin):
    list_display = ("release", "enabled")


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(AuditedModelAdmin):
    list_display = ("name", "role", "release")


@admin.register(OnCallShift)
class OnCallShiftAdmin(AuditedModelAdmin):
    list_display = ("schedule", "starts_at", "ends_at", "primary", "backup")
    release_path = "schedule.release"


@admin.register(OnCallOverride)
class OnCallOverrideAdmin(AuditedModelAdmin):
    list_display = ("schedule", "starts_at", "ends_at", "person")
    release_path = "schedule.release"
