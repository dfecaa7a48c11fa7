"""Runbook importer: parse throughput over the seeds, and importing the enterprise runbook.

    python -m bench.importer --json

Parsing (``deployments.runbooks.parse.parse_runbook``) runs over the five seed
runbooks in ``tests/runbooks/seeds/`` for at least ``--min-seconds``; the baseline
is markdown-it-py tokenising the same text (what the parser builds on), measured
in the same run. The import is parse + ``instantiate`` of the 56 KB enterprise
runbook into a fresh database (SQLite in a temp dir, or a scratch PostgreSQL
database with ``--database-url``), median of ``--imports`` runs, each in its own
transaction-free Django context like the upload view.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta

from bench._stack import ROOT, Stack, add_stack_arguments, log, machine, warn_if_busy

SEEDS = ROOT / "tests" / "runbooks" / "seeds"
ENTERPRISE = SEEDS / "enterprise-deployment-runbook.md"


def _throughput(fn, texts: list[str], min_seconds: float) -> tuple[float, int]:
    """KB/s of ``fn`` over ``texts``, repeated for at least ``min_seconds``; (kb/s, rounds)."""
    size = sum(len(t.encode()) for t in texts)
    for t in texts:  # warm-up (imports, regex compilation, caches)
        fn(t)
    rounds, best = 0, []
    t_end = time.perf_counter() + min_seconds
    while time.perf_counter() < t_end or rounds < 3:
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best.append(time.perf_counter() - t0)
        rounds += 1
    # The median round: stable against a noisy neighbour on a 2-core machine.
    return size / 1024 / statistics.median(best), rounds


def bench_parse(min_seconds: float) -> dict:
    from markdown_it import MarkdownIt

    from deployments.runbooks.parse import parse_runbook

    paths = sorted(SEEDS.glob("*.md"))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    md = MarkdownIt("commonmark").enable("table")
    parse_kbs, rounds = _throughput(parse_runbook, texts, min_seconds)
    md_kbs, md_rounds = _throughput(md.parse, texts, min_seconds)
    return {
        "seeds": len(paths),
        "seeds_kb": round(sum(len(t.encode()) for t in texts) / 1024, 1),
        "parse_kb_per_s": round(parse_kbs, 1),
        "parse_mb_per_s": round(parse_kbs / 1024, 3),
        "parse_rounds": rounds,
        "markdown_it_kb_per_s": round(md_kbs, 1),
        "markdown_it_rounds": md_rounds,
        "ratio_parse_vs_markdown_it": round(parse_kbs / md_kbs, 3),
    }


def bench_import(stack: Stack, runs: int) -> dict:
    stack.setup_django()
    from deployments.models import Release
    from deployments.runbooks.instantiate import instantiate
    from deployments.runbooks.parse import parse_runbook
    from warroom import clock

    text = ENTERPRISE.read_bytes()
    times, parse_times, items = [], [], 0
    for i in range(runs + 1):  # the first run warms up (templates, queries, connections)
        t0 = time.perf_counter()
        plan = parse_runbook(text, source_name=ENTERPRISE.name)
        t1 = time.perf_counter()
        release = instantiate(plan, clock.now() + timedelta(days=1), source_name=ENTERPRISE.name)
        t2 = time.perf_counter()
        from checklists.models import ChecklistItem

        items = ChecklistItem.objects.filter(checklist__release=release).count()
        if i:
            times.append(t2 - t0)
            parse_times.append(t1 - t0)
        log(f"import {i}: {1000 * (t2 - t0):.0f} ms (parse {1000 * (t1 - t0):.0f} ms)")
    return {
        "import_enterprise_ms": round(1000 * statistics.median(times), 1),
        "import_enterprise_parse_ms": round(1000 * statistics.median(parse_times), 1),
        "import_runs": runs,
        "import_items": items,
        "import_kb": round(len(text) / 1024, 1),
        "releases_created": Release.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.importer", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--min-seconds", type=float, default=3.0, help="per parse measurement")
    parser.add_argument("--imports", type=int, default=5, help="timed imports (median)")
    args = parser.parse_args(argv)

    before = warn_if_busy()
    out = bench_parse(args.min_seconds)
    log(f"parse: {out}")
    with Stack.from_args(args) as stack:
        out.update(bench_import(stack, args.imports))
        out["database"] = stack.database_label
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
