"""The statements of a step transition, the engine's hot path, written out.

A worker that finishes a step and claims the next one does it in two round trips on
PostgreSQL (:mod:`warroom.sqlbatch`): the first locks the release, reads the run with
its step, phase and release, records the outcome (a compare-and-swap on the lease) and
reads the next step with a fresh run id; the second inserts the claimed run with both
events and moves the chain head. The SQL is built once per process from the models'
metadata; the rows read become model instances as the ORM would build them.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import NamedTuple

from deployments.models import Phase, Release, Step, StepRun
from warroom import sqlbatch
from warroom.sqlbatch import Result, Statement


class _Sql(NamedTuple):
    lock: str
    read: str
    finishing: str
    after_run: str
    after_run_new_id: str
    after_step: str


@functools.cache
def _sql(vendor: str) -> _Sql:
    q = sqlbatch.q
    run, step = q(StepRun._meta.db_table), q(Step._meta.db_table)
    phase, release = q(Phase._meta.db_table), q(Release._meta.db_table)
    r, s, p, rel, n, c, a = (q(x) for x in ("r", "s", "p", "rel", "n", "c", "a"))
    pk, order = q("id"), q("order")
    joins = (
        f"FROM {run} {r} JOIN {step} {s} ON {s}.{pk} = {r}.{q('step_id')} "
        f"JOIN {phase} {p} ON {p}.{pk} = {s}.{q('phase_id')}"
    )
    lock = (
        f"SELECT 1 FROM {release} WHERE {pk} = (SELECT {p}.{q('release_id')} {joins} "
        f"WHERE {r}.{pk} = %s){sqlbatch.for_update()}"
    )
    read = (
        f"SELECT {sqlbatch.columns(StepRun, 'r')}, {sqlbatch.columns(Step, 's')}, "
        f"{sqlbatch.columns(Phase, 'p')}, {sqlbatch.columns(Release, 'rel')} {joins} "
        f"JOIN {release} {rel} ON {rel}.{pk} = {p}.{q('release_id')} WHERE {r}.{pk} = %s"
    )
    finishing = (
        f"UPDATE {run} SET {q('status')} = %s, {q('finished_at')} = %s, "
        f"{q('lease_expires_at')} = NULL, {q('log')} = %s, {q('error')} = %s "
        f"WHERE {pk} = %s AND {q('lease_owner')} = %s AND {q('status')} = %s"
    )

    def following(source: str, after: str) -> str:
        return (
            f"SELECT {sqlbatch.columns(Step, 'n')}, (SELECT MAX({a}.{q('attempt')}) "
            f"FROM {run} {a} WHERE {a}.{q('step_id')} = {n}.{pk}) FROM {step} {n} {source} "
            f"AND {n}.{q('is_rollback')} = %s AND {after} "
            f"ORDER BY {n}.{order}, {n}.{pk} LIMIT 1"
        )

    after_run = following(
        f"JOIN {step} {c} ON {c}.{q('phase_id')} = {n}.{q('phase_id')} "
        f"JOIN {run} {r} ON {r}.{q('step_id')} = {c}.{pk} WHERE {r}.{pk} = %s",
        f"({n}.{order} > {c}.{order} OR ({n}.{order} = {c}.{order} AND {n}.{pk} > {c}.{pk}))",
    )
    after_step = following(
        f"WHERE {n}.{q('phase_id')} = %s",
        f"({n}.{order} > %s OR ({n}.{order} = %s AND {n}.{pk} > %s))",
    )
    # The id is drawn only when there is a next step (LIMIT 1 inside, nextval outside).
    serial = f"pg_get_serial_sequence('{StepRun._meta.db_table}', 'id')"
    after_run_new_id = f"SELECT x.*, nextval({serial}) FROM ({after_run}) x"
    return _Sql(lock, read, finishing, after_run, after_run_new_id, after_step)


def sql() -> _Sql:
    return _sql(sqlbatch.connection.vendor)


def lock_and_read(run_id: int) -> list[Statement]:
    """Lock the run's release (where the backend has row locks: SQLite's IMMEDIATE
    transaction holds the whole database), then read the run with its step, phase and
    release — after the lock, so every column is current."""
    read = Statement(sql().read, [run_id])
    return [Statement(sql().lock, [run_id]), read] if sqlbatch.for_update() else [read]


def run_read(result: Result) -> tuple[StepRun, Release] | None:
    """The run and its release from :func:`lock_and_read`'s read (None: no such run);
    ``run.step.phase.release`` is that release."""
    if not result.rows:
        return None
    row = result.rows[0]
    parts = []
    for model in (StepRun, Step, Phase, Release):
        width = len(model._meta.concrete_fields)
        parts.append(sqlbatch.instance(model, row[:width]))
        row = row[width:]
    run, step, phase, release = parts
    run.step, step.phase, phase.release = step, phase, release
    return run, release


def finishing(
    run_id: int, owner: str, *, status: str, now: datetime, log: str, error: str
) -> Statement:
    """The compare-and-swap that records a run's outcome: only while ``owner`` holds it."""
    at = StepRun._meta.get_field("finished_at").get_db_prep_save(now, sqlbatch.connection)
    return Statement(
        sql().finishing, [status, at, log, error, run_id, owner, StepRun.Status.RUNNING]
    )


class Following(NamedTuple):
    """The next forward step (None after the last), its latest attempt (0: never run)
    and, when asked for, a fresh id for the run that claims it."""

    step: Step | None
    last_attempt: int
    new_id: int | None


def following_run(run_id: int, *, new_id: bool) -> Statement:
    """The forward step after the run's, with its latest attempt; with ``new_id`` also
    a fresh StepRun id for claiming it (PostgreSQL only)."""
    return Statement(sql().after_run_new_id if new_id else sql().after_run, [run_id, False])


def following_step(step: Step) -> Statement:
    """The forward step after ``step``, with its latest attempt."""
    return Statement(sql().after_step, [step.phase_id, False, step.order, step.order, step.pk])


def following(result: Result, *, new_id: bool = False) -> Following:
    """What :func:`following_run` or :func:`following_step` read."""
    if not result.rows:
        return Following(None, 0, None)
    row = result.rows[0]
    width = len(Step._meta.concrete_fields)
    return Following(
        sqlbatch.instance(Step, row[:width]), row[width] or 0, row[width + 1] if new_id else None
    )
