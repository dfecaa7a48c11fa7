"""Admin for the core models, and :class:`AuditedModelAdmin`, which every release-owned
model's admin uses: an edit in the admin is an event like any other — recorded on the
release's audit chain in the same transaction and broadcast to its viewers."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from warroom import events
from warroom.models import ApiToken, AuditEvent, IdempotentAnswer, RefusalTally

SHOWN_CHARS = 300  # an audited value is kept short: the row records the change, not the data


def _shown(value) -> str:
    if isinstance(value, models.Model):
        value = str(value)
    elif isinstance(value, models.QuerySet):
        value = ", ".join(str(v) for v in value)
    text = "" if value is None else str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def changed_fields(form) -> dict[str, dict[str, str]]:
    """What a bound admin form changed: ``{field: {"from": …, "to": …}}``.

    A field whose value reads the same before and after (a JSON list the widget
    re-serialised, say) is not a change.
    """
    out = {}
    for name in form.changed_data:
        before = form.initial.get(name)
        field = form.fields.get(name)
        if isinstance(before, int) and hasattr(field, "queryset"):
            before = field.queryset.filter(pk=before).first() or before
        change = {"from": _shown(before), "to": _shown(form.cleaned_data.get(name))}
        if change["from"] != change["to"]:
            out[name] = change
    return out


def record_admin_change(release, user, obj, action: str, fields: dict | None = None) -> None:
    """Record an admin edit of ``obj`` on ``release``'s audit chain (caller's transaction)."""
    events.record(
        release,
        "admin.changed",
        actor=user,
        data={
            "action": action,
            "model": obj._meta.verbose_name,
            "object": _shown(obj),
            "pk": obj.pk,
            "fields": fields or {},
        },
    )


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes (inlines included) are audited events.

    ``release_path`` is the dotted attribute path from the object to its release
    ("release", "checklist.release"); "" when the object is the release itself.
    The admin's change view already runs in one transaction, so the event commits
    with the change or not at all.
    """

    release_path = "release"

    def release_of(self, obj):
        for attr in filter(None, self.release_path.split(".")):
            obj = getattr(obj, attr)
        return obj

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fields = changed_fields(form) if change else {}
        if change and not fields:
            return
        record_admin_change(
            self.release_of(obj), request.user, obj, "changed" if change else "added", fields
        )

    def delete_model(self, request, obj):
        release = self.release_of(obj)
        super().delete_model(request, obj)
        if release is not obj:  # a deleted release takes its own history with it
            record_admin_change(release, request.user, obj, "deleted")

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # one by one, so each deletion is recorded
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        parent = self.release_of(form.instance)
        for obj in formset.new_objects:
            record_admin_change(parent, request.user, obj, "added")
        for obj, _names in formset.changed_objects:
            inline_form = next((f for f in formset.forms if f.instance is obj), None)
            fields = changed_fields(inline_form) if inline_form is not None else {}
            if fields:
                record_admin_change(parent, request.user, obj, "changed", fields)
        for obj in formset.deleted_objects:
            record_admin_change(parent, request.user, obj, "deleted")


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody edits: the audit log, sign-offs and decisions (superseded, never
    changed), what the clock has dealt with."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("release", "seq", "kind", "actor_label", "at")
    list_filter = ("kind",)
    search_fields = ("kind", "actor_label")
    list_select_related = ("release",)


@admin.register(RefusalTally)
class RefusalTallyAdmin(ReadOnlyAdmin):
    """Anonymous refused attempts, counted per source and window."""

    list_display = ("release", "source", "action", "window_start", "count", "last_at")
    list_select_related = ("release",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    readonly_fields = ("digest", "prefix", "created_at", "last_used_at")


@admin.register(IdempotentAnswer)
class IdempotentAnswerAdmin(ReadOnlyAdmin):
    """Answers kept for API writes sent with an Idempotency-Key (warroom/idempotency.py)."""

    list_display = ("created_at", "user", "key", "status")
    list_filter = ("status",)
    search_fields = ("key", "user__username")
    exclude = ("body",)
