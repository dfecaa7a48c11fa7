"""Process-level endpoints: health, the 403 page that says why, and your own details."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from warroom.errors import FieldError
from warroom.people import services as people
from warroom.people.models import Person


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


@login_required
@require_http_methods(["GET", "POST"])
def my_details(request: HttpRequest) -> HttpResponse:
    """Your name, email, phone and Slack handle, as every release you are on shows them."""
    user: Any = request.user  # logged in (login_required)
    person = Person.objects.filter(user=user).first()
    problem, status = None, 200
    if request.method == "POST":
        changes = {f: request.POST[f] for f in people.CONTACT_FIELDS if f in request.POST}
        try:
            people.person_update_contact(
                person=person or people.person_of(request.user), user=request.user, **changes
            )
        except FieldError as exc:
            if request.headers.get("HX-Request"):
                return HttpResponse(str(exc), status=400, content_type="text/plain")
            problem, status = exc, 400
        else:
            return redirect(f"{request.path}?saved=1")
    fields = {f: request.POST.get(f, getattr(person, f, "")) for f in people.CONTACT_FIELDS}
    if person is None and not request.POST:
        fields["name"] = user.get_full_name() or user.get_username()
        fields["email"] = user.email
    return render(
        request,
        "warroom/me.html",
        {
            "fields": fields,
            "problem": problem,
            "saved": request.GET.get("saved") == "1",
            "notices": people.notices_for(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    """Mark your notices read (the home page stops highlighting them)."""
    people.notices_seen(request.user)
    return redirect(request.POST.get("next") or "/")
