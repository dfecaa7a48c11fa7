from django.contrib import admin

from checklists.models import (
    Checklist,
    ChecklistItem,
    Decision,
    Gate,
    GateDecisionRole,
    RequiredSignOff,
    RollbackCall,
    SignOff,
)


class ItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "text", "owner_role", "assignee", "status")


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ("name", "release", "kind", "phase", "due_offset")
    list_filter = ("kind",)
    inlines = [ItemInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ("text", "checklist", "owner_role", "status", "changed_by_label", "changed_at")
    list_filter = ("status",)
    search_fields = ("text",)


class RequiredInline(admin.TabularInline):
    model = RequiredSignOff
    extra = 0


class DecisionRoleInline(admin.TabularInline):
    model = GateDecisionRole
    extra = 0


@admin.register(Gate)
class GateAdmin(admin.ModelAdmin):
    list_display = ("name", "release", "kind", "at_offset", "consensus")
    inlines = [DecisionRoleInline, RequiredInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Sign-offs and decisions are immutable: superseded, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("required", "verdict", "signer", "on_behalf_of", "at")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("gate", "outcome", "decided_by", "at", "snapshot_hash")


@admin.register(RollbackCall)
class RollbackCallAdmin(ReadOnlyAdmin):
    list_display = ("release", "reason", "raised_at", "decide_by", "choice", "decided_at")


@admin.register(RequiredSignOff)
class RequiredSignOffAdmin(admin.ModelAdmin):
    list_display = ("gate", "role", "criteria")


@admin.register(GateDecisionRole)
class GateDecisionRoleAdmin(admin.ModelAdmin):
    list_display = ("gate", "role", "order")
