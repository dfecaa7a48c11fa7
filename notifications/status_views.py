"""The public status page (no login): components, maintenance and its updates, and a
form to subscribe by email. Thin: :mod:`notifications.public_status` does the work."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from notifications import public_status
from warroom.errors import FieldError


def _page(request: HttpRequest, slug: str, *, status: int = 200, **more) -> HttpResponse:
    found = public_status.page_view(slug)
    if found is None:
        raise Http404("no such status page")
    return render(request, "notifications/status_page.html", {**found, **more}, status=status)


@require_http_methods(["GET"])
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, slug)


@require_POST
def status_subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    email = request.POST.get("email", "")
    try:
        public_status.subscribe(slug, email)
    except FieldError as exc:
        return _page(request, slug, status=400, error=str(exc), email=email)
    return _page(request, slug, subscribed=email.strip().lower())
