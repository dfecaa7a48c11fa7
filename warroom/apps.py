from django.apps import AppConfig


class WarroomConfig(AppConfig):
    name = "warroom"
    verbose_name = "Warroom core"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from warroom.auth import log_lockout
        from warroom.logs import mask_server_logs

        mask_server_logs()
        user_locked_out.connect(log_lockout, dispatch_uid="warroom.auth.log_lockout")
