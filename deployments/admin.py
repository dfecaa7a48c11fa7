from django.contrib import admin

from deployments.models import (
    Phase,
    Release,
    ReleaseContact,
    RollbackCriterion,
    Step,
    StepRun,
    WarIssue,
)


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("order", "name", "start_offset", "duration", "status")


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "status", "go_live_at", "last_seq")
    list_filter = ("status",)
    search_fields = ("name", "version")
    readonly_fields = ("last_seq", "last_hash", "created_at")
    inlines = [PhaseInline]


@admin.register(ReleaseContact)
class ReleaseContactAdmin(admin.ModelAdmin):
    list_display = ("person", "release", "order")


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ("name", "release", "start_offset", "duration", "status")
    list_filter = ("status",)


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    list_display = ("title", "phase", "kind", "order")


@admin.register(StepRun)
class StepRunAdmin(admin.ModelAdmin):
    list_display = ("step", "attempt", "status", "lease_owner", "started_at", "finished_at")


@admin.register(RollbackCriterion)
class RollbackCriterionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "release", "severity", "enabled")
    list_filter = ("severity", "enabled")


@admin.register(WarIssue)
class WarIssueAdmin(admin.ModelAdmin):
    list_display = ("title", "release", "severity", "status", "opened_at")
    list_filter = ("severity", "status")
