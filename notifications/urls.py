"""The notifications app's pages. Escalation's live in ``escalation_urls``."""

from django.urls import include, path

urlpatterns = [path("", include("notifications.escalation_urls"))]
