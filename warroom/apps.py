from django.apps import AppConfig


class WarroomConfig(AppConfig):
    name = "warroom"
    verbose_name = "Warroom core"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.utils.module_loading import autodiscover_modules

        import warroom.live  # noqa: F401
        from warroom.auth import log_lockout
        from warroom.logs import mask_server_logs
        from warroom.revoke import connect_signals

        # warroom.live (imported above) subscribed first, so every event reaches viewers
        # before other after-commit work runs; then each app's ``events`` module declares
        # its kinds.
        autodiscover_modules("events")
        autodiscover_modules("ticks")
        mask_server_logs()
        connect_signals()
        user_locked_out.connect(log_lockout, dispatch_uid="warroom.auth.log_lockout")
