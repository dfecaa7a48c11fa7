from django.contrib import admin

from warroom.admin import AuditedModelAdmin, ReadOnlyAdmin
from warroom.people import services
from warroom.people.models import Assignment, Notice, Person, Role


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ("person",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Contact details change through the same service as the person's own page: only
    administrators (and the person) may, and each release the person is on records it."""

    list_display = ("name", "email", "phone", "slack_handle", "user")
    search_fields = ("name", "email", "slack_handle")

    def save_model(self, request, obj, form, change):
        contact = [f for f in form.changed_data if f in services.CONTACT_FIELDS]
        if not change or not contact:
            super().save_model(request, obj, form, change)
            return
        original = Person.objects.get(pk=obj.pk)
        if "user" in form.changed_data:  # the login link, saved as the admin saves it
            original.user = obj.user
            original.save(update_fields=["user"])
        services.person_update_contact(
            person=original, user=request.user, **{f: getattr(obj, f) for f in contact}
        )


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


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """What people were told in the app (read-only: written by the services)."""

    list_display = ("user", "text", "at", "seen_at")
    list_select_related = ("user",)
