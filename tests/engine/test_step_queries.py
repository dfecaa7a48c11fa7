"""The database round-trips of a step transition, counted: a worker that finishes a step
and claims the next one in the same transaction writes both events with one insert and
one update of the release's chain head (issue 19's dispatch figure is round-trips)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments import engine
from deployments.models import StepRun
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
    return sum(1 for q in queries if q["sql"].startswith(verb) and f'"{table}"' in q["sql"])


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
    assert _writes(seen.captured_queries, audit, "INSERT") == 1
    assert _writes(seen.captured_queries, release_table, "UPDATE") == 1
    # lock the run's release, finish the run, read the next step, create its run, insert
    # both events, move the head, read the comms rules.
    statements = [
        q
        for q in seen.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]
    assert len(statements) == 7, [q["sql"][:60] for q in statements]
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
