"""ASGI entry point: Django for HTTP, Channels for websockets (session or token auth).

HTTP bodies over ``REQUEST_BODY_MAX_BYTES`` are refused before Django reads them;
websockets from a page on a host outside ``ALLOWED_HOSTS`` are refused before anything
else runs.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
django_asgi_app = get_asgi_application()

from warroom.embedded import use_if_embedded  # noqa: E402

use_if_embedded()  # the web process needs Redis (the channel layer, presence)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from warroom.auth import WebsocketAuthMiddleware, origin_checked  # noqa: E402
from warroom.http import BodyLimit  # noqa: E402
from warroom.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_asgi_app),
        "websocket": origin_checked(WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns()))),
    }
)
