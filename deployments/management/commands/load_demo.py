"""(Re)create the demo go-live from the project's own example runbook."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from checklists import selectors as checklist_selectors
from checklists import services as checklist_services
from deployments import engine, services
from deployments.models import Release
from warroom import clock
from warroom.people.models import Assignment, Person

EXAMPLE = Path(__file__).resolve().parents[2] / "runbooks" / "examples" / "demo-go-live.md"
DEMO_SOURCE = "demo-go-live.md"
PASSWORD = "golive-demo"
# The demo runbook's HTTP checks name this address; --app-url puts the running one there.
RUNBOOK_APP_URL = "http://127.0.0.1:8000"


def _username(name: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z]", "", ascii_name.split()[0].lower()) if ascii_name.split() else ""
    base = base or "user"
    username, n = base, 2
    while username in taken:
        username, n = f"{base}{n}", n + 1
    taken.add(username)
    return username


class Command(BaseCommand):
    help = "Load the demo go-live (T0 in 90 minutes) with a login for every team member."

    def add_arguments(self, parser):
        parser.add_argument("--minutes-to-go-live", type=int, default=90)
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--app-url",
            default=RUNBOOK_APP_URL,
            help="Where this Warroom answers: the demo's HTTP checks go there.",
        )

    @transaction.atomic
    def handle(self, *args, minutes_to_go_live: int, quiet: bool, app_url: str, **options):
        User = get_user_model()
        Release.objects.filter(source_name=DEMO_SOURCE).delete()
        now = clock.now()
        t0 = (now + timedelta(minutes=minutes_to_go_live)).replace(second=0, microsecond=0)
        t0 -= timedelta(minutes=t0.minute % 5)
        runbook = EXAMPLE.read_text().replace(RUNBOOK_APP_URL, app_url.rstrip("/"))
        plan, _ = services.runbook_preview(runbook.encode(), source_name=DEMO_SOURCE)
        admin, _ = User.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@orbit.example"},
        )
        password_hash = make_password(PASSWORD)  # hashed once: PBKDF2 per user is slow
        admin.password = password_hash
        admin.save()
        release = services.release_import(
            plan=plan, go_live_at=t0, name="Orbit Payments", source_name=DEMO_SOURCE
        )
        taken: set[str] = {"admin"}  # usernames are stable across reloads of the demo
        logins: list[tuple[str, str, str]] = []
        for person in Person.objects.filter(assignments__role__release=release).distinct():
            if person.is_placeholder:
                continue
            username = _username(person.name, taken)
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": person.email,
                    "first_name": person.name.split()[0],
                    "last_name": " ".join(person.name.split()[1:]),
                },
            )
            user.password = password_hash
            user.save()
            Person.objects.filter(user=user).exclude(pk=person.pk).update(user=None)
            person.user = user
            person.save(update_fields=["user"])
            roles = ", ".join(
                f"{a.role.name}{' (backup)' if a.kind == 'backup' else ''}"
                for a in person.assignments.select_related("role")
            )
            logins.append((user.username, person.name, roles))
        self._rehearse(release)
        started = self._start_steps(release)
        if quiet:
            return
        self.stdout.write(f"Demo release {release.pk}: {release} — T0 {t0:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"Logins (password for all: {PASSWORD}):")
        self.stdout.write(f"  {'admin':<10} administrator")
        for username, name, roles in sorted(logins, key=lambda x: x[2]):
            self.stdout.write(f"  {username:<10} {name} — {roles}")
        if started:
            self.stdout.write(
                f"The {started} steps start as soon as the worker is up; the canary and full"
                " rollout steps wait for “Run steps” at T0."
            )

    def _start_steps(self, release: Release) -> str:
        """Start the steps of the phases running now, as their release manager would: the
        runs wait, queued, for the worker (the tick sends them once it is up)."""
        now_offset = clock.now() - release.go_live_at
        manager = (
            Assignment.objects.filter(
                role__release=release, role__is_release_manager=True, kind="primary"
            )
            .exclude(person__user=None)
            .select_related("person__user")
            .first()
        )
        if manager is None:
            return ""
        started = []
        for phase in release.phases.filter(steps__isnull=False).distinct():
            end = phase.end_offset
            if phase.start_offset is None or end is None:
                continue
            if phase.start_offset <= now_offset < end:
                engine.phase_run(phase=phase, user=manager.person.user)
                started.append(phase.name)
        return ", ".join(started)

    def _rehearse(self, release: Release) -> None:
        """Tick what a team would have done by now: pre-deployment lists already due (T-7d,
        T-3d, T-1d, T-2h) and the checklists of phases that have ended, each by its owner
        through the service, so the audit timeline shows who did what."""
        offset = clock.now() - release.go_live_at

        def due_by_now(c) -> bool:
            pre_due = (
                c.kind == checklist_selectors.ChecklistKind.PRE_DEPLOYMENT
                and c.due_offset is not None
                and c.due_offset <= offset
            )
            phase_over = c.phase is not None and c.phase.end_offset is not None
            return pre_due or (phase_over and c.phase.end_offset <= offset)

        rows = checklist_selectors.checklists_with_items(release)
        items = [item for row in rows if due_by_now(row.checklist) for item in row.items]
        admin = get_user_model().objects.get(username="admin")
        for n, item in enumerate(items):
            holder = None
            if item.owner_role_id:
                a = (
                    Assignment.objects.filter(role=item.owner_role, person__user__isnull=False)
                    .select_related("person__user")
                    .order_by("kind")
                    .first()
                )
                holder = a.person.user if a else None
            status, note = "done", ""
            if n == 3:
                status, note = "na", "Covered by the platform team's change freeze notice"
            checklist_services.item_set_status(
                item=item, status=status, note=note, user=holder or admin
            )
