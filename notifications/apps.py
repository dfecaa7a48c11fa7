from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Communications and escalation"

    def ready(self) -> None:
        # Escalation's event kinds, subscribers and tick job (issue 21).
        from notifications import escalation_admin, escalation_events, escalation_ticks  # noqa: F401
