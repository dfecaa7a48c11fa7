"""Findings of the attack probe that landed before the rest of issue 15, each with the test
that would have failed then: bad htmx fields are 400 not 500, release names are bounded
and NUL-free on every database, access is checked before input, and a far-off go-live
time that is already stored cannot take a page down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deployments.models import Release
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_non_numeric_role_or_supersedes_in_an_htmx_form_is_400_naming_it(client, team):
    gate = team.gate()
    client.force_login(team["dba"])
    resp = client.post(
        f"/releases/{team.release.pk}/gates/{gate.pk}/signoff",
        {"role": "abc", "verdict": "approve"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 400 and resp.content.decode() == "role: is not a number"
    client.force_login(team["rm"])
    resp = client.post(
        f"/releases/{team.release.pk}/gates/{gate.pk}/decide",
        {"outcome": "no_go", "rationale": "not ready", "supersedes": "abc"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 400 and resp.content.decode() == "supersedes: is not a number"
    assert not gate.decisions.exists()


@pytest.mark.parametrize(
    "name, says",
    [("x" * 300, "at most 200 characters"), ("Orbit\u0000Payments", "NUL")],
)
def test_a_release_name_too_long_or_with_a_nul_is_400_on_every_database(api, team, name, says):
    resp = api(team["rm"]).patch(f"/api/releases/{team.release.pk}", {"name": name})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "name"
    assert says in resp.json()["detail"]
    assert Release.objects.get(pk=team.release.pk).name == "Orbit Payments"


def test_access_is_checked_before_input_so_outsiders_learn_no_names(client, api, team):
    """A bad field from someone outside the release is a 403 (audited), never a 400 that
    would name the release's roles or gates."""
    gate = team.gate()
    client.force_login(team["outsider"])
    resp = client.post(
        f"/releases/{team.release.pk}/gates/{gate.pk}/signoff",
        {"role": "abc", "verdict": "approve"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 403
    resp = api(team["outsider"]).post(
        f"/api/releases/{team.release.pk}/gates/{gate.pk}/signoffs",
        {"role_id": 999999, "verdict": "approve"},
    )
    assert resp.status_code == 403 and "Go/No-Go" not in resp.content.decode()
    assert AuditEvent.objects.filter(release=team.release, kind="access.denied").count() == 2


@pytest.mark.parametrize(
    "stored", [datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1, 1, 1, 0, 0, tzinfo=UTC)]
)
def test_a_far_off_go_live_already_stored_takes_no_page_down(client, api, team, stored):
    """Written behind the service's back (an old row, a shell): every page still answers."""
    Release.objects.filter(pk=team.release.pk).update(go_live_at=stored)
    release = Release.objects.get(pk=team.release.pk)
    client.force_login(team["admin"])
    for url in (
        "/",
        f"/releases/{release.pk}/",
        f"/releases/{release.pk}/board/",
        f"/board/{release.board_token}/",
        f"/releases/{release.pk}/mine",
        f"/releases/{release.pk}/sync?variant=warroom",
        f"/releases/{release.pk}/sync?variant=board",
        f"/releases/{release.pk}/late/",
        f"/releases/{release.pk}/gates/{team.gate().pk}/",
    ):
        assert client.get(url).status_code == 200, url
    for path in ("/api/releases", f"/api/releases/{release.pk}"):
        assert api(team["dba"]).get(path).status_code == 200, path


def test_a_release_before_its_first_phase_answers_with_no_current_phase(api):
    from datetime import timedelta

    from tests.factories import team_release
    from warroom import clock

    upcoming = team_release(go_live_at=clock.now() + timedelta(days=3))
    resp = api(upcoming["dba"]).get(f"/api/releases/{upcoming.release.pk}")
    assert resp.status_code == 200 and resp.json()["current_phase"] is None
