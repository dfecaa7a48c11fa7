"""Runbook importer: parse throughput, the enterprise runbook, and a 5 MB runbook.

    python -m bench.importer --json

Parsing (``deployments.runbooks.parse.parse_runbook``) runs over the five seed
runbooks in ``tests/runbooks/seeds/`` and the corpus in ``tests/runbooks/corpus/``
for at least ``--min-seconds``; the baseline is markdown-it-py tokenising the same
text (what the parser builds on), measured in the same run. The import is parse +
``instantiate`` of the 56 KB enterprise runbook into a fresh database (SQLite in a
temp dir, or a scratch PostgreSQL database with ``--database-url``), median of
``--imports`` runs, each in its own transaction-free Django context like the upload
view.

The big import is a generated runbook of ``--big-mb`` MB (default 5) with just under
the item limit (RUNBOOK_MAX_ITEMS, 5,000): task headings with T-offsets, items with
owners and verification commands, prose, tables. It reports the parse and import
times, the process's peak RSS, that one item more is refused naming the limit, and
the latency of reading another release while the import runs, against the same
reads with nothing importing (the same-run baseline).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import threading
import time
from datetime import timedelta

from bench._stack import ROOT, Stack, add_stack_arguments, log, machine, warn_if_busy

SEEDS = ROOT / "tests" / "runbooks" / "seeds"
CORPUS = ROOT / "tests" / "runbooks" / "corpus"
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

    paths = sorted(SEEDS.glob("*.md")) + sorted(CORPUS.glob("*.md"))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    md = MarkdownIt("commonmark").enable("table")
    parse_kbs, rounds = _throughput(parse_runbook, texts, min_seconds)
    md_kbs, md_rounds = _throughput(md.parse, texts, min_seconds)
    return {
        "runbooks": len(paths),
        "runbooks_kb": round(sum(len(t.encode()) for t in texts) / 1024, 1),
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


def big_runbook(megabytes: float, items: int) -> bytes:
    """A runbook of about ``megabytes`` MB with ``items`` items, in the forms people write."""
    target = int(megabytes * 1024 * 1024)
    per_item = max(200, (target - 4000) // items)
    command = "kubectl rollout status deploy/payments --namespace prod --timeout=600s"
    out = [
        "# Big bang cutover",
        "",
        "Go-live: 2026-03-14 22:00 CET",
        "",
        "## Team",
        "",
        "| Role | Name | Phone |",
        "|---|---|---|",
        "| DBA | Ana Lima | +1 555 0100 |",
        "| SRE On-Call | Bo Chen | +1 555 0200 |",
        "",
    ]
    n = 0
    while n < items:
        out += [f"## T-{n // 50 + 1} days", "", "**Owner:** DBA", ""]
        for _ in range(min(50, items - n)):
            n += 1
            out.append(f"- [ ] Step {n}: migrate shard {n} and check the row counts (Owner: DBA)")
            body = (command + "\n") * max(1, (per_item - 120) // (len(command) + 1))
            out += ["  ```bash", *("  " + ln for ln in body.rstrip().split("\n")), "  ```"]
        out += ["", "Each shard is checked against the source before the next starts.", ""]
    return ("\n".join(out) + "\n").encode()


def _reads(stop: threading.Event, release_id: int, latencies: list[float]) -> None:
    """Read another release's checklists as a war room page does, until ``stop``."""
    from django.db import connection

    from checklists.models import ChecklistItem

    try:
        while not stop.is_set():
            t0 = time.perf_counter()
            list(ChecklistItem.objects.filter(checklist__release_id=release_id)[:200])
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.01)
    finally:
        connection.close()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def bench_big(stack: Stack, megabytes: float, max_items: int) -> dict:
    stack.setup_django()
    from deployments.runbooks.instantiate import instantiate
    from deployments.runbooks.parse import RunbookError, parse_runbook
    from warroom import clock

    other = instantiate(parse_runbook(ENTERPRISE.read_bytes()), clock.now() + timedelta(days=2))
    text = big_runbook(megabytes, max_items - 1)
    try:
        parse_runbook(big_runbook(0.05, max_items + 1), max_items=max_items)
        refused = ""
    except RunbookError as exc:
        refused = str(exc)
    # baseline: the other release's reads with nothing importing, as long as the import takes
    t0 = time.perf_counter()
    plan = parse_runbook(text, max_bytes=len(text), max_items=max_items)
    t1 = time.perf_counter()
    stop, during = threading.Event(), []
    reader = threading.Thread(target=_reads, args=(stop, other.pk, during))
    reader.start()
    t2 = time.perf_counter()
    release = instantiate(plan, clock.now() + timedelta(days=1), source_name="big.md")
    t3 = time.perf_counter()
    stop.set()
    reader.join()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stop, idle = threading.Event(), []
    reader = threading.Thread(target=_reads, args=(stop, other.pk, idle))
    reader.start()
    time.sleep(max(1.0, t3 - t2))
    stop.set()
    reader.join()
    log(f"big: {len(text)} bytes, parse {t1 - t0:.2f} s, write {t3 - t2:.2f} s")
    return {
        "big_bytes": len(text),
        "big_items": plan.item_count(),
        "big_parse_s": round(t1 - t0, 2),
        "big_parse_mb_per_s": round(len(text) / 1024 / 1024 / (t1 - t0), 2),
        "big_import_s": round(t3 - t0, 2),
        "big_release_items": sum(c.items.count() for c in release.checklists.all()),
        "peak_rss_mb": round(peak_mb, 1),
        "over_limit_refused": refused,
        "other_release_reads_during_import": len(during),
        "other_release_p95_ms_during_import": round(1000 * _p95(during), 1),
        "other_release_p95_ms_baseline": round(1000 * _p95(idle), 1),
        "ratio_other_release_p95": round(_p95(during) / _p95(idle), 2) if idle else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.importer", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--min-seconds", type=float, default=3.0, help="per parse measurement")
    parser.add_argument("--imports", type=int, default=5, help="timed imports (median)")
    parser.add_argument("--big-mb", type=float, default=5.0, help="size of the big runbook")
    parser.add_argument("--max-items", type=int, default=5000, help="the item limit")
    args = parser.parse_args(argv)

    before = warn_if_busy()
    out = bench_parse(args.min_seconds)
    log(f"parse: {out}")
    with Stack.from_args(args) as stack:
        out.update(bench_big(stack, args.big_mb, args.max_items))
        out.update(bench_import(stack, args.imports))
        out["database"] = stack.database_label
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
