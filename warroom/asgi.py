"""ASGI entry point: Django for HTTP, Channels for websockets (session or token auth).

HTTP bodies over ``REQUEST_BODY_MAX_BYTES`` are refused before Django reads them;
websockets from a page on a host outside ``ALLOWED_HOSTS`` are refused before anything
else runs.
"""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
# The event loop writes each live update to a thousand sockets, releasing the GIL for
# every write; with Python's default 5 ms switch interval a request thread rendering a
# page can keep it for 5 ms each time (a convoy). A shorter interval hands it back sooner.
sys.setswitchinterval(float(os.environ.get("WARROOM_SWITCH_INTERVAL", "0.0005")))
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
