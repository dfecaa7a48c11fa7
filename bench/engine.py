"""The execution engine: step dispatch throughput, and breach → rollback latency.

    python -m bench.engine --json [--steps 1000] [--breaches 5]

1. **Dispatch.** A phase of ``--steps`` no-op steps (``wait`` 0 s) runs through one real
   Celery worker (concurrency 1) on Redis: each step is claimed with its lease, run,
   finished with two audited events, and queues the next. Figures: steps/s and
   per-step overhead, beside a bare Celery no-op task chain of the same length on the
   same worker in the same run (each task sends the next); ``ratio`` = per-step overhead
   / bare per-task time (target ≤ 3).
2. **Breach → rollback.** A real Prometheus scrapes a local target every second; beat
   ticks every second (the evaluation interval). For each of ``--breaches`` releases the
   target starts reporting a 5 % error rate against an automatic "> 1 %" criterion; the
   figure is the time from the first scrape that served the breaching value to the first
   rollback step running (p50/p95, and p95 in evaluation intervals; target ≤ 2). The
   first breach waits for a tick the worker and beat ran, so their boot is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta

from bench._stack import ROOT, Stack, add_stack_arguments, log, summarize_ms, warn_if_busy

TICK_SECONDS = 1


def _worker(stack: Stack, queue: str, *extra: str, role: str = "worker") -> subprocess.Popen:
    env = {**os.environ, **stack.env, "CELERY_QUEUE": queue, "TICK_SECONDS": str(TICK_SECONDS)}
    for key in ("DATABASE_URL", "REDIS_URL"):
        if key not in stack.env:
            env.pop(key, None)
    py = sys.executable
    cmd = {
        "worker": [py, "-m", "celery", "-A", "warroom", "worker", "--loglevel", "WARNING",
                   "--concurrency", "1", "-Q", f"{queue},{queue}.comms", "--without-gossip",
                   "--without-mingle",
                   "--include", "bench.engine_tasks", "-n", f"{queue}-{role}@%h"],
        "beat": [py, "-m", "celery", "-A", "warroom", "beat", "--loglevel", "WARNING",
                 "--schedule", str(stack.tmp / "beat-schedule")],
    }[role]  # fmt: skip
    log_path = stack.tmp / f"{role}.log"
    return subprocess.Popen(
        [*cmd, *extra], cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT
    )


def _wait(predicate, timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(poll)


def bench_baseline(steps: int, queue: str) -> float:
    import redis
    from django.conf import settings

    from bench.engine_tasks import DONE_KEY, noop_chain

    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete(DONE_KEY)
    t0 = time.time()
    noop_chain.apply_async(args=[steps, queue], queue=queue)
    _wait(lambda: r.get(DONE_KEY) is not None, 600, "the bare task chain")
    return float(r.get(DONE_KEY)) - t0


def bench_steps(stack: Stack, steps: int) -> float:
    from deployments import engine
    from deployments.models import Phase, Step

    team = stack.team_release(items_per_list=1)
    phase = team.release.phases.get(name="Deployment Execution")
    Step.objects.bulk_create(
        engine.build_step(
            phase=phase, kind="wait", title=f"No-op {n}", config={"seconds": 0}, order=n
        )
        for n in range(1, steps + 1)
    )
    t0 = time.time()
    engine.phase_run(phase=phase, user=team["rm"])
    _wait(lambda: Phase.objects.get(pk=phase.pk).status == "done", 1200, "the phase", 0.2)
    return time.time() - t0


def bench_breaches(stack: Stack, count: int) -> dict:
    from deployments import engine
    from deployments.models import Release, RollbackCriterion, StepRun
    from tests.engine.fakes import Exporter
    from warroom import clock

    binary = shutil.which("prometheus")
    if binary is None:
        log("prometheus is not installed: skipping breach → rollback")
        return {"skipped": "prometheus not installed"}
    from bench._stack import free_port

    exporter = Exporter()
    scraped: list[tuple[float, float]] = []  # (time, ratio served)
    original = exporter.ratio

    def ratio() -> float:
        value = original()
        scraped.append((time.time(), value))
        return value

    exporter.ratio = ratio  # type: ignore[method-assign]
    port = free_port()
    config = stack.tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{exporter.port}']\n"
    )
    prom = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={stack.tmp / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=(stack.tmp / "prometheus.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    stack.env["PROMETHEUS_URL"] = f"http://127.0.0.1:{port}"
    queue = f"bench-engine-rb-{os.getpid()}"
    launched = clock.now()
    worker = _worker(stack, queue)
    beat = _worker(stack, queue, role="beat")
    latencies = []
    try:
        import httpx

        _wait(lambda: _ready(httpx, port), 60, "prometheus")
        # Booting the worker and beat is not the engine's latency: the first breach waits
        # for a tick they ran (beat sent it, the worker ran it) after they started.
        _wait(lambda: _ticked_since(launched), 120, "the first tick", 0.2)
        for n in range(count):
            exporter.set_error_ratio(0.001)
            time.sleep(2.5)  # Prometheus holds the healthy value
            team = stack.team_release(items_per_list=1)
            release = team.release
            Release.objects.filter(pk=release.pk).update(
                go_live_at=clock.now() - timedelta(minutes=1)
            )
            phase = release.phases.get(name="Deployment Execution")
            undo = {"kind": "wait", "title": "Undo", "config": {"seconds": 0}, "is_rollback": True}
            engine.step_attach(phase=phase, user=None, **undo)
            RollbackCriterion.objects.create(
                release=release, metric="error rate", op=">", threshold=0.01,
                query="app_error_ratio", automatic=True,
            )  # fmt: skip
            scraped.clear()
            exporter.set_error_ratio(0.05)
            runs = StepRun.objects.filter(step__phase__release=release, started_at__isnull=False)
            _wait(runs.exists, 60, "the rollback step", 0.05)
            started = runs.get().started_at.timestamp()
            first = min(t for t, v in scraped if v > 0.01)
            latencies.append(started - first)
            log(f"breach {n + 1}: rollback running {started - first:.2f} s after the breach")
            RollbackCriterion.objects.filter(release=release).update(enabled=False)
    finally:
        for proc in (beat, worker, prom):
            proc.terminate()
            proc.wait(15)
        exporter.close()
    figures = summarize_ms(latencies)
    return {
        "breaches": count,
        **{f"breach_to_rollback_{k}": v for k, v in figures.items()},
        "evaluation_interval_s": TICK_SECONDS,
        "p95_in_intervals": round(figures["p95_ms"] / 1000 / TICK_SECONDS, 2)
        if latencies
        else None,
    }


def _ticked_since(moment) -> bool:
    from datetime import datetime

    from warroom.health import last_tick

    seen = last_tick()
    return seen is not None and datetime.fromisoformat(seen) > moment


def _ready(httpx, port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--breaches", type=int, default=5)
    add_stack_arguments(parser)
    args = parser.parse_args()
    busy = warn_if_busy()
    with Stack.from_args(args) as stack:
        stack.setup_django()
        queue = f"bench-engine-{os.getpid()}"
        worker = _worker(stack, queue)
        try:
            from django.conf import settings

            settings.CELERY_TASK_DEFAULT_QUEUE = queue
            bench_baseline(20, queue)  # warm-up: the worker is up and has its connections
            baseline_s = bench_baseline(args.steps, queue)
            log(f"bare chain: {args.steps} tasks in {baseline_s:.2f} s")
            engine_s = bench_steps(stack, args.steps)
            log(f"engine: {args.steps} steps in {engine_s:.2f} s")
        finally:
            worker.terminate()
            worker.wait(15)
        out = {
            "steps": args.steps,
            "database": stack.database_label,
            "redis": stack.redis_label,
            "steps_per_s": round(args.steps / engine_s, 1),
            "per_step_ms": round(engine_s / args.steps * 1000, 2),
            "baseline": {
                "what": "bare Celery no-op task chain, same worker, same run",
                "tasks_per_s": round(args.steps / baseline_s, 1),
                "per_task_ms": round(baseline_s / args.steps * 1000, 2),
            },
            "ratio": round(engine_s / baseline_s, 2),
            "machine": busy,
        }
        if args.breaches:
            out["breach"] = bench_breaches(stack, args.breaches)
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
