"""The clock as an actor: each moment of the plan is recorded once, when it comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checklists import services
from deployments import clockwork
from deployments import services as release_services
from deployments.models import ClockMark, ClockWatch
from tests.factories import team_release
from warroom import clock, events
from warroom.audit import AuditEvent, verify_chain

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 19, 22, 0, tzinfo=UTC)


def at(**offset) -> datetime:
    return T0 + timedelta(**offset)


@pytest.fixture
def night():
    """The team release, created a day before its T0 (so the night's moments count)."""
    with clock.frozen_at(at(days=-1, hours=-1)):
        team = team_release(go_live_at=T0)
    return team


def clock_events(release):
    return list(
        AuditEvent.objects.filter(release=release, actor_label="clock")
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def run_at(release, moment) -> int:
    with clock.frozen_at(moment):
        return clockwork.record_due(release, moment)


def test_nothing_is_recorded_before_its_time(night):
    assert run_at(night.release, at(days=-1, minutes=-30)) == 0
    assert clock_events(night.release) == []


def test_each_moment_is_recorded_once_when_it_comes(night):
    release = night.release
    # T-1d: the T-1 Day list falls due with its three items open.
    assert run_at(release, at(days=-1, seconds=5)) == 1
    assert clock_events(release) == ["checklist.overdue"]
    # T-2h: the window opens and Pre-Deployment starts; running twice changes nothing.
    assert run_at(release, at(hours=-2, seconds=3)) == 2
    assert run_at(release, at(hours=-2, seconds=18)) == 0
    assert clock_events(release)[1:] == ["release.window_opened", "phase.started"]
    # T-30m: the Go/No-Go gate is due and nobody decided.
    run_at(release, at(minutes=-30, seconds=1))
    late = AuditEvent.objects.get(release=release, kind="gate.late")
    assert late.data["name"] == "Go/No-Go" and late.data["late_by_s"] == 1
    assert late.data["blockers"]  # what still stands in the way, for whoever reads it
    # T0: Pre-Deployment ends with its items open, Deployment Execution starts, T0.
    run_at(release, at(seconds=2))
    assert sorted(clock_events(release)[-4:]) == [
        "checklist.overdue",
        "phase.ended",
        "phase.started",
        "release.t0_reached",
    ]
    assert verify_chain(release.pk) is None


def test_a_checklist_done_in_time_falls_due_silently(night):
    release = night.release
    for item in release.checklists.get(name="T-1 Day").items.all():
        with clock.frozen_at(at(days=-1, minutes=-5)):
            services.item_set_status(item=item, status="done", user=night["qa"])
    run_at(release, at(days=-1, seconds=5))
    assert "checklist.overdue" not in clock_events(release)
    assert (
        ClockMark.objects.filter(release=release, key__startswith="checklist.overdue").count() == 1
    )


def test_a_decided_gate_is_not_late(night):
    release = night.release
    gate = night.gate()
    with clock.frozen_at(at(minutes=-40)):
        d = services.decision_record(
            gate=gate, outcome="no_go", rationale="DB migration not rehearsed", user=night["vp"]
        )
        services.decision_vote_record(decision=d, verdict="confirm", user=night["rm"])
    run_at(release, at(minutes=-29))
    assert "gate.late" not in clock_events(release)


def test_a_gate_with_only_a_proposal_is_late(night):
    with clock.frozen_at(at(minutes=-40)):
        services.decision_record(
            gate=night.gate(), outcome="no_go", rationale="not rehearsed", user=night["vp"]
        )
    run_at(night.release, at(minutes=-29))
    assert "gate.late" in clock_events(night.release)


def test_an_expired_rollback_decision_clock_is_recorded(night, settings):
    settings.ROLLBACK_DECISION_SECONDS = 300
    with clock.frozen_at(at(minutes=10)):
        services.rollback_raise(
            release=night.release, reason="error rate 4% for 6 minutes", user=night["rm"]
        )
    run_at(night.release, at(minutes=14))
    assert "rollback.expired" not in clock_events(night.release)
    run_at(night.release, at(minutes=15, seconds=10))
    expired = AuditEvent.objects.get(release=night.release, kind="rollback.expired")
    assert expired.data["reason"] == "error rate 4% for 6 minutes"


def test_moments_past_before_the_release_existed_are_not_replayed():
    with clock.frozen_at(at(minutes=5)):
        team = team_release(go_live_at=T0)  # imported after T0
    assert run_at(team.release, at(minutes=6)) == 0
    assert clock_events(team.release) == []
    # ... but what comes after does.
    assert run_at(team.release, at(hours=2, seconds=1)) >= 1


def test_moving_t0_brings_the_moments_back_at_their_new_time(night):
    release = night.release
    run_at(release, at(hours=-2, seconds=1))
    assert clock_events(release).count("phase.started") == 1
    with clock.frozen_at(at(hours=-1)):
        release_services.release_edit(
            release=release, user=night["rm"], go_live_at=T0 + timedelta(hours=3)
        )
    run_at(release, at(hours=-1, seconds=1))
    assert clock_events(release).count("phase.started") == 1  # not yet: now at T0+1h
    run_at(release, at(hours=1, seconds=1))
    assert clock_events(release).count("phase.started") == 2


def test_the_tick_job_covers_watched_releases_only(night):
    far = team_release(go_live_at=T0 + timedelta(days=400))
    with clock.frozen_at(at(hours=-2, seconds=1)):
        clockwork.record_all_due(at(hours=-2, seconds=1))
    assert "phase.started" in clock_events(night.release)
    assert clock_events(far.release) == []


def test_the_tick_looks_again_at_a_release_only_when_its_next_moment_comes_or_it_changes(
    night, django_assert_num_queries
):
    release = night.release
    tick = clockwork.record_all_due
    with clock.frozen_at(at(hours=-3)):
        tick(at(hours=-3))  # what is due (the day-before checklist) is recorded
        tick(at(hours=-3))  # looked at again: nothing due, the next moment is at T-2h
        with django_assert_num_queries(1):  # the watched releases, and nothing else
            tick(at(hours=-2, seconds=-1))
    with clock.frozen_at(at(hours=-2, seconds=1)):
        tick(at(hours=-2, seconds=1))
    assert clock_events(release).count("phase.started") == 1
    # T0 moves (an event): the release is looked at again at once, not at its old moments.
    with clock.frozen_at(at(hours=-1)):
        release_services.release_edit(
            release=release, user=night["rm"], go_live_at=T0 + timedelta(hours=3)
        )
        tick(at(hours=-1))  # the new day-before checklist is overdue at once
        tick(at(hours=-1))
    # A message sent (the comms app's event) moves no moment: one look at what happened.
    with clock.frozen_at(at(minutes=-2)):
        events.record(release, "comms.next_edited", actor_label="rm", data={"rule": "Update"})
        with django_assert_num_queries(2):
            tick(at(minutes=-2))
    with clock.frozen_at(at(minutes=-1)), django_assert_num_queries(1):
        tick(at(minutes=-1))  # the old T0 is not a moment any more
    assert "release.t0_reached" not in clock_events(release)
    with clock.frozen_at(at(hours=3, seconds=1)):
        tick(at(hours=3, seconds=1))
    assert "release.t0_reached" in clock_events(release)


def test_after_a_batch_of_messages_on_many_releases_the_tick_reads_what_happened_at_once(
    night, django_assert_num_queries
):
    with clock.frozen_at(at(days=-1, hours=-1)):
        others = [team_release(go_live_at=T0).release for _ in range(2)]
    releases = [night.release, *others]
    tick = clockwork.record_all_due
    with clock.frozen_at(at(hours=-3)):
        tick(at(hours=-3))  # what is due (the day-before checklist) is recorded
        tick(at(hours=-3))  # looked at again: nothing due, the next moment is at T-2h
    # A comms worker's batch: "update sent" on each release (moves no moment).
    with clock.frozen_at(at(hours=-2, minutes=-30)):
        events.record_each(
            [(r, "comms.update_sent", {"message": n}) for n, r in enumerate(releases)],
            actor_label="comms",
        )
        with django_assert_num_queries(2):  # the watched releases; their new events' kinds
            tick(at(hours=-2, minutes=-30))
        with django_assert_num_queries(1):
            tick(at(hours=-2, minutes=-30))
    with clock.frozen_at(at(hours=-2, seconds=1)):
        tick(at(hours=-2, seconds=1))
    for release in releases:
        assert clock_events(release).count("phase.started") == 1


def test_a_process_that_has_not_looked_at_a_release_reads_what_another_found(
    night, django_assert_num_queries
):
    release = night.release
    tick = clockwork.record_all_due
    with clock.frozen_at(at(hours=-3)):
        tick(at(hours=-3))  # what is due (the day-before checklist) is recorded
        tick(at(hours=-3))  # looked at: nothing due, the next moment is at T-2h; shared
    watch = ClockWatch.objects.get(release=release)
    assert (watch.go_live_at, watch.next_at) == (T0, at(hours=-2))
    clockwork._next_moment.clear()  # another worker process, which has not ticked yet
    with clock.frozen_at(at(hours=-2, seconds=-1)):
        with django_assert_num_queries(2):  # the watched releases; what the other found
            tick(at(hours=-2, seconds=-1))
        with django_assert_num_queries(1):
            tick(at(hours=-2, seconds=-1))
    with clock.frozen_at(at(hours=-2, seconds=1)):
        tick(at(hours=-2, seconds=1))
    assert clock_events(release).count("phase.started") == 1
