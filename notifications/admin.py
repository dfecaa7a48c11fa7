from django.contrib import admin

from notifications.models import CommsRule, EscalationLevel, EscalationRole, MessageTemplate
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
