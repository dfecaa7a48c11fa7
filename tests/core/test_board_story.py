"""The board tells the story: alerts nobody misses, a pinned status line with the next
update's time, milestone history apart from the ticks, and how far the ETA slipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checklists import services
from deployments import selectors
from deployments import services as release_services
from tests.factories import team_release
from warroom import clock
from warroom.audit import AuditEvent
from warroom.errors import FieldError

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 19, 22, 0, tzinfo=UTC)


def at(**offset) -> datetime:
    return T0 + timedelta(**offset)


@pytest.fixture
def night():
    with clock.frozen_at(at(days=-2)):
        return team_release(go_live_at=T0)


def summary_at(release, moment):
    with clock.frozen_at(moment):
        return selectors.summary(release)


def test_a_raised_trigger_is_an_alert_counting_down_then_up(night, settings):
    settings.ROLLBACK_DECISION_SECONDS = 300
    with clock.frozen_at(at(minutes=10)):
        services.rollback_raise(release=night.release, reason="p95 2.4 s", user=night["devops"])
    [alert] = [a for a in summary_at(night.release, at(minutes=12)).alerts if a.kind != "gate_late"]
    assert alert.kind == "rollback" and alert.deadline == at(minutes=15)
    assert "p95 2.4 s" in alert.text
    [alert] = [a for a in summary_at(night.release, at(minutes=18)).alerts if a.kind != "gate_late"]
    assert alert.kind == "rollback_overdue"


def test_a_gate_past_its_time_undecided_is_an_alert_until_decided(night):
    assert summary_at(night.release, at(minutes=-31)).alerts == []
    [alert] = summary_at(night.release, at(minutes=-20)).alerts
    assert alert.kind == "gate_late" and alert.text.startswith("Go/No-Go is late")
    assert "0/3 sign-offs, 2 items open" in alert.text
    with clock.frozen_at(at(minutes=-19)):
        d = services.decision_record(
            gate=night.gate(), outcome="no_go", rationale="not ready", user=night["vp"]
        )
    [alert] = summary_at(night.release, at(minutes=-18)).alerts
    assert "awaiting Release Manager" in alert.text  # a proposal alone does not decide
    with clock.frozen_at(at(minutes=-17)):
        services.decision_vote_record(decision=d, verdict="confirm", user=night["rm"])
    assert summary_at(night.release, at(minutes=-16)).alerts == []


def test_the_release_manager_pins_a_status_line_with_the_next_update(night, client):
    with clock.frozen_at(at(minutes=5)):
        release_services.release_pin_status(
            release=night.release,
            user=night["rm"],
            text="Migrations done; canary at 10%",
            next_update_at=at(minutes=20),
        )
    night.release.refresh_from_db()
    assert night.release.status_line_by == "Rita Manager"
    event = AuditEvent.objects.get(release=night.release, kind="release.status_pinned")
    assert event.data["next_update_at"] == at(minutes=20).isoformat()
    board = client.get(f"/board/{night.release.board_token}/").content.decode()
    assert "Migrations done; canary at 10%" in board and "next update at" in board
    with pytest.raises(FieldError) as err, clock.frozen_at(at(minutes=6)):
        release_services.release_pin_status(
            release=night.release, user=night["rm"], text="x", next_update_at=at(minutes=1)
        )
    assert err.value.field == "next_update_at"


def test_only_the_release_manager_pins_the_status_line(night, api):
    url = f"/api/releases/{night.release.pk}/status-line"
    assert api(night["dba"]).put(url, {"text": "all good"}).status_code == 403
    resp = api(night["rm"]).put(url, {"text": "all good"})
    assert resp.status_code == 200 and resp.json()["text"] == "all good"
    assert api(night["rm"]).put(url, {"text": "x" * 281}).status_code == 400


def test_milestones_are_kept_apart_from_ticks(night):
    with clock.frozen_at(at(minutes=-40)):
        for item in night.release.checklists.get(name="Environment verification").items.all():
            services.item_set_status(item=item, status="done", user=night["rm"])
        d = services.decision_record(
            gate=night.gate(),
            outcome="no_go",
            rationale="DB replica lagging",
            user=night["vp"],
        )
        services.decision_vote_record(decision=d, verdict="confirm", user=night["rm"])
    s = summary_at(night.release, at(minutes=-39))
    assert [e.kind for e in s.milestones] == [
        "decision.recorded",
        "decision.proposed",
        "release.created",
    ]
    assert all(e.kind != "item.status" for e in s.milestones)


def test_the_eta_slips_with_late_work_of_the_night_only(night):
    # A day-old pre-deployment list does not move the ETA; the phase's own work does.
    planned = summary_at(night.release, at(minutes=-90)).eta
    s = summary_at(night.release, at(minutes=25))
    assert s.eta_slip == timedelta(minutes=55)  # Go/No-Go list due T-30m, still open
    assert s.eta == planned + timedelta(minutes=55)


def test_the_release_list_shows_the_alerts_of_releases_under_way(client):
    from checklists import services as checklist_services

    team = team_release()  # T0 in an hour: under way
    checklist_services.rollback_raise(
        release=team.release, reason="error rate 5%", user=team["devops"]
    )
    client.force_login(team["pm"])
    page = client.get("/").content.decode()
    assert "Rollback trigger raised: error rate 5%" in page


def test_the_board_says_window_open_before_t0_and_under_way_after(night, client):
    client.force_login(night["pm"])
    url = f"/releases/{night.release.pk}/board/"
    with clock.frozen_at(at(minutes=-30)):  # inside the window (T-2h), before T0
        before = client.get(url).content.decode()
    with clock.frozen_at(at(minutes=30)):
        after = client.get(url).content.decode()
    assert "Window open · go-live at" in before and "Go-live under way" not in before
    assert "Go-live under way" in after and "Window open" not in after
