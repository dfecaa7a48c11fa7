from django.contrib import admin

from warroom.models import ApiToken, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("release", "seq", "kind", "actor_label", "at")
    list_filter = ("kind",)
    search_fields = ("kind", "actor_label")
    list_select_related = ("release",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    readonly_fields = ("digest", "prefix", "created_at", "last_used_at")
