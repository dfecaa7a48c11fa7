"""Admin for checklists and gates. Every edit is an audited event; an item's status and
note change only through the same service as the war room. Sign-offs, decisions and
rollback calls are immutable records: read-only here."""

from django.contrib import admin

from checklists import services
from checklists.models import (
    Checklist,
    ChecklistItem,
    Decision,
    DecisionVote,
    Gate,
    GateDecisionRole,
    ItemNote,
    RequiredSignOff,
    RollbackCall,
    SignOff,
)
from warroom.admin import AuditedModelAdmin, ReadOnlyAdmin


class ItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "text", "owner_role", "assignee", "status")
    readonly_fields = ("status",)  # ticked in the war room (or the item's own admin page)


@admin.register(Checklist)
class ChecklistAdmin(AuditedModelAdmin):
    list_display = ("name", "release", "kind", "phase", "due_offset")
    list_filter = ("kind",)
    inlines = [ItemInline]


class NoteInline(admin.TabularInline):
    """An item's notes: appended by the service only, never edited."""

    model = ItemNote
    extra = 0
    fields = ("at", "author_label", "status", "changed", "text")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChecklistItem)
class ChecklistItemAdmin(AuditedModelAdmin):
    inlines = [NoteInline]
    list_display = ("text", "checklist", "owner_role", "status", "changed_by_label", "changed_at")
    list_filter = ("status",)
    search_fields = ("text",)
    readonly_fields = ("changed_by", "changed_by_label", "changed_at")
    release_path = "checklist.release"

    def save_model(self, request, obj, form, change):
        if not change or not {"status", "note"} & set(form.changed_data):
            return super().save_model(request, obj, form, change)
        # A tick from the admin is a tick: the service checks, records and broadcasts it.
        status, note = obj.status, obj.note
        current = ChecklistItem.objects.get(pk=obj.pk)
        obj.status, obj.note = current.status, current.note
        form.changed_data = [f for f in form.changed_data if f not in ("status", "note")]
        super().save_model(request, obj, form, change)
        services.item_set_status(item=obj, status=status, note=note, user=request.user)


class RequiredInline(admin.TabularInline):
    model = RequiredSignOff
    extra = 0


class DecisionRoleInline(admin.TabularInline):
    model = GateDecisionRole
    extra = 0


@admin.register(Gate)
class GateAdmin(AuditedModelAdmin):
    list_display = ("name", "release", "kind", "at_offset", "consensus")
    inlines = [DecisionRoleInline, RequiredInline]


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("required", "verdict", "signer", "on_behalf_of", "at")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("gate", "outcome", "decided_by", "at", "snapshot_hash")


@admin.register(DecisionVote)
class DecisionVoteAdmin(ReadOnlyAdmin):
    list_display = ("decision", "role", "verdict", "voter", "at")


@admin.register(ItemNote)
class ItemNoteAdmin(ReadOnlyAdmin):
    list_display = ("item", "text", "status", "author_label", "at")
    search_fields = ("text",)


@admin.register(RollbackCall)
class RollbackCallAdmin(ReadOnlyAdmin):
    list_display = ("release", "reason", "raised_at", "decide_by", "choice", "decided_at")


@admin.register(RequiredSignOff)
class RequiredSignOffAdmin(AuditedModelAdmin):
    list_display = ("gate", "role", "criteria")
    release_path = "gate.release"


@admin.register(GateDecisionRole)
class GateDecisionRoleAdmin(AuditedModelAdmin):
    list_display = ("gate", "role", "order")
    release_path = "gate.release"
