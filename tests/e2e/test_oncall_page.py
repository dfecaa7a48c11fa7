"""The contacts page's on-call shifts in Chromium, in Berlin time: the release manager adds
a shift with the date-time pickers, an overlapping one is refused naming its start (the
field marked, what was typed kept), the shift is edited and deleted; axe-core finds nothing
blocking."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.axe import audit, blocking, with_axe
from tests.e2e.conftest import SCREENSHOTS, in_thread, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def on_call_role(release) -> None:
    from warroom.people.models import Assignment, Person, Role

    role = Role.objects.create(release=release, name="On-Call Engineer")
    for name in ("Oscar Oncall", "Olga Oncall"):
        person = Person.objects.create(name=name, email=f"{name.split()[0].lower()}@orbit.example")
        Assignment.objects.create(role=role, person=person, kind="backup")


def local(moment) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def test_the_release_manager_keeps_the_rotation_on_the_contacts_page(live_team, contexts):
    from notifications.escalation_models import OnCallShift
    from warroom import clock

    release = live_team.release
    in_thread(on_call_role, release)
    start = clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    ctx = with_axe(contexts(timezone_id="Europe/Berlin"))
    page = login(ctx, live_team.server, "rm", f"/releases/{release.pk}/contacts/")

    form = page.locator("#shift-new")
    form.get_by_label("Role").select_option("On-Call Engineer")
    form.get_by_label("Starts").fill(local(start))
    form.get_by_label("Ends").fill(local(start + timedelta(hours=12)))
    form.get_by_label("Primary").select_option("Oscar Oncall")
    form.get_by_label("Backup").select_option("Olga Oncall")
    with page.expect_navigation():
        form.get_by_role("button", name="Add shift").click()
    shift = in_thread(lambda: OnCallShift.objects.get())
    assert shift.starts_at == start and shift.ends_at == start + timedelta(hours=12)
    row = page.locator(f"#shift-{shift.pk}")
    assert "Oscar Oncall" in row.inner_text() and "Olga Oncall" in row.inner_text()
    # Shown in the viewer's own time (Berlin) and as T-offset.
    assert start.astimezone(BERLIN).strftime("%H:%M") in row.inner_text()
    assert "T-" in row.inner_text() or "T+" in row.inner_text()
    assert "On call now: Oscar Oncall" in page.locator("table.contacts").inner_text()

    # An overlapping shift: refused, naming its start; the field is marked, values kept.
    form = page.locator("#shift-new")
    form.get_by_label("Starts").fill(local(start + timedelta(hours=11)))
    form.get_by_label("Ends").fill(local(start + timedelta(hours=23)))
    form.get_by_label("Primary").select_option("Olga Oncall")
    with page.expect_navigation():
        form.get_by_role("button", name="Add shift").click()
    form = page.locator("#shift-new")
    error = form.get_by_role("alert")
    assert error.inner_text().startswith("starts_at: overlaps the shift of Oscar Oncall")
    # The other shift's times as the rest of the page shows them: Berlin, with T-offsets.
    said = error.inner_text()
    assert start.astimezone(BERLIN).strftime("%H:%M") in said and "UTC" not in said
    assert said.count(" · T") == 2
    assert form.get_by_label("Starts").get_attribute("aria-invalid") == "true"
    assert form.get_by_label("Starts").input_value() == local(start + timedelta(hours=11))
    assert form.get_by_label("Primary").input_value() == "Olga Oncall"
    assert in_thread(lambda: OnCallShift.objects.count()) == 1
    assert blocking(audit(page)) == []
    page.locator("#oncall").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "oncall-overlap.png"), full_page=True)

    # Edit the shift: Olga becomes primary; then delete it.
    row = page.locator(f"#shift-{shift.pk}")
    row.get_by_text("Edit").click()
    assert row.get_by_label("Starts").input_value() == local(start)  # shown in local time
    row.get_by_label("Primary").select_option("Olga Oncall")
    row.get_by_label("Backup").select_option("Oscar Oncall")
    with page.expect_navigation():
        row.get_by_role("button", name="Save shift").click()
    assert "On call now: Olga Oncall" in page.locator("table.contacts").inner_text()
    page.locator(f"#shift-{shift.pk}").get_by_text("Edit").click()
    page.screenshot(path=str(SCREENSHOTS / "oncall-edit.png"), full_page=True)
    with page.expect_navigation():
        page.locator(f"#shift-{shift.pk}").get_by_role("button", name="Delete shift").click()
    assert in_thread(lambda: OnCallShift.objects.count()) == 0
    assert "No shifts yet." in page.locator("#oncall").inner_text()
    assert [e for e in page.watch.errors if "400" not in e] == []
