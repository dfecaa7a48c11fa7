"""The execution engine: steps attached to phases, run one after another on Celery workers.

A :class:`StepRun` moves ``awaiting`` (a person must confirm: "manual promote") →
``pending`` → ``running`` → ``succeeded`` | ``failed`` | ``skipped``. A worker *claims*
a run with one conditional UPDATE (compare-and-swap on status, lease owner and lease
expiry), so two workers never run the same step, on SQLite and PostgreSQL alike. While
it runs, the worker renews its lease; when a worker dies its lease runs out and the
next tick dispatches the run again — the new worker takes it over (counted in
``takeovers``, recorded as ``step.taken_over``) with the same idempotency key, and the
executor reads the world before it changes it, so each side effect happens once.

Finishing is also conditional on still holding the lease: a worker that lost its lease
(paused too long) cannot overwrite the outcome of the one that took over. After a
success the next step of the phase is queued; after a failure with attempts left a new
attempt is queued after the step's retry delay. The rollback plan (``is_rollback``
steps) runs in reverse order when a rollback starts; when its last step succeeds the
release is closed as rolled back.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q

from deployments import engine_sql
from deployments.executors import REPORTED, RunContext, StepFailed, executor_for
from deployments.models import EngineRequest, Phase, Release, Step, StepRun
from warroom import clock, events, policies, sqlbatch
from warroom.errors import Conflict, FieldError

logger = logging.getLogger(__name__)

ENGINE = "engine"  # the actor label of what the engine does by itself
RUN_TASK = "deployments.tasks.run_step"
OPEN = (StepRun.Status.AWAITING, StepRun.Status.PENDING, StepRun.Status.RUNNING)
MAX_ATTEMPTS = 10


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease() -> timedelta:
    return timedelta(seconds=settings.ENGINE_LEASE_SECONDS)


def send(run_id: int, delay: float = 0.0) -> None:
    """Put a run on the Celery queue (the one place the engine talks to the broker).

    The run is already stored as pending: when the broker cannot be reached the next tick
    (:func:`resume_due`) sends it, so a failure here is logged, not raised."""
    from warroom.celery import app

    try:
        app.send_task(
            RUN_TASK,
            args=[run_id],
            countdown=delay or None,
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        )
    except Exception as exc:  # kombu's and redis's errors alike: the tick resends
        logger.warning("run %s: not sent (%s); the next tick sends it", run_id, exc)


def _dispatch(run: StepRun, *, at: datetime | None = None) -> None:
    """Send the run to a worker once the transaction that queued it commits (a step a
    pipeline reports waits for its report instead)."""
    if run.step.kind in REPORTED:
        return
    pk = run.pk
    delay = max(0.0, (at - clock.now()).total_seconds()) if at else 0.0
    transaction.on_commit(lambda: send(pk, delay))


def _step_data(step: Step, run: StepRun | None = None, **extra) -> dict:
    data = {"step": step.pk, "title": step.title, "kind": step.kind, "phase": step.phase_id}
    if run is not None:
        data |= {"run": run.pk, "attempt": run.attempt, "dry_run": run.dry_run or step.dry_run}
    return data | extra


# --- the plan: attaching and ordering steps ------------------------------------------
def step_attach(*, phase: Phase, user, standing: policies.Standing | None = None, **fields) -> Step:
    """Attach a step to ``phase``: ``fields`` are :func:`build_step`'s (kind, title,
    config, ...); the config is validated by the kind's executor (a
    :class:`FieldError` names the field). ``user`` None is the system (the importer)."""
    release = phase.release
    if user is not None:
        st = standing or policies.standing(user, release)
        policies.require(
            st, policies.Action.EDIT_PLAN, release, target={"step": fields.get("title")}
        )
    step = build_step(phase=phase, **fields)
    with transaction.atomic():
        events.lock_head(release)
        if step.order is None:
            step.order = (phase.steps.aggregate(m=Max("order"))["m"] or 0) + 1
        step.save()
        events.record(
            release,
            "step.attached",
            actor=user,
            actor_label=None if user else "runbook",
            data=_step_data(
                step, does=executor_for(step.kind).describe(step.config), rollback=step.is_rollback
            ),
        )
    return step


def build_step(
    *,
    phase: Phase,
    kind: str,
    title: str,
    config: dict | None,
    order: int | None = None,
    requires_confirmation: bool = False,
    timeout_s: float | None = None,
    max_attempts: int = 1,
    retry_delay_s: float | None = None,
    is_rollback: bool = False,
    owner_role=None,
    dry_run: bool = False,
) -> Step:
    """A validated, unsaved step (the importer saves many at once)."""
    executor = executor_for(kind)
    title = (title or "").strip()
    if not title:
        raise FieldError("title", "say what the step does")
    if len(title) > 255:
        raise FieldError("title", "at most 255 characters")
    clean = executor.validate(config or {})
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise FieldError("max_attempts", "must be a whole number")
    if not 1 <= max_attempts <= MAX_ATTEMPTS:
        raise FieldError("max_attempts", f"must be between 1 and {MAX_ATTEMPTS}")
    for name, value in (("timeout_s", timeout_s), ("retry_delay_s", retry_delay_s)):
        if value is not None and (isinstance(value, bool) or not 0 < float(value) <= 86400):
            raise FieldError(name, "must be a number of seconds between 0 and 86400")
    return Step(
        phase=phase,
        order=order,  # type: ignore[misc]  # filled in on save when None
        kind=kind,
        title=title,
        config=clean,
        owner_role=owner_role,
        # A manual step is a person's: confirming it is ticking it done.
        requires_confirmation=requires_confirmation or kind == "manual",
        timeout=timedelta(seconds=float(timeout_s)) if timeout_s else None,
        max_attempts=max_attempts,
        retry_delay=timedelta(seconds=float(retry_delay_s)) if retry_delay_s else None,
        is_rollback=is_rollback,
        dry_run=bool(dry_run),
    )


def step_reorder(*, phase: Phase, step_ids: list[int], user, standing=None) -> list[Step]:
    """Put the phase's steps in the order given (every step of the phase, once)."""
    release = phase.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"phase": phase.pk})
    steps = {s.pk: s for s in phase.steps.all()}
    if sorted(step_ids) != sorted(steps):
        raise FieldError("steps", f"list each of this phase's steps once: {sorted(steps)}")
    with transaction.atomic():
        events.lock_head(release)
        for n, pk in enumerate(step_ids, start=1):
            Step.objects.filter(pk=pk).update(order=n)
        events.record(
            release,
            "step.reordered",
            actor=user,
            data={
                "phase": phase.pk,
                "name": phase.name,
                "steps": [steps[pk].title for pk in step_ids],
            },
        )
    return list(phase.steps.order_by("order", "id"))


# --- running: a phase, a step, a person's confirmation --------------------------------
def forward_steps(phase: Phase):
    return phase.steps.filter(is_rollback=False).order_by("order", "id")


def rollback_plan(release: Release) -> list[Step]:
    """The rollback steps in the order they run: the reverse of the plan's order (the
    last change made is the first undone)."""
    steps = Step.objects.filter(phase__release=release, is_rollback=True).select_related("phase")
    return sorted(steps, key=Step.plan_position, reverse=True)


def _queue(
    step: Step,
    *,
    dry_run: bool,
    by: str,
    not_before: datetime | None = None,
    last_attempt: int | None = None,
) -> StepRun:
    """A new attempt of ``step`` (inside the caller's transaction, under the head lock);
    ``last_attempt`` when the caller read it already (annotated on the step)."""
    if last_attempt is None:
        last_attempt = step.runs.aggregate(m=Max("attempt"))["m"]
    attempt = (last_attempt or 0) + 1
    awaiting = step.requires_confirmation and attempt == 1
    run = StepRun.objects.create(
        step=step,
        attempt=attempt,
        dry_run=dry_run,
        requested_by=by,
        not_before=not_before,
        status=StepRun.Status.AWAITING if awaiting else StepRun.Status.PENDING,
    )
    if awaiting:
        events.record(
            step.phase.release, "step.awaiting", actor_label=ENGINE, data=_step_data(step, run)
        )
    else:
        _dispatch(run, at=not_before)
    return run


def phase_run(*, phase: Phase, user, dry_run: bool = False, standing=None) -> StepRun | None:
    """Start the phase's automated steps, in order. Dry-run walks every step without
    side effects and logs what each would do."""
    release = phase.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EXECUTE_STEP, release, target={"phase": phase.pk})
    now = clock.now()
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        if release.is_closed:
            raise Conflict("phase", f"the release is {release.get_status_display().lower()}")
        if release.rollback_started_at and not dry_run:
            raise Conflict("phase", "the rollback plan is running")
        if release.paused_at:
            raise Conflict("phase", "the steps are paused: resume them first")
        busy = StepRun.objects.filter(step__phase=phase, step__is_rollback=False, status__in=OPEN)
        if busy.exists():
            raise Conflict("phase", f"{phase.name} is already running")
        first = forward_steps(phase).first()
        if not dry_run:
            Phase.objects.filter(pk=phase.pk).update(status=Phase.Status.ACTIVE, started_at=now)
            Release.objects.filter(pk=release.pk, started_at=None).update(started_at=now)
            Release.objects.filter(pk=release.pk, status=Release.Status.PLANNED).update(
                status=Release.Status.IN_PROGRESS
            )
        events.record(
            release,
            "phase.run_started",
            actor=user,
            data={
                "phase": phase.pk,
                "name": phase.name,
                "dry_run": dry_run,
                "steps": forward_steps(phase).count(),
            },
        )
        if first is None:
            _phase_finished(phase, dry_run=dry_run)
            return None
        return _queue(first, dry_run=dry_run, by=events.actor_label_for(user))


def step_request_run(*, step: Step, user, dry_run: bool = False, standing=None) -> StepRun:
    """Run (or retry) one step now, whatever came before it."""
    release = step.phase.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.EXECUTE_STEP, release, role=step.owner_role, target={"step": step.pk}
    )
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        if release.is_closed:
            raise Conflict("step", f"the release is {release.get_status_display().lower()}")
        if step.runs.filter(status__in=OPEN).exists():
            raise Conflict("step", f"“{step.title}” is already queued or running")
        attempt = (step.runs.aggregate(m=Max("attempt"))["m"] or 0) + 1
        run = StepRun.objects.create(
            step=step, attempt=attempt, dry_run=dry_run, requested_by=events.actor_label_for(user)
        )
        events.record(release, "step.requested", actor=user, data=_step_data(step, run))
        _dispatch(run)
    return run


def step_confirm(*, run: StepRun, user, note: str = "", standing=None) -> StepRun:
    """A person confirms a step that waits for them ("manual promote", or a manual step
    done); the engine then runs it."""
    step = run.step
    release = step.phase.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.EXECUTE_STEP, release, role=step.owner_role, target={"run": run.pk}
    )
    now = clock.now()
    with transaction.atomic():
        events.lock_head(release)
        done = StepRun.objects.filter(pk=run.pk, status=StepRun.Status.AWAITING).update(
            status=StepRun.Status.PENDING,
            confirmed_by=events.actor_label_for(user),
            confirmed_at=now,
            note=(note or "").strip(),
        )
        if not done:
            raise Conflict("run", f"“{step.title}” is not waiting for a confirmation")
        run.refresh_from_db()
        events.record(
            release, "step.confirmed", actor=user, data=_step_data(step, run, note=run.note)
        )
        _dispatch(run)
    return run


def step_skip(*, run: StepRun, user, reason: str, standing=None) -> StepRun:
    """Skip a waiting, queued or failed step, with a reason; the phase moves on."""
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", "say why the step is skipped")
    step = run.step
    release = step.phase.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.EXECUTE_STEP, release, role=step.owner_role, target={"run": run.pk}
    )
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        skippable = [StepRun.Status.AWAITING, StepRun.Status.PENDING, StepRun.Status.FAILED]
        done = StepRun.objects.filter(pk=run.pk, status__in=skippable).update(
            status=StepRun.Status.SKIPPED, note=reason, finished_at=clock.now()
        )
        if not done:
            raise Conflict(
                "run", f"“{step.title}” is running or finished; it cannot be skipped now"
            )
        run.refresh_from_db()
        events.record(
            release, "step.skipped", actor=user, data=_step_data(step, run, reason=reason)
        )
        _advance(step, run)
    return run


# --- the worker's side: claim, heartbeat, finish ---------------------------------------
def _locked_run(
    run_id: int, *also: sqlbatch.Statement
) -> tuple[tuple[StepRun, Release] | None, list[sqlbatch.Result]]:
    """Take the lock of the run's release (the head of the audit chain: every writer of
    this release's runs takes it first), read the run with its step, phase and release
    (after the lock: every column is current) and run ``also`` — one round trip on
    PostgreSQL. Returns the run and release (None when there is no such run) and the
    results of ``also``."""
    reads = engine_sql.lock_and_read(run_id)
    results = sqlbatch.run([*reads, *also])
    return engine_sql.run_read(results[len(reads) - 1]), results[len(reads) :]


def claim(run_id: int, owner: str) -> tuple[StepRun, bool] | None:
    """Take the run if it is due (pending) or abandoned (running, lease expired).
    Returns the run and whether it was a takeover, or None when it is not ours to run."""
    now = clock.now()
    with transaction.atomic():
        found, _ = _locked_run(run_id)
        if found is None:
            return None
        run, release = found
        due = run.status == StepRun.Status.PENDING and (
            run.not_before is None or run.not_before <= now
        )
        abandoned = (
            run.status == StepRun.Status.RUNNING
            and run.lease_expires_at is not None
            and run.lease_expires_at < now
        )
        if not (due or abandoned) or run.step.kind in REPORTED:
            return None
        if due and release.paused_at is not None:
            return None  # paused: it stays queued; resuming sends it again
        if (
            (release.rollback_started_at or release.is_closed)
            and not run.step.is_rollback
            and not run.dry_run
        ):
            StepRun.objects.filter(pk=run.pk, status=run.status).update(
                status=StepRun.Status.SKIPPED,
                note="the rollback plan runs instead",
                finished_at=now,
            )
            return None
        # Compare-and-swap: exactly the state read above, or nothing.
        took = StepRun.objects.filter(
            pk=run.pk,
            status=run.status,
            lease_owner=run.lease_owner,
            lease_expires_at=run.lease_expires_at,
        ).update(
            status=StepRun.Status.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + lease(),
            heartbeat_at=now,
            started_at=run.started_at or now,
            takeovers=F("takeovers") + (1 if abandoned else 0),
        )
        if not took:
            return None
        previous = run.lease_owner
        run.status, run.lease_owner, run.heartbeat_at = StepRun.Status.RUNNING, owner, now
        run.lease_expires_at, run.started_at = now + lease(), run.started_at or now
        run.takeovers += 1 if abandoned else 0
        kind = "step.taken_over" if abandoned else "step.started"
        extra = {"from": previous} if abandoned else {}
        data = _step_data(run.step, run, worker=owner, **extra)
        events.record(release, kind, actor_label=ENGINE, data=data, locked=True)
    return run, abandoned


def heartbeat(run_id: int, owner: str) -> bool:
    """Renew the lease; False when another worker holds it now."""
    now = clock.now()
    return bool(
        StepRun.objects.filter(pk=run_id, lease_owner=owner, status=StepRun.Status.RUNNING).update(
            lease_expires_at=now + lease(), heartbeat_at=now
        )
    )


class _Beat:
    """The executor's heartbeat: renews the lease every third of it, and stops the step
    when the lease is lost or the step's own timeout has passed."""

    def __init__(self, run: StepRun, owner: str):
        self.run, self.owner = run, owner
        self.started = run.started_at or clock.now()
        self.last = time.monotonic()
        self.timeout = run.step.timeout

    def __call__(self) -> bool:
        if self.timeout and clock.now() - self.started > self.timeout:
            raise StepFailed(f"timed out after {self.timeout.total_seconds():g} s")
        if time.monotonic() - self.last < settings.ENGINE_LEASE_SECONDS / 3:
            return True
        self.last = time.monotonic()
        return heartbeat(self.run.pk, self.owner)


def execute(run_id: int, owner: str | None = None) -> str:
    """The task's body: claim the run, run its executor, record the outcome; then run
    the steps that follow it, claimed as each one finishes, for up to
    ``ENGINE_CHAIN_SECONDS`` (the rest go through the queue)."""
    owner = owner or worker_name()
    claimed = claim(run_id, owner)
    if claimed is None:
        return "not due or not ours"
    run: StepRun | None = claimed[0]
    began = time.monotonic()
    message = ""
    while run is not None:
        chain = time.monotonic() - began < settings.ENGINE_CHAIN_SECONDS
        message, run = _run_one(run, owner, chain=chain)
    return message


def _run_one(run: StepRun, owner: str, *, chain: bool) -> tuple[str, StepRun | None]:
    """Run one claimed run's executor and record the outcome; returns the log line and
    the next run when this worker claimed it in the same transaction."""
    step = run.step
    beat = _Beat(run, owner)
    ctx = RunContext(
        config=step.config,
        dry_run=run.dry_run or step.dry_run,
        idempotency_key=f"warroom-step-{step.pk}-attempt-{run.attempt}",
        heartbeat=beat,
        elapsed=max(0.0, (clock.now() - beat.started).total_seconds()),
    )
    try:
        executor = executor_for(step.kind)
        if step.dry_run:
            # Always a dry run: the system is not contacted (this environment has none).
            message = f"would {executor.describe(step.config)} (always a dry run: not contacted)"
            ok = True
        else:
            message, ok = executor.run(ctx), True
        if beat.timeout and clock.now() - beat.started > beat.timeout:
            message, ok = f"timed out after {beat.timeout.total_seconds():g} s", False
    except StepFailed as exc:
        message, ok = str(exc), False
    except Exception as exc:  # an executor bug must fail the step, not hang the phase
        logger.exception("step %s (%s) raised", step.pk, step.kind)
        message, ok = f"{exc.__class__.__name__}: {exc}", False
    done = _finish(run.pk, owner, ok=ok, message=message, lines=ctx.lines, chain=chain)
    return message, (done[1] if done else None)


def finish(run_id: int, owner: str, *, ok: bool, message: str, lines: list[str]) -> StepRun | None:
    """Record the outcome if ``owner`` still holds the lease; queue what comes next."""
    done = _finish(run_id, owner, ok=ok, message=message, lines=lines, chain=False)
    return done[0] if done else None


def _finish(
    run_id: int, owner: str, *, ok: bool, message: str, lines: list[str], chain: bool
) -> tuple[StepRun, StepRun | None] | None:
    """:func:`finish`; with ``chain``, the next step is claimed for ``owner`` in the same
    transaction (its ``step.started`` recorded with this one's outcome) when it may start
    at once, and returned."""
    now = clock.now()
    chained = None
    log = "\n".join([*lines, message])[-20000:]
    status = StepRun.Status.SUCCEEDED if ok else StepRun.Status.FAILED
    error = "" if ok else message
    # Locking, reading, finishing and (after a success) reading the next step are one
    # round trip on PostgreSQL; the finish is a compare-and-swap on the lease, so it
    # may go out before the run is seen.
    new_id = ok and chain and sqlbatch.one_trip()
    also = [engine_sql.finishing(run_id, owner, status=status, now=now, log=log, error=error)]
    if ok:
        also.append(engine_sql.following_run(run_id, new_id=new_id))
    with transaction.atomic():
        found, results = _locked_run(run_id, *also)
        if found is None:
            return None
        run, release = found
        if not results[0].rowcount:
            logger.warning("run %s: lease lost before finishing; the new holder records it", run_id)
            return None
        run.status, run.finished_at, run.lease_expires_at = status, now, None
        run.log, run.error = log, error
        step = run.step
        elapsed = (now - run.started_at).total_seconds() if run.started_at else 0
        data = _step_data(step, run, message=message[:500], elapsed_s=round(elapsed, 1))
        kind = "step.succeeded" if ok else "step.failed"
        if ok and not release.is_closed:
            # Recorded by _advance, with the next step's start when it claims it (one
            # statement for both, sent with the claimed run's insert).
            chained = _advance(
                step,
                run,
                claim_for=owner if chain else None,
                outcome=(kind, data),
                following=engine_sql.following(results[1], new_id=new_id),
            )
            return run, chained
        events.record(release, kind, actor_label=ENGINE, data=data, locked=True)
        # Closed meanwhile (aborted): nothing more runs. Otherwise a failure is retried
        # per the step's policy (a forward step not once the rollback has started).
        if (
            not release.is_closed
            and run.attempt < step.max_attempts
            and (step.is_rollback or not release.rollback_started_at)
        ):
            delay = step.retry_delay or timedelta(0)
            nxt = _queue(
                step, dry_run=run.dry_run, by=ENGINE, not_before=now + delay if delay else None
            )
            events.record(
                release,
                "step.retried",
                actor_label=ENGINE,
                data=_step_data(step, nxt, delay_s=delay.total_seconds(), after=message[:200]),
            )
    return run, chained


def _advance(
    step: Step,
    run: StepRun,
    *,
    claim_for: str | None = None,
    outcome: tuple[str, dict] | None = None,
    following: engine_sql.Following | None = None,
) -> StepRun | None:
    """After ``step`` succeeded or was skipped: queue the next step of its chain (the
    caller holds the release's lock and has its row fresh in ``step.phase.release``).
    With ``claim_for`` the next step, when it may start at once, is claimed for that
    worker instead of being queued; it is returned then. ``outcome`` is ``step``'s own
    event, not yet recorded: it is recorded first, together with the claimed step's
    ``step.started`` when there is one. ``following``: the next forward step and a fresh
    run id, when the caller read them under the lock already (:func:`_following`)."""
    release = step.phase.release

    def record_outcome() -> None:
        if outcome is not None:
            events.record(release, outcome[0], actor_label=ENGINE, data=outcome[1], locked=True)

    if release.is_closed:
        record_outcome()
        return None
    if step.is_rollback:
        record_outcome()
        plan = rollback_plan(release)
        later = [s for s in plan[[s.pk for s in plan].index(step.pk) + 1 :]]
        if later:
            _queue(later[0], dry_run=run.dry_run, by=ENGINE)
        elif not run.dry_run:
            _rollback_completed(release)
        return None
    if release.rollback_started_at and not run.dry_run:
        record_outcome()
        return None
    # The next step and its latest attempt, in one query (a subquery: no GROUP BY).
    nxt, last, new_id = following or engine_sql.following(
        sqlbatch.run([engine_sql.following_step(step)])[0]
    )
    if nxt is None:
        record_outcome()
        _phase_finished(step.phase, dry_run=run.dry_run)
        return None
    nxt.phase = step.phase
    at_once = (
        claim_for is not None
        and release.paused_at is None
        and nxt.kind not in REPORTED
        and not (nxt.requires_confirmation and last == 0)
    )
    if not at_once:
        record_outcome()
        _queue(nxt, dry_run=run.dry_run, by=ENGINE, last_attempt=last)
        return None
    assert claim_for is not None
    return _claim_next(
        release, nxt, run, claim_for=claim_for, attempt=last + 1, new_id=new_id, outcome=outcome
    )


def _claim_next(
    release: Release,
    nxt: Step,
    run: StepRun,
    *,
    claim_for: str,
    attempt: int,
    new_id: int | None,
    outcome: tuple[str, dict] | None,
) -> StepRun:
    """Claim ``nxt`` for ``claim_for`` at once (under the release's lock) and record
    ``outcome`` with its ``step.started``."""
    now = clock.now()
    claimed = StepRun(
        id=new_id,
        step=nxt,
        attempt=attempt,
        dry_run=run.dry_run,
        requested_by=ENGINE,
        status=StepRun.Status.RUNNING,
        lease_owner=claim_for,
        lease_expires_at=now + lease(),
        heartbeat_at=now,
        started_at=now,
    )
    along = []
    if new_id is None:
        (pk,) = sqlbatch.run([sqlbatch.insert(StepRun, [claimed], returning=True)])[0].rows[0]
    else:  # its id is known: the row goes out with the events, in one round trip
        pk = new_id
        along.append(sqlbatch.insert(StepRun, [claimed]))
    sqlbatch.saved(claimed, pk)
    started = ("step.started", _step_data(nxt, claimed, worker=claim_for))
    events.record_many(
        release,
        [*([outcome] if outcome else []), started],
        actor_label=ENGINE,
        locked=True,
        along=along,
    )
    return claimed


def _phase_finished(phase: Phase, *, dry_run: bool) -> None:
    now = clock.now()
    if not dry_run:
        Phase.objects.filter(pk=phase.pk).update(status=Phase.Status.DONE, finished_at=now)
    events.record(
        phase.release,
        "phase.run_finished",
        actor_label=ENGINE,
        data={"phase": phase.pk, "name": phase.name, "dry_run": dry_run},
    )


# --- a CI/CD pipeline reports a step it runs itself ----------------------------------------
REPORTS = {"start": StepRun.Status.RUNNING, "finish": StepRun.Status.SUCCEEDED,
           "fail": StepRun.Status.FAILED}  # fmt: skip


def step_report(*, step: Step, state: str, log: str, by: str) -> StepRun:
    """A pipeline reports that it started, finished or failed ``step`` (a ``pipeline``
    step), with an excerpt of its log. A report repeated (a pipeline's own retry) changes
    nothing the second time. Finishing moves the phase on, as any step's success does."""
    if state not in REPORTS:
        raise FieldError("state", f"must be one of {', '.join(REPORTS)}")
    if step.kind not in REPORTED:
        raise FieldError(
            "step", f"“{step.title}” is a {step.kind} step: the engine runs it, not a pipeline"
        )
    log = (log or "").strip()
    now = clock.now()
    with transaction.atomic():
        events.lock_head(step.phase.release)
        release = Release.objects.get(pk=step.phase.release_id)
        step.phase.release = release
        if release.is_closed:
            raise Conflict("step", f"the release is {release.get_status_display().lower()}")
        run = _reported_run(step, release, state, by)
        target = REPORTS[state]
        if run.status == target:
            return run  # the same report again
        started = run.started_at or now
        run.log = "\n".join(x for x in (run.log, log) if x)[-20000:]
        run.status, run.started_at, run.lease_owner = target, started, by[:100]
        if state == "start":
            run.save(update_fields=["status", "started_at", "lease_owner", "log"])
            events.record(
                release, "step.started", actor_label=by, data=_step_data(step, run, worker=by)
            )
            return run
        run.finished_at = now
        run.error = "" if state == "finish" else (log.splitlines() or ["failed"])[-1][:2000]
        run.save(update_fields=["status", "started_at", "lease_owner", "log", "finished_at",
                                "error"])  # fmt: skip
        elapsed = round((now - started).total_seconds(), 1)
        data = _step_data(step, run, message=(log.splitlines() or [""])[-1][:500],
                          elapsed_s=elapsed)  # fmt: skip
        events.record(
            release, "step.succeeded" if state == "finish" else "step.failed",
            actor_label=by, data=data,
        )  # fmt: skip
        if state == "finish":
            _advance(step, run)
    return run


def _reported_run(step: Step, release: Release, state: str, by: str) -> StepRun:
    """The run a pipeline's report is about: the step's open run, a new attempt when it
    starts the step again, or its latest run when the report repeats one."""
    run = step.runs.order_by("-attempt").first()
    if run is not None and run.status == REPORTS[state]:
        return run
    if run is not None and run.status == StepRun.Status.AWAITING:
        raise Conflict("step", f"“{step.title}” waits for a person to confirm it first")
    if run is not None and run.status == StepRun.Status.RUNNING:
        return run
    # Opening the step (a new attempt, or its queued run): only while the engine runs.
    if release.paused_at:
        raise Conflict("step", "the steps are paused: nothing new starts")
    if release.rollback_started_at and not step.is_rollback:
        raise Conflict("step", "the rollback plan is running")
    if run is not None and run.status == StepRun.Status.PENDING:
        return run
    if state != "start":
        raise Conflict("step", f"“{step.title}” is not running: report start first")
    attempt = (run.attempt if run else 0) + 1
    return StepRun.objects.create(step=step, attempt=attempt, requested_by=by)


# --- rollback and closing ----------------------------------------------------------------
def rollback_start(release: Release, *, reason: str, user=None, actor_label: str = ENGINE) -> bool:
    """Run the rollback plan (once per release). Queued forward steps are skipped; a
    running one finishes but nothing after it is queued. Returns False when a rollback
    already started or the release is closed."""
    now = clock.now()
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        if release.rollback_started_at or release.is_closed:
            return False
        # A rollback overrides a pause: the plan runs now (pausing again holds it).
        was_paused = release.paused_at is not None
        Release.objects.filter(pk=release.pk).update(rollback_started_at=now, paused_at=None)
        release.rollback_started_at, release.paused_at = now, None
        StepRun.objects.filter(
            step__phase__release=release,
            step__is_rollback=False,
            dry_run=False,
            status__in=[StepRun.Status.AWAITING, StepRun.Status.PENDING],
        ).update(
            status=StepRun.Status.SKIPPED, note="the rollback plan runs instead", finished_at=now
        )
        plan = rollback_plan(release)
        events.record(
            release,
            "rollback.started",
            actor=user,
            actor_label=None if user else actor_label,
            data={"reason": reason, "steps": [s.title for s in plan], "was_paused": was_paused},
        )
        if plan:
            _queue(plan[0], dry_run=False, by=events.actor_label_for(user) if user else actor_label)
        else:
            _rollback_completed(release)
    return True


def _rollback_completed(release: Release) -> None:
    events.record(release, "rollback.completed", actor_label=ENGINE, data={})
    _close(release, Release.Status.ROLLED_BACK, note="the rollback plan completed", user=None)


CLOSING = {
    "done": Release.Status.DONE,
    "rolled_back": Release.Status.ROLLED_BACK,
    "cancelled": Release.Status.CANCELLED,
}


def release_close(*, release: Release, outcome: str, note: str, user, standing=None) -> Release:
    """Close the release as done, rolled back or cancelled: an explicit, audited action."""
    if outcome not in CLOSING:
        raise FieldError("outcome", f"must be one of {', '.join(CLOSING)}")
    note = (note or "").strip()
    if outcome != "done" and not note:
        raise FieldError("note", "say why the release ends this way")
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"close": outcome})
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        if release.is_closed:
            raise Conflict(
                "outcome", f"the release is already {release.get_status_display().lower()}"
            )
        _close(release, CLOSING[outcome], note=note, user=user)
    return release


def _close(release: Release, status: str, *, note: str, user) -> None:
    now = clock.now()
    Release.objects.filter(pk=release.pk).update(status=status, finished_at=now, close_note=note)
    release.status, release.finished_at, release.close_note = status, now, note
    label = Release.Status(status).label
    events.record(
        release,
        "release.closed",
        actor=user,
        actor_label=None if user else ENGINE,
        data={"status": status, "status_label": label, "note": note},
    )


# --- pause, resume, abort: a person's request, acted on by the engine -------------------
def steps_pause(*, release: Release, user, note: str = "", standing=None) -> EngineRequest:
    """Pause the release's steps: nothing further starts (a running step finishes and
    its outcome is recorded; the next one waits, queued, until resumed)."""
    return _steer(release, EngineRequest.Action.PAUSE, user, note, standing)


def steps_resume(*, release: Release, user, note: str = "", standing=None) -> EngineRequest:
    """Resume paused steps: what waited is sent to the workers again."""
    return _steer(release, EngineRequest.Action.RESUME, user, note, standing)


def steps_abort(*, release: Release, user, note: str, standing=None) -> EngineRequest:
    """Abort the release's run: every queued or waiting step is skipped, nothing more
    starts (a running step finishes; its outcome is recorded and nothing follows it),
    the active phases end and the release is closed as cancelled, with the note."""
    return _steer(release, EngineRequest.Action.ABORT, user, note, standing)


def _steer(release: Release, action: str, user, note: str, standing) -> EngineRequest:
    note = (note or "").strip()
    if action == EngineRequest.Action.ABORT and not note:
        raise FieldError("note", "say why the steps are aborted")
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.STEER_STEPS, release, target={"request": str(action)})
    now = clock.now()
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        if release.is_closed:
            raise Conflict("release", f"the release is {release.get_status_display().lower()}")
        if action == EngineRequest.Action.PAUSE and release.paused_at:
            raise Conflict("release", "the steps are already paused")
        if action == EngineRequest.Action.RESUME and not release.paused_at:
            raise Conflict("release", "the steps are not paused")
        request = EngineRequest.objects.create(
            release=release,
            action=action,
            requested_by=events.actor_label_for(user),
            user=user if getattr(user, "is_authenticated", False) else None,
            requested_at=now,
            note=note,
        )
        _ACTS[action](release, request, now)
        request.acted_at = now
        request.save(update_fields=["acted_at", "outcome"])
    return request


def _running(release: Release):
    return StepRun.objects.filter(step__phase__release=release, status=StepRun.Status.RUNNING)


def _act_pause(release: Release, request: EngineRequest, now: datetime) -> None:
    Release.objects.filter(pk=release.pk).update(paused_at=now)
    release.paused_at = now
    running = list(_running(release).values_list("step__title", flat=True))
    request.outcome = "paused" + (f"; {', '.join(running)} finishes first" if running else "")
    events.record(
        release,
        "steps.paused",
        actor=request.user,
        actor_label=request.requested_by,
        data={"request": request.pk, "note": request.note, "running": running},
    )


def _act_resume(release: Release, request: EngineRequest, now: datetime) -> None:
    paused_for = (now - release.paused_at).total_seconds() if release.paused_at else 0
    Release.objects.filter(pk=release.pk).update(paused_at=None)
    release.paused_at = None
    waiting = list(
        StepRun.objects.filter(
            step__phase__release=release, status=StepRun.Status.PENDING
        ).select_related("step")
    )
    for run in waiting:
        _dispatch(run, at=run.not_before)
    request.outcome = f"resumed; {len(waiting)} queued step{'s' if len(waiting) != 1 else ''} sent"
    events.record(
        release,
        "steps.resumed",
        actor=request.user,
        actor_label=request.requested_by,
        data={
            "request": request.pk,
            "note": request.note,
            "paused_s": round(paused_for),
            "sent": len(waiting),
        },
    )


def _act_abort(release: Release, request: EngineRequest, now: datetime) -> None:
    why = f"aborted by {request.requested_by}: {request.note}"
    skipped = StepRun.objects.filter(
        step__phase__release=release,
        status__in=[StepRun.Status.AWAITING, StepRun.Status.PENDING],
    ).update(status=StepRun.Status.SKIPPED, note=why[:2000], finished_at=now)
    running = list(_running(release).values_list("step__title", flat=True))
    Phase.objects.filter(release=release, status=Phase.Status.ACTIVE).update(
        status=Phase.Status.SKIPPED, finished_at=now
    )
    Release.objects.filter(pk=release.pk).update(paused_at=None)
    release.paused_at = None
    request.outcome = f"{skipped} queued step{'s' if skipped != 1 else ''} skipped" + (
        f"; {', '.join(running)} was running and finishes, nothing follows it" if running else ""
    )
    events.record(
        release,
        "steps.aborted",
        actor=request.user,
        actor_label=request.requested_by,
        data={"request": request.pk, "note": request.note, "skipped": skipped, "running": running},
    )
    _close(release, Release.Status.CANCELLED, note=f"aborted: {request.note}", user=request.user)


_ACTS: dict[str, Callable[[Release, EngineRequest, datetime], None]] = {
    EngineRequest.Action.PAUSE: _act_pause,
    EngineRequest.Action.RESUME: _act_resume,
    EngineRequest.Action.ABORT: _act_abort,
}


# --- the tick: resume what was dropped -------------------------------------------------------
def resume_due(now: datetime) -> int:
    """Dispatch runs that are due but may have no task (a lost message, a retry's delay
    passed) and runs whose worker died (lease expired). Claiming is a compare-and-swap,
    so a run dispatched twice still runs once."""
    runs = StepRun.objects.filter(
        Q(status=StepRun.Status.PENDING, not_before=None)
        | Q(status=StepRun.Status.PENDING, not_before__lte=now)
        | Q(status=StepRun.Status.RUNNING, lease_expires_at__lt=now)
    ).exclude(
        step__phase__release__status__in=[
            Release.Status.DONE, Release.Status.ROLLED_BACK, Release.Status.CANCELLED
        ]
    ).exclude(
        status=StepRun.Status.PENDING, step__phase__release__paused_at__isnull=False
    ).exclude(step__kind__in=REPORTED)  # fmt: skip
    count = 0
    for pk in runs.values_list("pk", flat=True)[:500]:
        send(pk)
        count += 1
    return count
