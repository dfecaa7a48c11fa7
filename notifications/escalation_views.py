"""The contacts page of a release (with its on-call shifts, edited in place) and the ICS
feed of each on-call schedule."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from notifications import oncall
from notifications.escalation_api import override_in, schedule_in, shift_in
from warroom import clock, policies
from warroom.access import release_for
from warroom.errors import FieldError
from warroom.forms import parse_local_datetime
from warroom.people.models import Person, Role


def _page(request, release, st, *, error: FieldError | None = None, form: str = "", status=200):
    seats = oncall.contact_sheet(release, clock.now())
    return render(
        request,
        "notifications/contacts.html",
        {
            "release": release,
            "seats": seats,
            "unfilled": [s for s in seats if s.unfilled],
            "can_edit": policies.check(st, policies.Action.MANAGE_PEOPLE).allowed,
            "schedules": oncall.schedules_of(release),
            "roles": Role.objects.filter(release=release).order_by("name"),
            "people": Person.objects.filter(assignments__role__release=release)
            .distinct()
            .order_by("name"),
            "error": error,
            "error_form": form,
            "posted": request.POST if error else {},
            "now": clock.now(),
        },
        status=status,
    )


@login_required
@require_GET
def contacts(request: HttpRequest, release_id: int) -> HttpResponse:
    """Every role with its primary and backup: tap to call, Slack, email; unfilled seats;
    the on-call shifts (the release manager edits them here)."""
    release, st = release_for(request.user, release_id, target={"page": request.path})
    return _page(request, release, st)


def _on_call_change(request, release_id: int, form: str, change) -> HttpResponse:
    """Run ``change(release)`` for someone who manages the release's people; back to the
    page, or the page again with the error naming the field and what was typed kept."""
    release, st = release_for(
        request.user, release_id, policies.Action.MANAGE_PEOPLE, target={"what": "on-call"}
    )
    try:
        with transaction.atomic():  # a role's first shift refused: no empty schedule either
            change(release)
    except FieldError as exc:
        return _page(request, release, st, error=exc, form=form, status=400)
    return redirect(f"/releases/{release.pk}/contacts/#oncall")


def _shift_fields(request) -> dict:
    p = request.POST
    return {
        "starts_at": parse_local_datetime(p.get("starts_at", ""), "starts_at"),
        "ends_at": parse_local_datetime(p.get("ends_at", ""), "ends_at"),
        "primary": p.get("primary", ""),
        "backup": p.get("backup", ""),
    }


@login_required
@require_POST
def shift_add(request: HttpRequest, release_id: int) -> HttpResponse:
    def change(release):
        schedule = oncall.schedule_for(
            release=release, user=request.user, role_name=request.POST.get("role", "")
        )
        oncall.shift_add(schedule=schedule, user=request.user, **_shift_fields(request))

    return _on_call_change(request, release_id, "shift-new", change)


@login_required
@require_POST
def shift_edit(request: HttpRequest, release_id: int, shift_id: int) -> HttpResponse:
    """Save the shift's new times and people, or delete it (the button pressed says)."""

    def change(release):
        shift = shift_in(release, shift_id)
        if request.POST.get("do") == "delete":
            oncall.shift_delete(shift=shift, user=request.user)
        else:
            oncall.shift_change(shift=shift, user=request.user, **_shift_fields(request))

    return _on_call_change(request, release_id, f"shift-{shift_id}", change)


@login_required
@require_POST
def override_add(request: HttpRequest, release_id: int) -> HttpResponse:
    def change(release):
        p = request.POST
        schedule = oncall.schedule_for(
            release=release, user=request.user, role_name=p.get("role", "")
        )
        oncall.override_add(
            schedule=schedule,
            user=request.user,
            starts_at=parse_local_datetime(p.get("starts_at", ""), "starts_at"),
            ends_at=parse_local_datetime(p.get("ends_at", ""), "ends_at"),
            person=p.get("person", ""),
            note=p.get("note", ""),
        )

    return _on_call_change(request, release_id, "override-new", change)


@login_required
@require_POST
def override_delete(request: HttpRequest, release_id: int, override_id: int) -> HttpResponse:
    def change(release):
        oncall.override_delete(override=override_in(release, override_id), user=request.user)

    return _on_call_change(request, release_id, f"override-{override_id}", change)


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
