"""Slack's endpoints: the ``/warroom`` slash command and interactive buttons. Thin: the
verification and the work are in :mod:`notifications.slack_inbound`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications import slack_inbound


def _receive(request: HttpRequest, kind: str) -> HttpResponse:
    got = slack_inbound.receive(
        kind,
        request.body,
        timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
        signature=request.headers.get("X-Slack-Signature", ""),
        retry=request.headers.get("X-Slack-Retry-Num", ""),
        path=request.path,
        source=request.META.get("REMOTE_ADDR", ""),
    )
    if got.status != 200:
        return HttpResponse(got.text, status=got.status, content_type="text/plain")
    if not got.text:
        return HttpResponse(status=200)
    return JsonResponse({"response_type": "ephemeral", "text": got.text})


@csrf_exempt  # Slack signs the request instead; the signature is checked first
@require_POST
def command(request: HttpRequest) -> HttpResponse:
    return _receive(request, "command")


@csrf_exempt
@require_POST
def action(request: HttpRequest) -> HttpResponse:
    return _receive(request, "action")
