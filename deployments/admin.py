"""Admin for releases, phases, steps, criteria and issues. Every edit is an audited event;
moving T0 or renaming goes through the same service as the API."""

from django.contrib import admin

from deployments import services
from deployments.models import (
    ClockMark,
    ClockWatch,
    EngineRequest,
    Phase,
    PipelineToken,
    Release,
    ReleaseContact,
    RollbackCriterion,
    RollbackStep,
    Step,
    StepRun,
    WarIssue,
)
from warroom.admin import AuditedModelAdmin, ReadOnlyAdmin


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("order", "name", "start_offset", "duration", "status")


@admin.register(Release)
class ReleaseAdmin(AuditedModelAdmin):
    list_display = ("name", "version", "status", "go_live_at", "last_seq")
    list_filter = ("status",)
    search_fields = ("name", "version")
    # Status changes are actions (start, close, roll back) with their own events; the
    # board link is rotated, never typed; the chain's head belongs to events.record.
    readonly_fields = (
        "status",
        "board_token",
        "started_at",
        "finished_at",
        "paused_at",
        "last_seq",
        "last_hash",
        "created_at",
    )
    inlines = [PhaseInline]
    release_path = ""
    THROUGH_SERVICE = ("name", "go_live_at")

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Rename and T0 go through release_edit (policy, event, broadcast); the rest is
        # saved and audited as an admin edit.
        edits = {f: getattr(obj, f) for f in self.THROUGH_SERVICE if f in form.changed_data}
        current = Release.objects.get(pk=obj.pk)
        for f in edits:
            setattr(obj, f, getattr(current, f))
        form.changed_data = [f for f in form.changed_data if f not in edits]
        super().save_model(request, obj, form, change)
        if edits:
            services.release_edit(release=obj, user=request.user, **edits)


@admin.register(ReleaseContact)
class ReleaseContactAdmin(AuditedModelAdmin):
    list_display = ("person", "release", "order")


@admin.register(Phase)
class PhaseAdmin(AuditedModelAdmin):
    list_display = ("name", "release", "start_offset", "duration", "status")
    list_filter = ("status",)


@admin.register(Step)
class StepAdmin(AuditedModelAdmin):
    list_display = ("title", "phase", "kind", "order")
    release_path = "phase.release"


@admin.register(StepRun)
class StepRunAdmin(AuditedModelAdmin):
    list_display = ("step", "attempt", "status", "lease_owner", "started_at", "finished_at")
    release_path = "step.phase.release"


@admin.register(EngineRequest)
class EngineRequestAdmin(ReadOnlyAdmin):
    """Pause, resume and abort requests: the record of who asked the engine what."""

    list_display = ("release", "action", "requested_by", "requested_at", "acted_at", "outcome")
    list_filter = ("action",)


@admin.register(PipelineToken)
class PipelineTokenAdmin(ReadOnlyAdmin):
    """CI/CD tokens: made and revoked by the release manager in the war room (audited);
    only the SHA-256 of each secret is stored."""

    list_display = ("name", "release", "prefix", "created_by", "revoked_at", "last_used_at")
    exclude = ("digest",)


@admin.register(RollbackCriterion)
class RollbackCriterionAdmin(AuditedModelAdmin):
    list_display = ("__str__", "release", "severity", "automatic", "enabled")
    list_filter = ("severity", "automatic", "enabled")


@admin.register(RollbackStep)
class RollbackStepAdmin(AuditedModelAdmin):
    list_display = ("__str__", "release", "owner_role", "order")


@admin.register(WarIssue)
class WarIssueAdmin(AuditedModelAdmin):
    list_display = ("title", "release", "severity", "status", "opened_at")
    list_filter = ("severity", "status")


@admin.register(ClockMark)
class ClockMarkAdmin(ReadOnlyAdmin):
    """Read-only: which moments of the plan the clock has dealt with."""

    list_display = ("key", "release", "at", "seen_at")
    list_select_related = ("release",)


@admin.register(ClockWatch)
class ClockWatchAdmin(ReadOnlyAdmin):
    """Read-only: what the tick's clock job last found for each release (shared by the
    processes that run it)."""

    list_display = ("release", "go_live_at", "last_seq", "next_at")
    list_select_related = ("release",)
