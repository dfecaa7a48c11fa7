"""Token authentication: ``Authorization: Bearer <token>`` for the API, and a
``token`` query parameter (or the session) for websockets."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.utils import timezone

from warroom.models import ApiToken

LAST_USED_EVERY = timedelta(minutes=5)


def user_for_token(token: str):
    """The active user owning ``token``, or None. Records when the token was last used."""
    if not token:
        return None
    row = (
        ApiToken.objects.select_related("user")
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


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` from a ``?token=`` query parameter when one is given."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[-1]
        if token:
            user = await database_sync_to_async(user_for_token)(token)
            if user is not None:
                scope = {**scope, "user": user}
        return await self.inner(scope, receive, send)


def TokenAuthMiddlewareStack(inner):
    # Session auth first, then a token (if any) overrides the user.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
