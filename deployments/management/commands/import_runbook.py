import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deployments import services
from deployments.runbooks.parse import RunbookError
from deployments.runbooks.schema import plan_json, stated_t0
from warroom import clock


def next_saturday_22utc(now: datetime) -> datetime:
    """The usual deployment slot: the next Saturday 22:00 UTC."""
    now = now.astimezone(UTC)
    days = (5 - now.weekday()) % 7
    slot = (now + timedelta(days=days)).replace(hour=22, minute=0, second=0, microsecond=0)
    return slot if slot > now else slot + timedelta(days=7)


def parse_go_live(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(
            f"--go-live: {value!r} is not an ISO date and time (e.g. 2026-12-19T22:00Z)",
            returncode=2,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Import a markdown runbook as a release (or, with --dry-run, show what it holds)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--go-live",
            help="T0, ISO 8601 (default: the go-live the runbook states, else the next "
            "Saturday 22:00 UTC)",
        )
        parser.add_argument("--name", default="", help="Release name (default: the title)")
        parser.add_argument("--dry-run", action="store_true", help="Parse only; write nothing.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(
        self, *args, path: str, go_live: str | None, name: str, dry_run: bool, json: bool, **options
    ):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        max_bytes, _ = services.runbook_limits()
        if file.stat().st_size > max_bytes:
            raise CommandError(
                f"{path}: the file is over the limit of {max_bytes / 1024 / 1024:g} MB "
                "(setting RUNBOOK_MAX_BYTES)",
                returncode=2,
            )
        try:
            plan, _ = services.runbook_preview(file.read_bytes(), source_name=file.name)
        except RunbookError as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        t0 = (
            parse_go_live(go_live)
            if go_live
            else stated_t0(plan.go_live_at, clock.now()) or next_saturday_22utc(clock.now())
        )
        summary = plan.summary()
        release = None
        if not dry_run:
            release = services.release_import(
                plan=plan, go_live_at=t0, name=name, source_name=file.name
            )
        if json:
            out = plan_json(plan)
            if release is not None:
                out = {"release": release.pk, "t0": t0.isoformat(), **out}
            self.stdout.write(_dumps(out))
            return
        self.stdout.write(f"{plan.title or file.name}")
        for key in (
            "phases",
            "checklists",
            "items",
            "roles",
            "contacts",
            "escalation_levels",
            "rollback_criteria",
            "comms_rules",
            "templates",
            "signoffs",
        ):
            self.stdout.write(f"  {key.replace('_', ' ')}: {summary[key]}")
        for w in summary["warnings"]:
            self.stdout.write(f"  warning: line {w['line']}: {w['message']}")
        if release is not None:
            self.stdout.write(f"created release {release.pk} with T0 {t0.isoformat()}")
        else:
            self.stdout.write("dry run: nothing was written")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
