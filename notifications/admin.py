from django.contrib import admin

from notifications.models import CommsRule, EscalationLevel, EscalationRole, MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "release", "channel", "subject")


@admin.register(CommsRule)
class CommsRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "release", "at_offset", "interval", "milestone", "audience")


class EscalationRoleInline(admin.TabularInline):
    model = EscalationRole
    extra = 0


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    list_display = ("level", "name", "release", "after", "until")
    inlines = [EscalationRoleInline]


@admin.register(EscalationRole)
class EscalationRoleAdmin(admin.ModelAdmin):
    list_display = ("level", "role", "order")
