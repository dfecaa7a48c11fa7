"""The contacts page of a release and the ICS feed of each on-call schedule."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from notifications import oncall
from notifications.escalation_api import schedule_in
from warroom import clock
from warroom.access import release_for


@login_required
@require_GET
def contacts(request: HttpRequest, release_id: int) -> HttpResponse:
    """Every role with its primary and backup: tap to call, Slack, email; unfilled seats."""
    release, _ = release_for(request.user, release_id, target={"page": request.path})
    seats = oncall.contact_sheet(release, clock.now())
    return render(
        request,
        "notifications/contacts.html",
        {"release": release, "seats": seats, "unfilled": [s for s in seats if s.unfilled]},
    )


@login_required
@require_GET
def schedule_ics(request: HttpRequest, release_id: int, schedule_id: int) -> HttpResponse:
    """The on-call schedule as an iCalendar feed (subscribe to it in a calendar)."""
    release, _ = release_for(request.user, release_id, target={"page": request.path})
    schedule = schedule_in(release, schedule_id)
    response = HttpResponse(
        oncall.ics(schedule, host=request.get_host()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="oncall-{schedule.pk}.ics"'
    return response
