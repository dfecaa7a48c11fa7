"""Communications: many releases' status updates due at once, through the outbox.

    python -m bench.comms --releases 200 --json

``--releases`` releases each have a 15-minute status update on Slack, email and the
status page, all due at the same moment. A real Celery beat (1 s tick) and worker(s)
write and deliver them to local servers speaking Slack's Web API, SMTP (aiosmtpd) and a
Statuspage-style API. Reported: lateness from the due time to delivered (p50/p95),
deliveries/s, and lost and duplicated deliveries as counted by the servers. The
baseline, measured in the same run, sends the same number of messages through the same
client libraries directly, one after another, with no outbox: what the outbox's
durability costs (or its parallel workers gain).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

from bench._stack import ROOT, Stack, add_stack_arguments, log, machine, summarize_ms, warn_if_busy


class Servers:
    """Slack, a status page and SMTP on loopback, counting what arrives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from bench._stack import free_port
        from bench.comms_servers import SlackServer, StatusPageServer

        self.slack = SlackServer().start()
        self.statuspage = StatusPageServer().start()
        self.mails: list[str] = []

        servers = self

        class Inbox:
            async def handle_DATA(self, server, session, envelope):
                for line in envelope.content.decode(errors="replace").splitlines():
                    if line.lower().startswith("message-id:"):
                        servers.mails.append(line.split(":", 1)[1].strip())
                        break
                return "250 OK"

        self.smtp = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
        self.smtp.start()

    def env(self) -> dict[str, str]:
        return {
            "SLACK_ENABLED": "true",
            "SLACK_BASE_URL": self.slack.base_url,
            "SLACK_TOKEN": self.slack.token,
            "STATUSPAGE_ENABLED": "true",
            "STATUSPAGE_BASE_URL": self.statuspage.base_url,
            "STATUSPAGE_PAGE_ID": self.statuspage.page_id,
            "STATUSPAGE_API_KEY": self.statuspage.api_key,
            "EMAIL_ENABLED": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp.port),
        }

    def arrived(self) -> Counter:
        """How many times each delivery arrived, by what identifies it at the far end."""
        counts: Counter = Counter()
        counts.update(f"slack:{k}" for k in self.slack.messages_keys())
        counts.update(f"status:{b}" for b in self.statuspage.updates())
        counts.update(f"email:{m}" for m in self.mails)
        return counts

    def reset(self) -> None:
        self.slack.messages.clear()
        self.statuspage.incidents.clear()
        self.mails.clear()

    def stop(self) -> None:
        self.slack.stop()
        self.statuspage.stop()
        self.smtp.stop()


def make_releases(n: int) -> list:
    """``n`` releases inside their window, each with one status-update rule due at once."""
    from deployments.runbooks.instantiate import instantiate
    from deployments.runbooks.plan import Plan, PlanCommsRule, PlanPerson, PlanPhase, PlanRole
    from notifications.models import CommsRule
    from warroom import clock

    t0 = clock.now() - timedelta(hours=1)
    plan = Plan(
        title="Bench go-live",
        version="v1",
        window_start=timedelta(hours=-2),
        window_end=timedelta(hours=6),
        phases=[PlanPhase(name="Execution", start=timedelta(0), duration=timedelta(hours=2))],
        roles=[PlanRole(name="Sponsor", primary=["Sam Sponsor"], kind="stakeholder")],
        people=[PlanPerson(name="Sam Sponsor", email="sam@bench.example")],
        comms_rules=[
            PlanCommsRule(
                name="Progress",
                interval=timedelta(minutes=15),
                channels=["slack", "email", "status_page"],
                audience="Stakeholders",
            )
        ],
    )
    releases = [instantiate(plan, t0, source_name="bench") for _ in range(n)]
    CommsRule.objects.filter(release__in=releases).update(next_due_at=None)  # set when ready
    return releases


def wait_until_ticking(timeout: float = 120) -> None:
    """Until the worker has run beat's tick twice (both processes are up)."""
    from warroom.health import last_tick

    first = last_tick()
    deadline = time.monotonic() + timeout
    seen = set()
    while time.monotonic() < deadline:
        now = last_tick()
        if now and now != first:
            seen.add(now)
            if len(seen) >= 2:
                return
        time.sleep(0.2)
    raise SystemExit("beat and the worker did not start ticking")


def wait_for_whole_ticks(count: int = 4, timeout: float = 120) -> None:
    """Until ``count`` ticks that started after now have run all their jobs — most likely
    in each worker process: the clock job's cache is each process's own (a tick finding
    another one running skips them, yet leaves its time too: the lock must be free)."""
    from datetime import datetime

    from warroom import clock
    from warroom.health import TICK_LOCK_KEY, _redis, last_tick

    def lock_free() -> bool:
        return not _redis().exists(TICK_LOCK_KEY)

    def started_since(moment) -> bool:
        at = last_tick()
        return at is not None and datetime.fromisoformat(at) > moment

    deadline = time.monotonic() + timeout
    while not lock_free():  # a tick that may have started before now is still running
        if time.monotonic() > deadline:
            raise SystemExit("the tick did not finish")
        time.sleep(0.05)
    for _ in range(count):
        free_at = clock.now()  # a tick starting from now on runs its jobs, or waits for one
        while not (started_since(free_at) and lock_free()):
            if time.monotonic() > deadline:
                raise SystemExit("the tick did not finish")
            time.sleep(0.05)


def start_processes(stack: Stack, servers: Servers, workers: int) -> list[subprocess.Popen]:
    from django.conf import settings

    env = {
        **os.environ,
        **stack.env,
        **servers.env(),
        "REDIS_URL": settings.REDIS_URL,
        "TICK_SECONDS": "1",
        "CELERY_QUEUE": f"bench-comms-{os.getpid()}",
    }
    py = sys.executable
    procs = [
        subprocess.Popen(
            [
                py,
                "-m",
                "celery",
                "-A",
                "warroom",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(stack.tmp / "beat"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    for n in range(workers):
        procs.append(
            subprocess.Popen(
                [
                    py,
                    "-m",
                    "celery",
                    "-A",
                    "warroom",
                    "worker",
                    "--loglevel",
                    "WARNING",
                    "--concurrency",
                    "2",
                    "-Q",
                    f"{env['CELERY_QUEUE']},{env['CELERY_QUEUE']}.comms",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"bench{n}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def bench_outbox(stack: Stack, servers: Servers, releases: int, workers: int) -> dict:
    from django.db import OperationalError, transaction

    from deployments.models import Release
    from notifications.models import CommsRule, Delivery, Message
    from warroom import clock

    made = make_releases(releases)
    expected = releases * 3
    procs = start_processes(stack, servers, workers)
    try:
        wait_until_ticking()
        lead = 20.0
        for _ in range(10):  # SQLite: the workers' ticks may hold the write lock a while
            try:
                # The 15-minute slot (T0 + 1h) falls ``lead`` from now: the messages' due
                # time is then, not when the releases were made (before the workers
                # started). Moving 200 releases' T0 sends the tick's clock job through
                # each of them once in each worker process (seconds): that is over
                # before the rules fall due.
                due = clock.now() + timedelta(seconds=lead)
                with transaction.atomic():
                    Release.objects.filter(pk__in=[r.pk for r in made]).update(
                        go_live_at=due - timedelta(hours=1)
                    )
                wait_for_whole_ticks()
                if clock.now() > due - timedelta(seconds=1):
                    lead *= 2
                    log(f"the clock took longer than {lead / 2:.0f}s; again with {lead:.0f}s")
                    continue
                CommsRule.objects.update(next_due_at=due)
                break
            except OperationalError:
                log("database locked; trying again")
        log(f"{releases} releases, {expected} deliveries due in {due - clock.now()}")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = Delivery.objects.filter(state__in=["sent", "failed"]).count()
            if done >= expected:
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    rows = list(
        Delivery.objects.filter(state="sent").values_list("message__due_at", "sent_at", "key")
    )
    lateness = [(sent - due).total_seconds() for due, sent, _ in rows]
    arrived = servers.arrived()
    span = (max(s for _, s, _ in rows) - min(d for d, _, _ in rows)).total_seconds() if rows else 0
    return {
        "messages": Message.objects.count(),
        "deliveries": Delivery.objects.count(),
        "delivered": len(rows),
        "failed": Delivery.objects.filter(state="failed").count(),
        "lost": expected - sum(1 for c in arrived.values() if c >= 1),
        "duplicates": sum(c - 1 for c in arrived.values() if c > 1),
        "lateness": {**summarize_ms(lateness), "first_ms": first_ms(lateness)},
        "deliveries_per_s": round(len(rows) / span, 1) if span else None,
    }


def first_ms(samples: list[float]) -> float | None:
    return round(min(samples) * 1000, 2) if samples else None


def bench_direct(servers: Servers, count: int) -> dict:
    """The same sends through the same clients, directly and one after another."""
    import httpx
    from django.core import mail
    from slack_sdk import WebClient

    slack = WebClient(token=servers.slack.token, base_url=servers.slack.base_url)
    status = httpx.Client(
        base_url=f"{servers.statuspage.base_url}pages/{servers.statuspage.page_id}/",
        headers={"Authorization": f"OAuth {servers.statuspage.api_key}"},
    )
    conn = mail.get_connection(
        "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=servers.smtp.port
    )
    created = status.post("incidents", json={"incident": {"name": "direct", "status": "scheduled"}})
    incident = created.json()["id"]
    t0 = time.perf_counter()
    for n in range(count):
        text = f"Direct status update {n}"
        slack.chat_postMessage(channel="#direct", text=text, blocks=[])
        mail.EmailMultiAlternatives(text, text, "bench@localhost", ["sam@bench.example"],
                                    connection=conn).send()  # fmt: skip
        status.patch(f"incidents/{incident}", json={"incident": {"body": text}})
    elapsed = time.perf_counter() - t0
    status.close()
    return {"deliveries": count * 3, "deliveries_per_s": round(count * 3 / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.comms", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="Celery workers (2 processes each)")
    args = parser.parse_args(argv)
    before = warn_if_busy()
    with Stack.from_args(args) as stack:
        stack.setup_django()
        servers = Servers()
        try:
            outbox = bench_outbox(stack, servers, args.releases, args.workers)
            log(f"outbox: {outbox}")
            direct = bench_direct(servers, args.releases)
            log(f"direct: {direct}")
        finally:
            servers.stop()
        out = {
            "releases": args.releases,
            "workers": args.workers,
            "outbox": outbox,
            "baseline_direct": direct,
            "ratio_outbox_vs_direct": (
                round(outbox["deliveries_per_s"] / direct["deliveries_per_s"], 3)
                if outbox["deliveries_per_s"]
                else None
            ),
            "database": stack.database_label,
            "redis": stack.redis_label,
        }
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
