from django.contrib import admin

from notifications.models import (
    CommsRule,
    Delivery,
    EscalationLevel,
    EscalationRole,
    Maintenance,
    MaintenanceUpdate,
    Message,
    MessageTemplate,
    SlackRefusal,
    SlackRequest,
    SlackThread,
    StatusComponent,
    StatusIncident,
    StatusPage,
    StatusSubscriber,
    Subscriber,
)
from warroom.admin import AuditedModelAdmin


@admin.register(MessageTemplate)
class MessageTemplateAdmin(AuditedModelAdmin):
    list_display = ("name", "release", "channel", "subject")


@admin.register(CommsRule)
class CommsRuleAdmin(AuditedModelAdmin):
    list_display = ("name", "release", "at_offset", "interval", "milestone", "audience")


class EscalationRoleInline(admin.TabularInline):
    model = EscalationRole
    extra = 0


@admin.register(EscalationLevel)
class EscalationLevelAdmin(AuditedModelAdmin):
    list_display = ("level", "name", "release", "after", "until")
    inlines = [EscalationRoleInline]


@admin.register(EscalationRole)
class EscalationRoleAdmin(AuditedModelAdmin):
    list_display = ("level", "role", "order")
    release_path = "level.release"


@admin.register(Message)
class MessageAdmin(AuditedModelAdmin):
    list_display = ("subject", "release", "cause", "due_at", "created_at")
    list_filter = ("status_update",)


@admin.register(Delivery)
class DeliveryAdmin(AuditedModelAdmin):
    list_display = ("message", "channel", "target", "state", "attempts", "last_error")
    list_filter = ("state", "channel")
    release_path = "message.release"


@admin.register(Subscriber)
class SubscriberAdmin(AuditedModelAdmin):
    list_display = ("email", "release", "active")


@admin.register(SlackThread)
class SlackThreadAdmin(AuditedModelAdmin):
    list_display = ("release", "channel", "ts")


@admin.register(StatusIncident)
class StatusIncidentAdmin(AuditedModelAdmin):
    list_display = ("release", "incident_id")


@admin.register(SlackRequest)
class SlackRequestAdmin(AuditedModelAdmin):
    list_display = ("received_at", "kind", "slack_name", "text", "state", "answered")


@admin.register(SlackRefusal)
class SlackRefusalAdmin(AuditedModelAdmin):
    list_display = ("at", "reason", "path", "source", "body_length")


class StatusComponentInline(admin.TabularInline):
    model = StatusComponent
    extra = 0


@admin.register(StatusPage)
class StatusPageAdmin(AuditedModelAdmin):
    list_display = ("name", "slug")
    inlines = [StatusComponentInline]


@admin.register(StatusComponent)
class StatusComponentAdmin(AuditedModelAdmin):
    list_display = ("name", "page", "state", "changed_at")


@admin.register(Maintenance)
class MaintenanceAdmin(AuditedModelAdmin):
    list_display = ("title", "page", "state", "starts_at", "ends_at")


@admin.register(MaintenanceUpdate)
class MaintenanceUpdateAdmin(AuditedModelAdmin):
    list_display = ("maintenance", "kind", "at")


@admin.register(StatusSubscriber)
class StatusSubscriberAdmin(AuditedModelAdmin):
    list_display = ("email", "page", "active", "created_at")
