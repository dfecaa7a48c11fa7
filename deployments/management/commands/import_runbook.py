import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from deployments import services
from deployments.runbooks.parse import RunbookError
from deployments.runbooks.schema import plan_json, stated_t0
from warroom import clock
from warroom.people.models import Person


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


def _database_ready() -> bool:
    """Is there a database with Warroom's tables? (A CI job that only validates runbooks
    with ``--dry-run`` may have none, or an unmigrated one.)"""
    try:
        return Person._meta.db_table in connection.introspection.table_names()
    except DatabaseError:
        return False


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

    def _plan(self, file: Path, dry_run: bool):
        """The runbook's plan, or a CommandError naming what is wrong (exit status 2)."""
        if not file.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        max_bytes, _ = services.runbook_limits()
        if file.stat().st_size > max_bytes:
            raise CommandError(
                f"{file}: the file is over the limit of {max_bytes / 1024 / 1024:g} MB "
                "(setting RUNBOOK_MAX_BYTES)",
                returncode=2,
            )
        database = _database_ready()
        if not database and not dry_run:
            raise CommandError(
                "no migrated Warroom database here: run `manage.py migrate` first "
                "(or validate the runbook with --dry-run, which needs none)",
                returncode=2,
            )
        if not database:
            self.stderr.write("no Warroom database here: people not compared with those on record")
        try:
            plan, _ = services.runbook_preview(
                file.read_bytes(), source_name=file.name, compare_people=database
            )
        except RunbookError as exc:
            raise CommandError(f"{file}: {exc}", returncode=2) from None
        return plan

    def handle(
        self, *args, path: str, go_live: str | None, name: str, dry_run: bool, json: bool, **options
    ):
        file = Path(path)
        plan = self._plan(file, dry_run)
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
