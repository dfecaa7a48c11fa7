from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "warroom.people"
    label = "people"
    verbose_name = "People and roles"
