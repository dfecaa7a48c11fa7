from django.urls import path

from notifications import escalation_views

urlpatterns = [
    path("releases/<int:release_id>/contacts/", escalation_views.contacts, name="contacts"),
    path(
        "releases/<int:release_id>/oncall/<int:schedule_id>.ics",
        escalation_views.schedule_ics,
        name="oncall-ics",
    ),
]
