"""Authentication: ``Authorization: Bearer <token>`` for the API; for websockets a
``token`` query parameter or the browser's session cookie."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from importlib import import_module
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from warroom.asyncdb import db_parallel
from warroom.models import ApiToken

LAST_USED_EVERY = timedelta(minutes=5)


def user_for_token(token: str):
    """The active user owning ``token``, or None. Records when the token was last used."""
    if not token:
        return None
    row = (
        ApiToken.objects.select_related("user", "user__person")
        .filter(digest=ApiToken.digest_of(token), user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    # Record use at most every few minutes: a write per request would serialise
    # a thousand viewers connecting at once behind the database's write lock.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def _sync_get_user(store):
    """The user a session belongs to, checked as Django's own ``get_user`` does."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
        load_backend,
    )
    from django.utils.crypto import constant_time_compare

    try:
        user_id = get_user_model()._meta.pk.to_python(store[SESSION_KEY])
        backend_path = store[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    user = load_backend(backend_path).get_user(user_id)
    if user is None or not constant_time_compare(
        store.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    ):
        return AnonymousUser()
    return user


def _resolve_sync(scope):
    query = parse_qs(scope.get("query_string", b"").decode())
    token = (query.get("token") or [""])[-1]
    if token:
        user = user_for_token(token)
        if user is not None:
            return user
    return _sync_get_user_from_headers(scope.get("headers", []))


# On a pool thread, not Django's one shared thread: a thousand viewers reconnecting at
# once (a server restart) are authenticated side by side.
_resolve = db_parallel(_resolve_sync)


def _sync_get_user_from_headers(headers):
    cookie = SimpleCookie()
    for name, value in headers:
        if name == b"cookie":
            cookie.load(value.decode("latin1"))
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    if morsel is None:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(morsel.value)
    return _sync_get_user(store)


class WebsocketAuthMiddleware:
    """Sets ``scope["user"]`` from ``?token=`` or the session cookie.

    Unlike Channels' session middleware it does not wrap ``send``: viewers only
    receive, and a wrapper on every message costs real time at a thousand
    viewers per event.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        scope = {**scope, "user": await _resolve(scope)}
        return await self.inner(scope, receive, send)
