"""Process-level endpoints: health, and the 403 page that says why."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the process is up; says whether the database answers."""
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


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    reason = str(exception) if exception else "You may not do this."
    if request.headers.get("HX-Request"):
        return HttpResponse(reason, status=403, content_type="text/plain")
    return render(request, "warroom/403.html", {"reason": reason}, status=403)
