"""Authentication: ``Authorization: Bearer <token>`` for the API; for websockets the same
header, the token as a subprotocol, or the browser's session cookie.

A websocket client that cannot set headers (a browser script) offers two subprotocols,
``warroom`` and ``warroom.token.<token>``; the server answers with ``warroom``. The token
is never accepted in the URL: URLs end up in server and proxy logs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from importlib import import_module
from types import SimpleNamespace
from typing import cast
from urllib.parse import parse_qs

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone

from warroom.asyncdb import batched
from warroom.models import ApiToken
from warroom.revoke import credential_digest

logger = logging.getLogger(__name__)

LAST_USED_EVERY = timedelta(minutes=5)
SUBPROTOCOL = "warroom"
TOKEN_SUBPROTOCOL_PREFIX = "warroom.token."


def user_for_token(token: str):
    """The active user owning ``token``, or None. Records when the token was last used."""
    if not token:
        return None
    digest = ApiToken.digest_of(token)
    return users_for_token_digests([digest]).get(digest)


def users_for_token_digests(digests: list[str]) -> dict:
    """The active user owning each token digest (with their person), in one query;
    unknown and inactive ones are left out. Records when each token was last used."""
    rows = list(
        ApiToken.objects.select_related("user", "user__person").filter(
            digest__in=digests, user__is_active=True
        )
    )
    now = timezone.now()
    # Record use at most every few minutes: a write per request would serialise
    # a thousand viewers connecting at once behind the database's write lock.
    stale = [
        row.pk
        for row in rows
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY
    ]
    if stale:
        ApiToken.objects.filter(pk__in=stale).update(last_used_at=now)
    return {row.digest: row.user for row in rows}


def client_address(request) -> str | None:
    """The address a login attempt came from, for django-axes: the peer's address.

    Forwarded-for headers are not read here: uvicorn replaces the peer with the
    forwarded address only when the proxy is trusted (``FORWARDED_ALLOW_IPS``), so a
    client cannot dodge the lockout by writing a new X-Forwarded-For on each attempt.
    """
    return request.META.get("REMOTE_ADDR")


def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """django-axes ``user_locked_out``: one line naming who and where, and how to unlock.

    axes masks the username and address in its own per-failure lines (a username field
    sometimes holds a mistyped password); a lockout is worth naming for the operator.
    """
    logger.warning(
        "login locked: username %r from %s after %s wrong passwords in a row; "
        "unlock with: python manage.py axes_reset_username %s",
        username,
        ip_address,
        settings.AXES_FAILURE_LIMIT,
        username,
    )


class _SocketSession:
    """A session as a websocket may use it: read, never re-keyed or flushed.

    Django's ``get_user`` re-keys a session signed with a fallback secret and flushes
    one that no longer verifies; both need a new cookie, which a websocket cannot send,
    so the browser's next page load does them instead.
    """

    def __init__(self, store):
        self._store = store
        self._overrides: dict = {}

    def __getitem__(self, key):
        return self._overrides[key] if key in self._overrides else self._store[key]

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key, value):
        self._overrides[key] = value

    def cycle_key(self) -> None:
        return None

    def flush(self) -> None:
        return None


def user_for_session_key(session_key: str):
    """The user a session cookie belongs to, decided by Django's own ``get_user``.

    So a key rotation (``SECRET_KEY_FALLBACKS``) and a password change count exactly as
    they do for pages.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # get_user reads only ``request.session``: a stand-in request is enough.
    return get_user(cast(HttpRequest, SimpleNamespace(session=_SocketSession(store))))


def _header(headers, name: bytes) -> str:
    for key, value in headers:
        if key == name:
            return value.decode("latin1")
    return ""


def socket_credentials(scope) -> tuple[str, str]:
    """(API token, session key) a websocket handshake carries; either may be empty."""
    headers = scope.get("headers", [])
    token = ""
    scheme, _, value = _header(headers, b"authorization").partition(" ")
    if scheme.lower() == "bearer":
        token = value.strip()
    for offered in scope.get("subprotocols") or []:
        if offered.startswith(TOKEN_SUBPROTOCOL_PREFIX) and not token:
            token = offered[len(TOKEN_SUBPROTOCOL_PREFIX) :]
    cookie = SimpleCookie()
    for key, raw in headers:
        if key == b"cookie":
            try:
                cookie.load(raw.decode("latin1"))
            except CookieError:
                continue
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    return token, morsel.value if morsel is not None else ""


def _session_users(session_keys: list[str]) -> dict:
    return {key: user_for_session_key(key) for key in session_keys}


async def _resolve(scope):
    """(user, digest of the credential that identified them; "" for nobody).

    On the pool, not Django's one shared thread, and batched: a thousand viewers
    reconnecting at once (a server restart) are authenticated by a few queries for all
    their tokens, and once per distinct session.
    """
    token, session_key = socket_credentials(scope)
    if token:
        digest = ApiToken.digest_of(token)
        user = await batched("websocket-tokens", digest, users_for_token_digests)
        if user is not None:
            return user, credential_digest("token", digest)
    if session_key:
        user = await batched("websocket-sessions", session_key, _session_users)
        if user.is_authenticated:
            return user, credential_digest("session", session_key)
        return user, ""
    return AnonymousUser(), ""


def _warn_token_in_url(scope) -> None:
    if "token" in parse_qs(scope.get("query_string", b"").decode("latin1")):
        logger.warning(
            "websocket %s: an API token in the URL (?token=) is refused, because URLs "
            "reach server and proxy logs; send it as 'Authorization: Bearer' or as the "
            "subprotocol 'warroom.token.<token>' beside 'warroom'",
            scope.get("path", ""),
        )


class WebsocketAuthMiddleware:
    """Sets ``scope["user"]`` from a Bearer header, the token subprotocol or the session.

    Unlike Channels' session middleware it does not wrap ``send`` for every socket:
    viewers only receive, and a wrapper on every message costs real time at a thousand
    viewers per event. Only a client that offered subprotocols gets a wrapper, which
    answers ``warroom`` when the consumer accepts (a browser drops a socket whose
    offered subprotocols are all ignored).
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        _warn_token_in_url(scope)
        offered = scope.get("subprotocols") or []
        user, credential = await _resolve(scope)
        scope = {
            **scope,
            "user": user,
            # A digest of the token or session the user came with: when it ends (logout,
            # revocation), the socket is closed (warroom.revoke).
            "credential": credential,
            # The token stays here: nothing downstream sees it.
            "subprotocols": [p for p in offered if not p.startswith(TOKEN_SUBPROTOCOL_PREFIX)],
        }
        if SUBPROTOCOL in offered:
            send = _answering_subprotocol(send)
        return await self.inner(scope, receive, send)


def _answering_subprotocol(send):
    async def answer(message):
        if message["type"] == "websocket.accept" and not message.get("subprotocol"):
            message = {**message, "subprotocol": SUBPROTOCOL}
        await send(message)

    # Past the handshake it passes messages on unchanged: warroom.wsframes may write to
    # the connection behind it directly.
    answer.__wrapped__ = send  # type: ignore[attr-defined]
    return answer


class BrowserOriginValidator(OriginValidator):
    """Refuses a websocket whose page came from a host not in ``ALLOWED_HOSTS``.

    Cross-site websocket hijacking needs a browser, and browsers always send
    ``Origin``; a client without one (a script with a token) is not a browser page and
    is let through to authenticate like any API client. Channels' own validator
    refuses those too unless ALLOWED_HOSTS is ``*``.
    """

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def origin_checked(application):
    """Wrap a websocket application in :class:`BrowserOriginValidator` (ALLOWED_HOSTS)."""
    return BrowserOriginValidator(application, settings.ALLOWED_HOSTS)
