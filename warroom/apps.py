from django.apps import AppConfig


class WarroomConfig(AppConfig):
    name = "warroom"
    verbose_name = "Warroom core"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # The live path subscribes first, so every event reaches viewers before other
        # after-commit work runs; then each app's ``events`` module declares its kinds.
        import warroom.live  # noqa: F401

        autodiscover_modules("events")
        autodiscover_modules("ticks")
