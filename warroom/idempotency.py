"""``Idempotency-Key`` for every state-changing API request (POST, PUT, PATCH, DELETE).

A client that sends a write and loses the answer (a server process died, the network
blinked) cannot know whether it was applied. Sent again with the same
``Idempotency-Key`` header, it gets the first answer again — status and body, marked
``Idempotent-Replayed: true`` — and nothing is applied twice.

The answer is stored per user in the same transaction as the change itself, so
either both are there or neither is; two copies of one request racing each other
apply once (the second one's unique insert fails, its change is rolled back, and
it answers with the first one's answer). Server errors (5xx) are not kept: the
change was not made, and the request may be sent again. A key reused for a different
request (method, path or body) is refused with 422; keys are forgotten after
``IDEMPOTENCY_HOURS`` (24).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

HEADER = "Idempotency-Key"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY = 255


def _user(request: HttpRequest):
    from warroom.auth import user_for_token

    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return user_for_token(auth[7:].strip())
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"detail": f"{HEADER}: {message}", "errors": [{"field": HEADER, "message": message}]},
        status=status,
    )


def _replay(answer) -> HttpResponse:
    response = HttpResponse(
        bytes(answer.body), status=answer.status, content_type=answer.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class Idempotency:
    """Django middleware for ``/api/`` writes carrying an ``Idempotency-Key`` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITES or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not 0 < len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
            return _refuse(400, f"must be 1 to {MAX_KEY} printable ASCII characters")
        user = _user(request)
        if user is None:  # the API answers 401 itself; nothing to remember
            return self.get_response(request)
        return self._once(request, user, key, _fingerprint(request))

    def _once(self, request: HttpRequest, user, key: str, fingerprint: str) -> HttpResponse:
        from warroom.models import IdempotentAnswer

        fresh_since = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_HOURS)
        answers = IdempotentAnswer.objects.filter(user=user, key=key)
        answers.filter(created_at__lt=fresh_since).delete()
        earlier = answers.first()
        if earlier is not None:
            return self._repeat(earlier, fingerprint)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500 or getattr(response, "streaming", False):
                    transaction.set_rollback(response.status_code >= 500)
                    return response
                IdempotentAnswer.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    content_type=response.get("Content-Type", "application/json"),
                    body=response.content,
                )
        except IntegrityError:  # the same request, racing: it was applied once, by the other
            earlier = answers.first()
            if earlier is None:
                raise
            return self._repeat(earlier, fingerprint)
        return response

    @staticmethod
    def _repeat(earlier, fingerprint: str) -> HttpResponse:
        if earlier.fingerprint != fingerprint:
            return _refuse(422, "was already used for a different request")
        return _replay(earlier)
