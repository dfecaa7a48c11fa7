"""Reuse as template: the copy's team is chosen person by person, not copied wholesale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deployments.models import Release
from warroom import policies
from warroom.audit import AuditEvent
from warroom.people.models import Assignment, Notice

pytestmark = pytest.mark.django_db


def holders(release) -> set[tuple[str, str, str]]:
    return set(
        Assignment.objects.filter(role__release=release).values_list(
            "role__name", "person__name", "kind"
        )
    )


def test_the_form_lists_the_team_with_only_your_own_seats_ticked(client, team):
    client.force_login(team["rm"])
    page = client.get(f"/releases/{team.release.pk}/reuse").content.decode()
    for name in ("Victor President", "Dana Admin", "Paula Product", "Ben Backup"):
        assert name in page
    rm_seat = Assignment.objects.get(role__release=team.release, person__user=team["rm"])
    vp_seat = Assignment.objects.get(role__release=team.release, person__user=team["vp"])
    assert f'name="team" value="{rm_seat.pk}" checked' in page
    assert f'name="team" value="{vp_seat.pk}">' in page  # not ticked


def test_the_copy_holds_only_the_people_ticked_and_they_are_told(client, team):
    dba = Assignment.objects.get(role__release=team.release, person__user=team["dba"])
    rm = Assignment.objects.get(role__release=team.release, person__user=team["rm"])
    t0 = team.release.go_live_at + timedelta(days=7)
    client.force_login(team["rm"])
    resp = client.post(
        f"/releases/{team.release.pk}/reuse",
        {"name": "Orbit Payments v4.3", "go_live_at": t0.isoformat(), "team": [dba.pk, rm.pk]},
    )
    assert resp.status_code == 302
    new = Release.objects.get(name="Orbit Payments v4.3")
    assert holders(new) == {
        ("DBA", "Dana Admin", "primary"),
        ("Release Manager", "Rita Manager", "primary"),
    }
    # The roles themselves are all there, with empty seats.
    assert set(new.roles.values_list("name", flat=True)) == set(
        team.release.roles.values_list("name", flat=True)
    )
    # The VP, not ticked, is not on the copy: no view, no say.
    st = policies.standing(team["vp"], new)
    assert not policies.check(st, policies.Action.VIEW)
    (notice,) = Notice.objects.filter(user=team["dba"])
    assert notice.text == "You were added to Orbit Payments v4.3 as DBA by Rita Manager"
    assert notice.release_id == new.pk
    assert not Notice.objects.filter(user=team["rm"]).exists()


def test_nothing_ticked_gives_a_copy_managed_by_its_maker_alone(team):
    from deployments import services

    t0 = team.release.go_live_at + timedelta(days=7)
    new = services.release_clone(release=team.release, go_live_at=t0, user=team["rm"])
    assert holders(new) == set() and new.created_by == team["rm"]
    assert policies.standing(team["rm"], new).is_release_manager


def test_people_from_another_release_cannot_be_slipped_into_the_copy(client, team):
    from tests.factories import team_release

    other = team_release()
    foreign = Assignment.objects.filter(role__release=other.release).first()
    client.force_login(team["rm"])
    t0 = team.release.go_live_at + timedelta(days=7)
    before = Release.objects.count()
    for bad in ([foreign.pk], ["abc"]):
        resp = client.post(
            f"/releases/{team.release.pk}/reuse", {"go_live_at": t0.isoformat(), "team": bad}
        )
        assert resp.status_code == 400
        assert "team: names people who are not on" in resp.content.decode()
    assert Release.objects.count() == before


def test_a_stakeholder_does_not_even_see_the_form_and_it_is_audited(client, team):
    client.force_login(team["pm"])
    assert client.get(f"/releases/{team.release.pk}/reuse").status_code == 403
    denied = AuditEvent.objects.filter(release=team.release, kind="access.denied").last()
    assert denied.data["action"] == "edit_plan" and denied.data["what"] == "reuse as template"
