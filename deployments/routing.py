"""Websocket routes of the live pages. URLs are built by :func:`ws_path`."""

from django.urls import path

from deployments import consumers


def ws_path(kind: str, key) -> str:
    return {
        "live": f"/ws/releases/{key}/live",
        "events": f"/ws/releases/{key}/events",
        "board": f"/ws/board/{key}/live",
    }[kind]


websocket_urlpatterns = [
    path("ws/releases/<int:release_id>/live", consumers.LiveConsumer.as_asgi()),
    path("ws/releases/<int:release_id>/events", consumers.EventStreamConsumer.as_asgi()),
    path("ws/board/<str:token>/live", consumers.BoardLinkConsumer.as_asgi()),
]
