"""The on-call shifts on the contacts page: the release manager adds, edits and deletes
shifts and swaps with a form; an overlap, an end before the start or a stranger is refused
naming the field, the page keeps what was typed, and nothing is written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications.escalation_models import OnCallOverride, OnCallShift
from tests.escalation.test_oncall import team  # noqa: F401  (fixture)
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


def url(team, rest: str = "") -> str:  # noqa: F811
    return f"/releases/{team.release.pk}/{rest}"


def fields(start, hours, primary, backup="", role="On-Call Engineer") -> dict:
    return {
        "role": role,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(),
        "primary": primary,
        "backup": backup,
    }


def text(response) -> str:
    return response.content.decode()


def changes(team) -> list[str]:  # noqa: F811
    return [
        e.data["what"]
        for e in AuditEvent.objects.filter(release=team.release, kind="oncall.changed")
    ]


def test_the_release_manager_adds_edits_and_deletes_shifts(client, team):  # noqa: F811
    client.force_login(team["rm"])
    start = clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    r = client.post(url(team, "oncall/shifts/"), fields(start, 12, "Oscar Oncall", "Olga Oncall"))
    assert r.status_code == 302 and r["Location"].endswith("/contacts/#oncall")
    page = client.get(url(team, "contacts/")).content.decode()
    assert "On-call shifts" in page and "Add a shift" in page and "Swap someone in" in page
    assert "On call now: Oscar Oncall" in page
    shift = OnCallShift.objects.get()

    # The next shift, overlapping the first by an hour: refused naming its start.
    clash = fields(start + timedelta(hours=11), 12, "Olga Oncall")
    r = client.post(url(team, "oncall/shifts/"), clash)
    body = r.content.decode()
    assert r.status_code == 400 and OnCallShift.objects.count() == 1
    assert "starts_at: overlaps the shift of Oscar Oncall" in body
    assert 'id="shift-new-starts" required aria-invalid="true"' in body
    assert f'name="starts_at" value="{clash["starts_at"]}"' in body  # what was typed stays
    assert "<option selected>Olga Oncall</option>" in body

    # Starting before the first one and running into it: refused naming its end.
    r = client.post(url(team, "oncall/shifts/"), fields(start - timedelta(hours=4), 6, "Olga"))
    assert r.status_code == 400 and "primary: nobody called &#x27;Olga&#x27;" in r.content.decode()
    r = client.post(
        url(team, "oncall/shifts/"), fields(start - timedelta(hours=4), 6, "Olga Oncall")
    )
    assert (
        r.status_code == 400 and "ends_at: overlaps the shift of Oscar Oncall" in r.content.decode()
    )

    # Edit: an end before the start is refused on that shift's own form, unwritten.
    bad = fields(start, -1, "Oscar Oncall")
    r = client.post(url(team, f"oncall/shifts/{shift.pk}/"), {**bad, "do": "save"})
    body = r.content.decode()
    assert r.status_code == 400 and "ends_at: must be after starts_at" in body
    assert f'id="shift-{shift.pk}-ends" required aria-invalid="true"' in body
    assert "<details open><summary>Edit</summary>" in body
    shift.refresh_from_db()
    assert shift.ends_at == start + timedelta(hours=12)
    # The backup and primary swap places; the shift may keep its own times (no self-clash).
    r = client.post(
        url(team, f"oncall/shifts/{shift.pk}/"),
        {**fields(start, 10, "Olga Oncall", "Oscar Oncall"), "do": "save"},
    )
    assert r.status_code == 302
    shift.refresh_from_db()
    assert (shift.primary.name, shift.backup.name) == ("Olga Oncall", "Oscar Oncall")
    assert shift.ends_at == start + timedelta(hours=10)

    r = client.post(url(team, f"oncall/shifts/{shift.pk}/"), {"do": "delete"})
    assert r.status_code == 302 and not OnCallShift.objects.exists()
    assert changes(team) == [
        "put Oscar Oncall with Olga Oncall as backup on call",
        "changed a shift: Olga Oncall with Oscar Oncall as backup",
        "removed the shift of Olga Oncall",
    ]


def test_a_swap_is_added_and_removed_and_may_not_overlap_another(client, team):  # noqa: F811
    client.force_login(team["rm"])
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    client.post(url(team, "oncall/shifts/"), fields(start, 12, "Oscar Oncall"))
    swap = {**fields(start, 2, ""), "person": "Omar Swap", "note": "Oscar at the dentist"}
    assert client.post(url(team, "oncall/overrides/"), swap).status_code == 302
    page = client.get(url(team, "contacts/")).content.decode()
    assert "<b>Omar Swap</b> is on call instead — Oscar at the dentist" in page
    assert "On call now: Omar Swap" in page
    again = {**fields(start + timedelta(hours=1), 2, ""), "person": "Olga Oncall"}
    r = client.post(url(team, "oncall/overrides/"), again)
    assert (
        r.status_code == 400 and "starts_at: overlaps the swap for Omar Swap" in r.content.decode()
    )
    assert OnCallOverride.objects.count() == 1
    found = OnCallOverride.objects.get()
    r = client.post(url(team, f"oncall/overrides/{found.pk}/delete/"))
    assert r.status_code == 302 and not OnCallOverride.objects.exists()
    assert "removed the swap for Omar Swap" in changes(team)


def test_only_the_release_manager_may_change_the_rotation(client, team):  # noqa: F811
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    client.force_login(team["rm"])
    client.post(url(team, "oncall/shifts/"), fields(start, 12, "Oscar Oncall"))
    shift = OnCallShift.objects.get()
    client.force_login(team["qa"])
    page = client.get(url(team, "contacts/")).content.decode()
    assert "Oscar Oncall" in page and "Add a shift" not in page and "Delete shift" not in page
    r = client.post(
        url(team, "oncall/shifts/"), fields(start + timedelta(days=1), 8, "Olga Oncall")
    )
    assert r.status_code == 403
    r = client.post(url(team, f"oncall/shifts/{shift.pk}/"), {"do": "delete"})
    assert r.status_code == 403 and OnCallShift.objects.count() == 1
    assert AuditEvent.objects.filter(release=team.release, kind="access.denied").count() == 2
    # A shift of another release is not found through this one.
    client.force_login(team["rm"])
    other = client.post(f"/releases/{team.release.pk + 999}/oncall/shifts/{shift.pk}/", {})
    assert other.status_code == 404


def test_the_api_changes_and_deletes_shifts_and_swaps_with_the_same_checks(api, team):  # noqa: F811
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    rm = api(team["rm"])
    base = f"/api/releases/{team.release.pk}/oncall"
    first = rm.post(f"{base}/On-Call Engineer/shifts", fields(start, 8, "Oscar Oncall")).json()
    second = rm.post(
        f"{base}/On-Call Engineer/shifts", fields(start + timedelta(hours=8), 8, "Olga Oncall")
    ).json()
    # Stretching the first into the second: refused naming ends_at, unwritten.
    r = rm.put(f"{base}/shifts/{first['id']}", fields(start, 9, "Oscar Oncall"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "ends_at"
    assert OnCallShift.objects.get(pk=first["id"]).ends_at == start + timedelta(hours=8)
    r = rm.put(f"{base}/shifts/{first['id']}", fields(start, 7, "Oscar Oncall", "Olga Oncall"))
    assert r.status_code == 200 and r.json()["ends_at"].startswith(
        (start + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M")
    )
    assert api(team["qa"]).delete(f"{base}/shifts/{second['id']}").status_code == 403
    assert rm.delete(f"{base}/shifts/{second['id']}").status_code == 204
    assert rm.delete(f"{base}/shifts/{second['id']}").status_code == 404
    swap = rm.post(
        f"{base}/On-Call Engineer/overrides",
        {**fields(start, 1, ""), "person": "Omar Swap"},
    ).json()
    assert rm.delete(f"{base}/overrides/{swap['id']}").status_code == 204
    assert list(OnCallShift.objects.values_list("pk", flat=True)) == [first["id"]]
    assert not OnCallOverride.objects.exists()


def test_an_overlap_names_the_other_shift_in_local_time_and_t_offset(client, api, team):  # noqa: F811
    """The other shift's times are not quoted in UTC: the form shows them as the rest of
    the page does (a <time> the page turns into the viewer's own time) with T-offsets,
    and the API's message gives them in the release's time zone with T-offsets."""
    from datetime import UTC, datetime

    release = team.release
    release.go_live_at = datetime(2026, 12, 18, 20, 0, tzinfo=UTC)  # Fri 21:00 in Berlin
    release.timezone = "Europe/Berlin"
    release.save(update_fields=["go_live_at", "timezone"])
    start = release.go_live_at - timedelta(hours=2)  # 19:00 Berlin, T-2:00
    client.force_login(team["rm"])
    assert client.post(url(team, "oncall/shifts/"), fields(start, 12, "Oscar Oncall")).status_code
    clash = fields(start + timedelta(hours=11), 12, "Olga Oncall")
    r = client.post(url(team, "oncall/shifts/"), clash)
    body = text(r)
    assert r.status_code == 400 and OnCallShift.objects.count() == 1
    error = body.split('id="shift-new-error">', 1)[1].split("</p>", 1)[0]
    assert error.startswith("starts_at: overlaps the shift of Oscar Oncall (")
    assert f'<time datetime="{start.isoformat()}" data-local="full">' in error
    end = start + timedelta(hours=12)
    assert f'<time datetime="{end.isoformat()}" data-local="full">' in error
    assert "· T-02:00 to" in error and "· T+10:00)" in error

    r = api(team["rm"]).post(f"/api/releases/{release.pk}/oncall/On-Call Engineer/shifts", clash)
    assert r.status_code == 400 and OnCallShift.objects.count() == 1
    problem = r.json()["errors"][0]
    assert problem["field"] == "starts_at"
    assert problem["message"] == (
        "overlaps the shift of Oscar Oncall "
        "(Fri 18 Dec 2026 19:00 CET (T-02:00) to Sat 19 Dec 2026 07:00 CET (T+10:00))"
    )
    # A swap that runs into another swap: the same, naming ends_at.
    swap = {**fields(start, 2, ""), "person": "Omar Swap"}
    assert client.post(url(team, "oncall/overrides/"), swap).status_code == 302
    early = {**fields(start - timedelta(hours=1), 2, ""), "person": "Olga Oncall"}
    r = api(team["rm"]).post(f"/api/releases/{release.pk}/oncall/On-Call Engineer/overrides", early)
    assert r.status_code == 400 and r.json()["errors"][0] == {
        "field": "ends_at",
        "message": "overlaps the swap for Omar Swap "
        "(Fri 18 Dec 2026 19:00 CET (T-02:00) to Fri 18 Dec 2026 21:00 CET (T0))",
    }
    r = client.post(url(team, "oncall/overrides/"), early)
    assert r.status_code == 400 and OnCallOverride.objects.count() == 1
    error = text(r).split('id="override-new-error">', 1)[1].split("</p>", 1)[0]
    assert error.startswith("ends_at: overlaps the swap for Omar Swap (<time ")
    assert "· T-02:00 to" in error and "· T0)" in error
