"""The notifications app's pages: the comms plan and its deliveries; escalation's
live in ``escalation_urls``."""

from django.urls import include, path

from notifications import slack_views, status_views, views

urlpatterns = [
    path("releases/<int:release_id>/comms/", views.comms, name="comms"),
    path(
        "releases/<int:release_id>/comms/rules/<int:rule_id>/next",
        views.next_update,
        name="comms-next",
    ),
    path("releases/<int:release_id>/comms/rules/<int:rule_id>", views.rule_edit, name="comms-rule"),
    path(
        "releases/<int:release_id>/comms/deliveries/<int:delivery_id>/retry",
        views.delivery_retry,
        name="comms-retry",
    ),
    path("releases/<int:release_id>/comms/subscribe", views.subscribe, name="comms-subscribe"),
    path(
        "releases/<int:release_id>/comms/status-components",
        views.status_component,
        name="comms-component-add",
    ),
    path(
        "releases/<int:release_id>/comms/status-components/<int:component_id>",
        views.status_component,
        name="comms-component",
    ),
    path("comms/unsubscribe/<str:token>/", views.unsubscribe, name="comms-unsubscribe"),
    path("status/<slug:slug>/", status_views.status_page, name="status-page"),
    path("status/<slug:slug>/subscribe", status_views.status_subscribe, name="status-subscribe"),
    path("slack/commands", slack_views.command, name="slack-command"),
    path("slack/actions", slack_views.action, name="slack-action"),
    # Escalation's pages (contacts, on-call feeds) live in their own module.
    path("", include("notifications.escalation_urls")),
]
