"""The benchmarks run end to end at a tiny size and print the JSON they promise.

No timing assertions: this machine's speed is not under test, only that each
benchmark starts its own stack, measures, cleans up and loses nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def run_bench(name: str, *args: str, timeout: int = 240) -> dict:
    # The default stack: SQLite in a temp dir and an embedded Redis, whatever the suite uses.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--json", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def test_fanout_delivers_every_event_to_every_viewer_here_and_on_the_baseline():
    out = run_bench("fanout", "--viewers", "5", "--ticks", "3", "--warmup", "1",
                    "--client-procs", "1", "--drain", "10")  # fmt: skip
    for key in ("viewers", "ticks", "p50_ms", "p95_ms", "max_ms", "lost", "baseline", "ratio_p95"):
        assert key in out, key
    assert out["viewers"] == 5 and out["ticks"] == 3
    assert out["lost"] == 0
    assert out["detail"]["api_errors"] == 0
    assert set(out["baseline"]) >= {"p50_ms", "p95_ms", "max_ms", "lost"}
    assert out["baseline"]["lost"] == 0


def test_fanout_rounds_print_the_median_pair_and_every_ratio():
    out = run_bench("fanout", "--viewers", "3", "--ticks", "4", "--warmup", "1",
                    "--client-procs", "1", "--drain", "10", "--rounds", "3")  # fmt: skip
    assert out["rounds"] == 3 and len(out["ratio_p95_rounds"]) == 3
    assert all(r is not None for r in out["ratio_p95_rounds"])  # every round measured
    assert out["detail"]["viewers_connected"] == 3 and out["detail"]["api_errors"] == 0
    assert out.get("ratio_p95") == sorted(out["ratio_p95_rounds"], key=lambda r: r or 0.0)[1]
    assert out["lost"] == 0 and out["baseline"]["lost"] == 0


def test_http_measures_the_war_room_the_board_and_a_trivial_view():
    out = run_bench("http", "--items", "30", "--concurrency", "4", "--duration", "0.5",
                    "--warmup", "0.2")  # fmt: skip
    for page in ("warroom", "board", "trivial"):
        assert set(out[page]) >= {"p50_ms", "p95_ms", "rps", "requests"}
        assert out[page]["requests"] > 0
        assert out[page]["errors"] == {}
    assert "ratio_p95_warroom" in out and "ratio_p95_board" in out


def test_importer_parses_the_seeds_and_imports_the_enterprise_runbook():
    out = run_bench("importer", "--min-seconds", "0.1", "--imports", "1",
                    "--big-mb", "0.2", "--max-items", "100")  # fmt: skip
    for key in ("parse_kb_per_s", "parse_mb_per_s", "runbooks_kb", "import_enterprise_ms",
                "import_items", "markdown_it_kb_per_s", "ratio_parse_vs_markdown_it",
                "big_import_s", "peak_rss_mb", "ratio_other_release_p95"):  # fmt: skip
        assert key in out, key
    assert out["import_items"] > 0
    assert out["big_items"] == out["big_release_items"] == 99
    assert "limit is 100 items" in out["over_limit_refused"]


def test_faults_lose_and_double_nothing():
    out = run_bench(
        "faults", "--viewers", "10", "--rate", "4", "--outage", "1",
        "--only", "redis_restart_quiet", "--only", "uvicorn_sigkill",
    )  # fmt: skip
    for name in ("redis_restart_quiet", "uvicorn_sigkill"):
        result = out[name]
        assert result["lost"] == result["duplicated"] == result["http_5xx"] == 0, result
        assert result["delivered"] == 10 * result["events"]
        assert result["time_to_whole_s"] is not None


def test_engine_runs_steps_beside_a_bare_task_chain_and_times_a_breach_to_rollback():
    out = run_bench("engine", "--steps", "10", "--breaches", "1")
    assert out["steps"] == 10 and out["baseline"]["tasks_per_s"] > 0
    for key in ("steps_per_s", "per_step_ms", "ratio", "breach"):
        assert key in out, key
    if "skipped" not in out["breach"]:
        assert out["breach"]["breaches"] == 1 and out["breach"]["breach_to_rollback_p95_ms"] > 0


def test_comms_delivers_every_update_once_through_the_outbox_and_directly():
    out = run_bench("comms", "--releases", "3")
    assert out["releases"] == 3
    assert out["outbox"]["delivered"] == 9  # Slack, email and the status page each
    assert out["outbox"]["lost"] == 0 and out["outbox"]["duplicates"] == 0
    assert set(out["outbox"]["lateness"]) == {"p50_ms", "p95_ms", "max_ms", "first_ms"}
    assert out["baseline_direct"]["deliveries"] == 9
    assert "ratio_outbox_vs_direct" in out
