"""Process-level endpoints: health, and the 403 page that says why."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the process is up (the alive probe); says whether the database answers.
    Readiness, with Redis, the worker and beat, is ``/readyz``."""
    db_ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        db_ok = False
    from warroom.health import last_tick

    return JsonResponse(
        {"status": "ok", "database": "ok" if db_ok else "unavailable", "last_tick": last_tick()}
    )


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis, a Celery worker and beat's tick are all fine; else
    503 naming each part that is not (``/healthz`` only says the process is alive)."""
    from warroom.health import readiness

    checks = readiness()
    problems = {name: why for name, why in checks.items() if why}
    body = {
        "status": "unavailable" if problems else "ready",
        "checks": {name: why or "ok" for name, why in checks.items()},
        "problems": [f"{name}: {why}" for name, why in problems.items()],
    }
    response = JsonResponse(body, status=503 if problems else 200)
    if problems:
        response["Retry-After"] = "5"
    return response


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    reason = str(exception) if exception else "You may not do this."
    if request.headers.get("HX-Request"):
        return HttpResponse(reason, status=403, content_type="text/plain")
    return render(request, "warroom/403.html", {"reason": reason}, status=403)
