from django.contrib import admin

from warroom.admin import AuditedModelAdmin
from warroom.people.models import Assignment, Person, Role


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ("person",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "slack_handle", "user")
    search_fields = ("name", "email", "slack_handle")


@admin.register(Role)
class RoleAdmin(AuditedModelAdmin):
    list_display = ("name", "release", "kind", "is_release_manager")
    list_filter = ("kind", "is_release_manager")
    search_fields = ("name",)
    inlines = [AssignmentInline]


@admin.register(Assignment)
class AssignmentAdmin(AuditedModelAdmin):
    list_display = ("person", "role", "kind")
    release_path = "role.release"
    list_filter = ("kind",)
