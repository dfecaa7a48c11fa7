"""The database round-trips of a step transition, counted: a worker that finishes a step
and claims the next one in the same transaction writes both events with one insert and
one update of the release's chain head (issue 19's dispatch figure is round-trips)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments import engine
from deployments.models import StepRun
from notifications import services as comms
from notifications.models import CommsRule, Message
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _phase_of_waits(team, n: int):
    phase = team.release.phases.get(name="Deployment Execution")
    for i in range(n):
        engine.step_attach(
            phase=phase, user=team["rm"], kind="wait", title=f"Pause {i}", config={"seconds": 0}
        )
    return phase


def _writes(queries, table: str, verb: str) -> int:
    """Statements writing ``table`` (several may share one round trip on PostgreSQL, or
    one statement, an UPDATE riding in an INSERT's WITH)."""
    needle = f'INSERT INTO "{table}"' if verb == "INSERT" else f'{verb} "{table}"'
    return sum(q["sql"].count(needle) for q in queries)


def _reads(queries, table: str) -> int:
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and f'"{table}"' in q["sql"])


def _statements(seen) -> list[dict]:
    return [
        q
        for q in seen.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]


def _events(release) -> list[tuple[int, str]]:
    return list(
        AuditEvent.objects.filter(release=release, kind__startswith="step.")
        .exclude(kind="step.attached")
        .order_by("seq")
        .values_list("seq", "kind")
    )


def test_a_chained_transition_writes_its_two_events_in_one_insert_and_one_head_update(team, queue):
    phase = _phase_of_waits(team, 3)
    engine.phase_run(phase=phase, user=team["rm"])
    first = queue.sent.pop(0)
    assert engine.claim(first, "worker-a") is not None

    with CaptureQueriesContext(connection) as seen:
        done = engine._finish(first, "worker-a", ok=True, message="ok", lines=[], chain=True)
    assert done is not None and done[1] is not None
    assert done[1].status == StepRun.Status.RUNNING and done[1].lease_owner == "worker-a"
    audit = AuditEvent._meta.db_table
    release_table = team.release._meta.db_table
    statements = _statements(seen)
    shown = [q["sql"][:60] for q in statements]
    if connection.vendor == "postgresql":
        # Two round trips between BEGIN and COMMIT: (1) lock the release, read the run
        # with its step, phase and release, finish the run, read the next step with a
        # fresh run id; (2) create the claimed run, insert both events and move the head.
        assert len(statements) == 2, shown
        first, second = (q["sql"] for q in statements)
        assert first.startswith(f'SELECT 1 FROM "{release_table}"') and "FOR UPDATE" in first
        assert first.count(";") == 3 and "nextval(" in first
        assert f'UPDATE "{StepRun._meta.db_table}"' in first
        assert second.startswith(f'INSERT INTO "{StepRun._meta.db_table}"')
    else:
        # read the run with its step, phase and release (the IMMEDIATE transaction holds
        # the database), finish the run, read the next step, create its run, insert both
        # events, move the head.
        assert len(statements) == 6, shown
    assert _writes(statements, audit, "INSERT") == 1
    assert _writes(statements, release_table, "UPDATE") == 1
    # The comms rules are not read (none reacts to steps, and this process knows it for
    # the release's comms stamp).
    assert _reads(seen.captured_queries, CommsRule._meta.db_table) == 0
    kinds = [k for _, k in _events(team.release)]
    assert kinds[-3:] == ["step.started", "step.succeeded", "step.started"]
    assert not queue.sent  # claimed, not queued


def test_an_unchained_transition_records_the_outcome_and_queues_the_next_step(team, queue):
    phase = _phase_of_waits(team, 2)
    engine.phase_run(phase=phase, user=team["rm"])
    first = queue.sent.pop(0)
    engine.claim(first, "worker-a")
    with CaptureQueriesContext(connection) as seen:
        done = engine._finish(first, "worker-a", ok=True, message="ok", lines=[], chain=False)
    assert done is not None and done[1] is None
    assert len(queue.sent) == 1
    assert [k for _, k in _events(team.release)][-2:] == ["step.started", "step.succeeded"]
    assert StepRun.objects.get(pk=queue.sent[0]).status == StepRun.Status.PENDING
    audit = AuditEvent._meta.db_table
    assert _writes(seen.captured_queries, audit, "INSERT") == 1


def test_the_last_step_records_its_outcome_then_the_phase_finish(team, queue):
    phase = _phase_of_waits(team, 1)
    engine.phase_run(phase=phase, user=team["rm"])
    only = queue.sent.pop(0)
    engine.claim(only, "worker-a")
    done = engine._finish(only, "worker-a", ok=True, message="ok", lines=[], chain=True)
    assert done is not None and done[1] is None
    last = list(
        AuditEvent.objects.filter(release=team.release)
        .order_by("-seq")
        .values_list("kind", flat=True)[:2]
    )
    assert last == ["phase.run_finished", "step.succeeded"]


def test_a_whole_phase_chained_in_one_worker_keeps_the_chain_gapless(team, queue):
    phase = _phase_of_waits(team, 5)
    engine.phase_run(phase=phase, user=team["rm"])
    queue.work()
    assert list(StepRun.objects.values_list("status", flat=True)) == ["succeeded"] * 5
    seqs = list(
        AuditEvent.objects.filter(release=team.release)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [k for _, k in _events(team.release)]
    assert kinds == ["step.started", "step.succeeded"] * 5


def test_a_rule_added_mid_phase_is_read_at_the_next_transition_and_sends(team, queue):
    """The engine's transitions skip the rules only while the release's comms stamp is the
    one this process cached: a rule created between two steps changes the stamp, so the
    next transition reads the rules again and the rule sends for its step."""
    phase = _phase_of_waits(team, 3)
    engine.phase_run(phase=phase, user=team["rm"])
    first = queue.sent.pop(0)
    engine.claim(first, "worker-a")
    done = engine._finish(first, "worker-a", ok=True, message="ok", lines=[], chain=True)
    assert done is not None and done[1] is not None
    rule = CommsRule.objects.create(
        release=team.release, name="Step done", event_kinds=["step.succeeded"], channels=["slack"]
    )
    with CaptureQueriesContext(connection) as seen:
        again = engine._finish(done[1].pk, "worker-a", ok=True, message="ok", lines=[], chain=True)
    assert again is not None and again[1] is not None
    assert _reads(seen.captured_queries, CommsRule._meta.db_table) == 1
    sent = Message.objects.filter(rule=rule)
    assert [m.cause for m in sent] == ["step.succeeded"]

    # Turned off from the comms page: the change's own audit event, recorded in this
    # process, read the rules under the new stamp; the last step's outcome and the
    # phase's finish find that stamp known and read no rule.
    comms.rule_change(
        release=team.release, rule=rule, user=team["rm"], enabled=False, channels=["slack"],
        audience="",
    )  # fmt: skip
    with CaptureQueriesContext(connection) as seen:
        last = engine._finish(again[1].pk, "worker-a", ok=True, message="ok", lines=[], chain=True)
    assert last is not None and last[1] is None  # the phase's last step
    assert _reads(seen.captured_queries, CommsRule._meta.db_table) == 0
    assert sent.count() == 1


def test_a_rule_deleted_mid_phase_changes_the_stamp(team, queue):
    phase = _phase_of_waits(team, 2)
    rule = CommsRule.objects.create(
        release=team.release, name="Steps", event_kinds=["step.started"], channels=["slack"]
    )
    stamp = type(team.release).objects.get(pk=team.release.pk).comms_stamp
    engine.phase_run(phase=phase, user=team["rm"])
    first = queue.sent.pop(0)
    engine.claim(first, "worker-a")
    assert Message.objects.filter(rule=rule).count() == 1  # the first step's start
    rule.delete()
    assert type(team.release).objects.get(pk=team.release.pk).comms_stamp != stamp
    done = engine._finish(first, "worker-a", ok=True, message="ok", lines=[], chain=True)
    assert done is not None and done[1] is not None
    assert Message.objects.filter(cause="step.started").count() == 1
