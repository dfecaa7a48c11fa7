"""Escalation under load: many open issues across many releases reach a level at once.

``python -m bench.escalation --issues 500 --releases 50 --json``

Each release has the runbooks' matrix (level 1 at once, level 2 at 15 minutes) and a
PagerDuty route to a local Events v2 server. Every issue is reported at the same moment
and nobody answers, so when the clock reaches 15 minutes all of them fall due together.
Beat's tick is run here, in the bench's main process, as beat and a worker would run it
(``escalate_due`` every ``--tick`` seconds, back to back when a tick overruns), on the
shared clock moved to one second before the due time; between ticks the bench only counts
the steps written. The PagerDuty-speaking server runs in a process of its own (PagerDuty
is remote), and what it received is read back from it. Per page: lateness = when its row
was written minus when it fell due; per PagerDuty trigger: when the server received it
minus due. Lost = issues whose level-2 page or trigger never came; duplicates = a (issue,
level) paged or triggered twice.

Baseline, same run: one issue alone in its release, through the same path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import timedelta

from bench._stack import Stack, add_stack_arguments, log, machine, summarize_ms, warn_if_busy

LEVEL_2 = timedelta(minutes=15)


def _releases(count: int):
    from deployments.runbooks.plan import PlanEscalationLevel
    from tests.factories import team_plan, team_release

    made = []
    for _ in range(count):
        plan = team_plan(items_per_list=1)
        plan.escalation = [
            PlanEscalationLevel(1, "On-Call Engineers", roles=["DevOps Lead"], after=timedelta(0)),
            PlanEscalationLevel(2, "Team leads", roles=["DBA"], after=LEVEL_2),
        ]
        made.append(team_release(plan=plan))
    return made


def wave(teams, per_release: int, pd, tick: float, drain: float) -> dict:
    """Report ``per_release`` issues on each release at one moment; measure level 2."""
    from django.db import connection

    from deployments import issues
    from notifications import escalation
    from notifications.escalation_models import EscalationStep, Page
    from tests.escalation.helpers import ROUTING_KEY
    from warroom import clock

    clock.travel(timedelta(0))
    for team in teams:
        escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
    opened = clock.now()
    ids = []
    with clock.frozen_at(opened):
        for team in teams:
            for n in range(per_release):
                ids.append(
                    issues.issue_report(
                        release=team.release,
                        user=team["qa"],
                        title=f"Issue {n + 1}",
                        severity="critical",
                    ).pk
                )
    escalation.escalate_due(opened + timedelta(seconds=1))  # level 1 (not measured)
    pd_before = len(pd.triggers())
    due = opened + LEVEL_2
    # The shared clock: one second before the due time, moving on in real time.
    offset = due - timedelta(seconds=1) - _real_now()
    clock.travel(offset)
    time.sleep(0.3)  # every reader sees the new offset
    ticks = 0
    deadline = time.monotonic() + drain
    next_tick = time.monotonic()
    profile: list[dict] = []
    while time.monotonic() < deadline:
        time.sleep(max(0.0, next_tick - time.monotonic()))
        next_tick += tick
        now = clock.now()
        phases: dict[str, float] = {}
        statements = _Statements()
        with connection.execute_wrapper(statements):
            fired = escalation.escalate_due(now, phases)
        ticks += 1
        if fired or not profile:
            # Where the lateness goes: the tick's start after the due time (cadence),
            # reading what is due, firing it (steps, pages, triggers written and
            # committed; the first chunk's commit, when PagerDuty starts hearing of it),
            # sending PagerDuty's outbox after the last chunk, and the SQL statements
            # the tick ran (with the time they took, as the client saw it).
            profile.append(
                {
                    "tick_start_vs_due_ms": round((now - due).total_seconds() * 1000, 1),
                    "levels_fired": fired,
                    **{f"{k}_ms": round(v * 1000, 1) for k, v in phases.items()},
                    "statements": statements.count,
                    "statements_ms": round(statements.seconds * 1000, 1),
                }
            )
        done = EscalationStep.objects.filter(escalation__issue_id__in=ids, level=2).count()
        if done < len(ids):
            continue  # the server is asked only once every level is written
        level_2 = [t for t in pd.triggers()[pd_before:] if t.dedup_key.endswith("-L2")]
        if len(level_2) >= len(ids):
            break
    clock.travel(timedelta(0))
    pages = list(
        Page.objects.filter(step__escalation__issue_id__in=ids, step__level=2).values_list(
            "step__escalation__issue_id", "created_at", "due_at"
        )
    )
    page_late = [(created - at).total_seconds() for _, created, at in pages]
    per_issue = Counter(issue_id for issue_id, _, _ in pages)
    triggers = [t for t in pd.triggers()[pd_before:] if t.dedup_key.endswith("-L2")]
    seconds = offset.total_seconds()
    trigger_late = [t.at + seconds - due.timestamp() for t in triggers]
    keys = Counter(t.dedup_key for t in triggers)
    return {
        "issues": len(ids),
        "ticks": ticks,
        "pages": len(pages),
        "page_lateness": summarize_ms(page_late),
        "pagerduty_triggers": len(triggers),
        "pagerduty_lateness": summarize_ms(trigger_late),
        "lost_pages": len(ids) - len(per_issue),
        "lost_triggers": len(ids) - len(keys),
        "duplicate_pages": sum(n - 1 for n in per_issue.values()),
        "duplicate_triggers": sum(n - 1 for n in keys.values()),
        "profile": profile,
    }


class _Statements:
    """Counts the SQL statements run through it and the time they took."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


def _real_now():
    from django.utils import timezone

    return timezone.now()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.escalation", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--tick", type=float, default=1.0, help="beat's tick (TICK_SECONDS)")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait at most")
    parser.add_argument(
        "--pagerduty-latency",
        type=float,
        default=0.0,
        help="seconds the local PagerDuty server waits before each answer (a network's RTT)",
    )
    args = parser.parse_args(argv)
    before = warn_if_busy()
    os.environ["WARROOM_SHARED_CLOCK"] = "1"
    from bench.pagerduty_server import EventsServerProcess

    with Stack.from_args(args) as stack:
        stack.setup_django()
        from django.conf import settings

        # In a process of its own, as PagerDuty is remote: its threads do not share this
        # process's interpreter lock with the tick. Its counts are read back from it.
        pd = EventsServerProcess(latency=args.pagerduty_latency).start()
        settings.PAGERDUTY_EVENTS_URL = pd.url
        try:
            t0 = time.perf_counter()
            teams = _releases(args.releases + 1)
            log(f"{len(teams)} releases in {time.perf_counter() - t0:.1f}s")
            baseline = wave(teams[:1], 1, pd, args.tick, args.drain)
            per = max(1, args.issues // args.releases)
            measured = wave(teams[1:], per, pd, args.tick, args.drain)
        finally:
            pd.stop()
        out = {
            "issues": measured["issues"],
            "releases": args.releases,
            "tick_s": args.tick,
            "pagerduty_latency_s": args.pagerduty_latency,
            "database": stack.database_label,
            "redis": stack.redis_label,
            **{k: v for k, v in measured.items() if k != "issues"},
            "baseline_one_issue": baseline,
        }
    p95 = out["page_lateness"]["p95_ms"]
    base = baseline["page_lateness"]["p95_ms"]
    out["p95_vs_baseline"] = round(p95 / base, 2) if p95 and base else None
    out["target_p95_ms"] = 2000
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    log(json.dumps(out))
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
