"""An expired rollback decision clock, a late gate and an unanswered "your decision is
needed" escalate like an unacknowledged issue: the deciders' backups, then the matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklists import services as checklist_services
from deployments.clockwork import record_due
from notifications import escalation
from tests.escalation.helpers import escalation_release
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


def escalated(release) -> list[tuple[int, list[str]]]:
    return [
        (e.data["level"], sorted(p["person"] for p in e.data["paged"]))
        for e in AuditEvent.objects.filter(release=release, kind="decision.escalated").order_by(
            "seq"
        )
    ]


def run(release, at) -> None:
    """What beat's tick does at ``at``: the clock's marks, then escalation."""
    record_due(release, at)
    escalation.escalate_due(at)


def test_a_late_gate_pages_the_deciders_backups_then_the_next_levels():
    team = escalation_release()  # T0 in an hour; Go/No-Go at T-30m
    due = team.release.go_live_at - timedelta(minutes=30)
    run(team.release, due - timedelta(minutes=1))
    assert escalated(team.release) == []
    for minutes in (0.1, 1, 14, 15.1, 16, 30.1, 31):
        run(team.release, due + timedelta(minutes=minutes))
    # Rita's backup is Ben; the VP has none, so Victor himself is asked again.
    assert escalated(team.release) == [
        (0, ["Ben Backup", "Victor President"]),
        (2, ["Dana Admin"]),
        (3, ["Rita Manager", "Victor President"]),
    ]


def test_deciding_the_gate_stops_its_escalation():
    team = escalation_release()
    due = team.release.go_live_at - timedelta(minutes=30)
    run(team.release, due + timedelta(seconds=5))
    assert [lv for lv, _ in escalated(team.release)] == [0]
    with clock.frozen_at(due + timedelta(minutes=5)):
        checklist_services.decision_record(
            gate=team.gate(), outcome="no_go", rationale="DB not ready", user=team["vp"]
        )
        checklist_services.decision_vote_record(
            decision=team.gate().decisions.get(), verdict="confirm", user=team["rm"]
        )
    run(team.release, due + timedelta(minutes=40))
    assert [lv for lv, _ in escalated(team.release)] == [0]


def test_an_expired_rollback_clock_escalates_until_it_is_decided(settings):
    team = escalation_release(go_live_at=clock.now() - timedelta(minutes=10))
    start = clock.now()
    with clock.frozen_at(start):
        call = checklist_services.rollback_raise(
            release=team.release, reason="p95 over 800 ms", user=team["devops"]
        )
    expired = call.decide_by + timedelta(seconds=1)
    run(team.release, expired)
    assert escalated(team.release)[0][0] == 0
    assert "Ben Backup" in escalated(team.release)[0][1]
    run(team.release, expired + timedelta(minutes=16))
    assert [lv for lv, _ in escalated(team.release)] == [0, 2]
    with clock.frozen_at(expired + timedelta(minutes=17)):
        checklist_services.rollback_decide(
            call=call, choice="continue", rationale="recovered", user=team["rm"]
        )
    run(team.release, expired + timedelta(minutes=60))
    assert [lv for lv, _ in escalated(team.release)] == [0, 2]


def test_an_unanswered_proposal_pages_the_awaited_roles_backup(settings):
    settings.DECISION_ANSWER_SECONDS = 300
    team = escalation_release(go_live_at=clock.now() + timedelta(hours=3))
    start = clock.now()
    with clock.frozen_at(start):
        checklist_services.decision_record(
            gate=team.gate(), outcome="no_go", rationale="Not ready", user=team["vp"]
        )
    escalation.escalate_due(start + timedelta(minutes=4))
    assert escalated(team.release) == []
    escalation.escalate_due(start + timedelta(minutes=5, seconds=1))
    assert escalated(team.release) == [(0, ["Ben Backup"])]
