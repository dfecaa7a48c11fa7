from django.apps import AppConfig


class WarroomConfig(AppConfig):
    name = "warroom"
    verbose_name = "Warroom core"
