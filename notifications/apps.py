from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Communications and escalation"

    def ready(self) -> None:
        # Escalation's event kinds, subscribers and tick job (issue 21).
        # The built-in public status page follows the releases' events.
        from notifications import (  # noqa: F401
            escalation_admin,
            escalation_events,
            escalation_ticks,
            public_status,
        )
