import os


def ensure_settings() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
    import django

    django.setup()
