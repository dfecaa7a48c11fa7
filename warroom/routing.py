"""Websocket routes: each installed app's ``routing.websocket_urlpatterns``.

The core knows no feature app by name; it collects what the apps declare.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.utils.module_loading import module_has_submodule


def app_modules(name: str) -> list:
    """The ``name`` submodule of every feature app (``settings.WARROOM_APPS``) that has one."""
    found = []
    for app in settings.WARROOM_APPS:
        package = import_module(app)
        if module_has_submodule(package, name):
            found.append(import_module(f"{app}.{name}"))
    return found


def websocket_urlpatterns() -> list:
    return [p for m in app_modules("routing") for p in m.websocket_urlpatterns]
