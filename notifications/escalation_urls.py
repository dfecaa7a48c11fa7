from django.urls import path

from notifications import escalation_views as v

urlpatterns = [
    path("releases/<int:release_id>/contacts/", v.contacts, name="contacts"),
    path("releases/<int:release_id>/oncall/shifts/", v.shift_add, name="oncall-shift-add"),
    path(
        "releases/<int:release_id>/oncall/shifts/<int:shift_id>/",
        v.shift_edit,
        name="oncall-shift-edit",
    ),
    path("releases/<int:release_id>/oncall/overrides/", v.override_add, name="oncall-override-add"),
    path(
        "releases/<int:release_id>/oncall/overrides/<int:override_id>/delete/",
        v.override_delete,
        name="oncall-override-delete",
    ),
    path(
        "releases/<int:release_id>/oncall/<int:schedule_id>.ics",
        v.schedule_ics,
        name="oncall-ics",
    ),
]
