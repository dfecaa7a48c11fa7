# ruff: noqa: RUF001 - Russian runbook text
"""Importing runbooks into the database: commands, the browser flow, round trips."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from checklists.models import ChecklistItem
from deployments.models import Release
from deployments.runbooks.export import render_plan
from deployments.runbooks.instantiate import instantiate, plan_from_release
from deployments.runbooks.parse import parse_runbook

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "runbooks" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.md"))
CHECKBOXES = {
    "go-live-day-schedule.md": 180,
    "deployment-runbook.md": 195,
    "production-cutover-plan.md": 92,
    "week-7-go-live-plan.md": 51,
    "enterprise-deployment-runbook.md": 542,
}
T0 = datetime(2026, 12, 19, 22, 0, tzinfo=UTC)


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.name for p in SEED_FILES])
def test_a_seed_imports_with_every_checkbox_as_an_item(path):
    out = json.loads(run("import_runbook", str(path), "--go-live", "2026-12-19T22:00Z", "--json"))
    release = Release.objects.get(pk=out["release"])
    assert release.go_live_at == T0
    items = ChecklistItem.objects.filter(checklist__release=release).count()
    items += release.rollback_steps.count()  # rollback steps: kept out of forward progress
    assert items == out["counts"]["items"] >= CHECKBOXES[path.name]
    assert {
        "phases",
        "items",
        "checklists",
        "roles",
        "contacts",
        "escalation_levels",
        "rollback_criteria",
        "comms_rules",
        "templates",
        "signoffs",
    } <= set(out["counts"])
    assert all({"line", "message"} == set(w) for w in out["warnings"])


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.name for p in SEED_FILES])
def test_a_seeds_release_exports_to_markdown_that_imports_back_exactly(path):
    plan = parse_runbook(path.read_bytes())
    release = instantiate(plan, T0, source_name=path.name)
    exported = plan_from_release(release)
    # Export -> import gives back exactly the release's plan...
    assert parse_runbook(render_plan(exported)) == exported
    # ...which is the imported plan, except that a role named twice in different
    # case ("On-call engineer" / "On-Call Engineer") is one role, under its first name.
    assert plan_from_release(instantiate(exported, T0)) == exported
    assert exported.item_count() == plan.item_count()
    assert len(exported.phases) == len(plan.phases)
    assert [p.name for p in exported.phases] == [p.name for p in plan.phases]


def test_dry_run_writes_nothing_and_says_so():
    out = run("import_runbook", str(SEED_FILES[0]), "--dry-run")
    assert "dry run: nothing was written" in out
    assert not Release.objects.exists()


def test_bad_input_exits_2_with_a_reason_naming_the_line(tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_text("")
    with pytest.raises(CommandError) as err:
        run("import_runbook", str(empty))
    assert err.value.returncode == 2
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"# Title\n\x00\x01\x02")
    with pytest.raises(CommandError) as err:
        run("import_runbook", str(binary))
    assert err.value.returncode == 2 and "binary" in str(err.value).lower()
    bad_utf8 = tmp_path / "latin1.md"
    bad_utf8.write_bytes(b"# Runbook\n\n- [ ] ok\n- [ ] caf\xe9\n")
    with pytest.raises(CommandError) as err:
        run("import_runbook", str(bad_utf8))
    assert err.value.returncode == 2 and "line 4" in str(err.value)
    assert not Release.objects.exists()


def test_a_file_over_five_megabytes_is_refused(tmp_path):
    big = tmp_path / "big.md"
    big.write_bytes(b"- [ ] x\n" * (5 * 1024 * 1024 // 8 + 10))
    with pytest.raises(CommandError) as err:
        run("import_runbook", str(big))
    assert err.value.returncode == 2 and "5 MB" in str(err.value)


def test_a_bad_go_live_is_refused_naming_the_option():
    with pytest.raises(CommandError) as err:
        run("import_runbook", str(SEED_FILES[0]), "--go-live", "next saturday")
    assert "--go-live" in str(err.value) and err.value.returncode == 2


def test_export_runbook_prints_markdown_that_imports_back_the_same_plan(tmp_path):
    plan = parse_runbook(SEED_FILES[0].read_bytes())
    release = instantiate(plan, T0)
    text = run("export_runbook", str(release.pk))
    assert parse_runbook(text) == plan


def test_a_release_reused_as_template_shifts_everything_with_t0_and_starts_unticked(client):
    from deployments import services
    from tests.factories import team_release
    from warroom.people.models import Assignment

    team = team_release(go_live_at=T0)
    item = team.item("DBA")
    from checklists.services import item_set_status

    item_set_status(item=item, status="done", user=team["dba"])
    new_t0 = datetime(2027, 1, 9, 21, 0, tzinfo=UTC)
    everyone = Assignment.objects.filter(role__release=team.release).values_list("pk", flat=True)
    new = services.release_clone(
        release=team.release, go_live_at=new_t0, user=team["rm"], team=list(everyone)
    )
    assert new.go_live_at == new_t0
    old_phases = list(team.release.phases.values_list("name", "start_offset"))
    assert list(new.phases.values_list("name", "start_offset")) == old_phases
    first = new.phases.get(name="Pre-Deployment")
    assert new.at(first.start_offset) == datetime(2027, 1, 9, 19, 0, tzinfo=UTC)
    assert not ChecklistItem.objects.filter(checklist__release=new, status="done").exists()
    assert plan_from_release(new, keep_status=False) == plan_from_release(
        team.release, keep_status=False
    )


def test_import_in_the_browser_previews_without_writing_then_creates(client, django_user_model):
    user = django_user_model.objects.create_user("importer", password="pw")
    client.force_login(user)
    text = (SEEDS / "production-cutover-plan.md").read_text(encoding="utf-8")
    resp = client.post("/import/", {"markdown": text, "action": "preview"})
    assert resp.status_code == 200
    assert b"Rollback criteria" in resp.content and b"Warnings" in resp.content
    assert not Release.objects.exists()
    resp = client.post(
        "/import/", {"markdown": text, "action": "create", "go_live_at": "2026-12-19T22:00:00.000Z"}
    )
    assert resp.status_code == 302
    release = Release.objects.get()
    assert resp.url == f"/releases/{release.pk}/"
    assert release.created_by == user
    assert client.get(resp.url).status_code == 200  # the importer manages the release


def test_import_in_the_browser_shows_a_clear_error_and_writes_nothing(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("importer"))
    resp = client.post(
        "/import/", {"markdown": "just some prose\n\nno structure here\n", "action": "preview"}
    )
    assert resp.status_code == 400
    assert b"nothing to import" in resp.content.lower()
    resp = client.post(
        "/import/",
        {"markdown": "# Go-live\n\n- [ ] <script>alert(1)</script>\n", "action": "preview"},
    )
    assert resp.status_code == 200
    assert b"<script>alert(1)</script>" not in resp.content
    assert not Release.objects.exists()


def test_create_without_a_go_live_time_is_refused_naming_the_field(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("importer"))
    resp = client.post(
        "/import/", {"markdown": "# Go-live\n\n- [ ] Roll call\n", "action": "create"}
    )
    assert resp.status_code == 400 and b"go_live_at" in resp.content
    assert not Release.objects.exists()


def test_the_export_button_downloads_markdown(client, django_user_model):
    from tests.factories import team_release

    team = team_release(go_live_at=T0)
    client.force_login(team["rm"])
    resp = client.get(f"/releases/{team.release.pk}/export.md")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/markdown")
    assert "attachment" in resp["Content-Disposition"]
    assert parse_runbook(resp.content) == plan_from_release(team.release)


def test_uploading_a_binary_or_oversized_file_is_refused_with_a_reason(client, django_user_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(django_user_model.objects.create_user("importer"))
    binary = SimpleUploadedFile("runbook.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    resp = client.post("/import/", {"file": binary, "action": "preview"})
    assert resp.status_code == 400 and b"binary" in resp.content.lower()
    big = SimpleUploadedFile("big.md", b"- [ ] x\n" * (5 * 1024 * 1024 // 8 + 10))
    resp = client.post("/import/", {"file": big, "action": "preview"})
    assert resp.status_code == 400 and b"5 MB" in resp.content
    good = SimpleUploadedFile("cutover.md", (SEEDS / "production-cutover-plan.md").read_bytes())
    resp = client.post("/import/", {"file": good, "action": "preview"})
    assert resp.status_code == 200 and b"cutover.md" in resp.content
    assert not Release.objects.exists()


def test_a_dry_run_prints_the_whole_plan_as_json(tmp_path):
    runbook = tmp_path / "orbit.md"
    runbook.write_text(
        "---\ntitle: Orbit 3\n---\n# Cutover\n\nGo-live: 2026-03-14 22:00 CET\n\n"
        "## Team\n| Role | Name |\n|---|---|\n| DBA | [Name] |\n| SRE On-Call | Ana |\n"
        "## T-2 Wochen\n- [ ] Freeze schema (Owner: DBA)\n- [ ] Page test (Owner: SRE Oncall)\n"
        "## Go/No-Go\n- [ ] QA Lead: ____ Date: ____\n\nGO / NO-GO\n\n"
        "## Rollback triggers\n- Error rate > 5% for 5 min\n## Rollback plan\n- [ ] Revert image\n"
        "## Escalation\nSRE On-Call → CTO\n",
        encoding="utf-8",
    )
    out = json.loads(run("import_runbook", str(runbook), "--dry-run", "--json"))
    assert "release" not in out and Release.objects.count() == 0
    assert (out["title"], out["go_live_at"]) == ("Orbit 3", "2026-03-14T22:00+01:00")
    (checklist,) = out["checklists"]
    assert checklist["due_offset_s"] == -14 * 86400 and checklist["line"] == 14
    assert [(i["text"], i["owner"], i["line"]) for i in checklist["items"]] == [
        ("Freeze schema", "DBA", 14),
        ("Page test", "SRE Oncall", 15),
    ]
    assert [(r["name"], r["unfilled"]) for r in out["roles"]] == [
        ("DBA", True),
        ("SRE On-Call", False),
    ]
    (gate,) = out["gates"]
    assert [s["role"] for s in gate["signoffs"]] == ["QA Lead"] and gate["items"] == []
    (crit,) = out["rollback_criteria"]
    assert (crit["metric"], crit["op"], crit["threshold"], crit["for_s"]) == (
        "Error rate",
        ">",
        5.0,
        300,
    )
    assert [i["text"] for i in out["rollback_plan"]] == ["Revert image"]
    assert [(e["level"], e["roles"]) for e in out["escalation"]] == [
        (1, ["SRE On-Call"]),
        (2, ["CTO"]),
    ]
    assert {
        "line": 15,
        "message": (
            "owner 'SRE Oncall' matches no declared role; closest declared role: 'SRE On-Call'"
        ),
    } in out["warnings"]
    assert out["counts"]["items"] == 3


def test_an_import_without_go_live_takes_the_time_the_runbook_states(tmp_path):
    runbook = tmp_path / "r.md"
    runbook.write_text("# R\n\nGo-live: 2026-03-14 22:00 CET\n\n## Checklist\n- [ ] A\n")
    out = json.loads(run("import_runbook", str(runbook), "--json"))
    assert Release.objects.get(pk=out["release"]).go_live_at.isoformat() == (
        "2026-03-14T21:00:00+00:00"
    )


def test_an_import_links_known_people_and_never_overwrites_their_details(tmp_path):
    from warroom.people.models import Person

    known = Person.objects.create(
        name="Ana Lima", email="ana@example.org", phone="+1 555 0100", slack_handle="@ana"
    )
    by_name = Person.objects.create(name="Bo Chen", email="", phone="+1 555 0200")
    runbook = tmp_path / "r.md"
    runbook.write_text(
        "# R\n## Team\n| Role | Name | Email | Phone | Slack |\n|---|---|---|---|---|\n"
        "| DBA | Ana L. | ana@example.org | +1 555 9999 | @ana |\n"
        "| SRE | Bo Chen | bo@example.org | +1 555 0200 | @bo |\n"
        "## Checklist\n- [ ] A (Owner: DBA)\n",
        encoding="utf-8",
    )
    out = json.loads(run("import_runbook", str(runbook), "--json"))
    warnings = [(w["line"], w["message"]) for w in out["warnings"]]
    assert (
        5,
        "Ana L. is already known as Ana Lima <ana@example.org>: this runbook's name 'Ana L.' "
        "differs from 'Ana Lima', which is kept",
    ) in warnings
    assert (
        5,
        "Ana L. is already known as Ana Lima <ana@example.org>: this runbook's phone "
        "'+1 555 9999' differs from '+1 555 0100', which is kept",
    ) in warnings
    assert [w for w in warnings if "Bo Chen" in w[1]] == []
    known.refresh_from_db()
    by_name.refresh_from_db()
    assert (known.name, known.phone) == ("Ana Lima", "+1 555 0100")
    assert (by_name.email, by_name.slack_handle) == ("bo@example.org", "@bo")  # blanks filled
    assert Person.objects.count() == 2
    release = Release.objects.get(pk=out["release"])
    assert set(release.releasecontact_set.values_list("person_id", flat=True)) == {
        known.pk,
        by_name.pk,
    }


def test_the_cli_refuses_a_runbook_over_the_item_setting(tmp_path, settings):
    settings.RUNBOOK_MAX_ITEMS = 3
    runbook = tmp_path / "big.md"
    runbook.write_text("# R\n## Checklist\n" + "- [ ] x\n" * 4, encoding="utf-8")
    with pytest.raises(CommandError, match="limit is 3 items"):
        run("import_runbook", str(runbook), "--json")
    assert Release.objects.count() == 0


PREVIEWED = (
    "# Orbit\n\nGo-live: 2026-03-14 22:00 CET\n\n"
    "## Team\n| Role | Name |\n|---|---|\n| SRE On-Call | Ana |\n| DBA | [Name] |\n"
    "## Checklist\n- [ ] Page test (Owner: SRE Oncall)\n- [ ] Freeze schema (Owner: DBA)\n"
    "- [ ] Water the plants\n"
    "## Go/No-Go\n- [ ] QA Lead: ____ Date: ____\n"
    "## Rollback triggers\n- Error rate > 5% for 5 min\n"
)


def test_the_preview_keeps_the_fields_and_shows_owners_signoffs_and_thresholds(
    client, django_user_model
):
    client.force_login(django_user_model.objects.create_user("rm"))
    resp = client.post(
        "/import/",
        {
            "markdown": PREVIEWED,
            "action": "preview",
            "name": "Orbit night",
            "go_live_at": "2026-03-15T01:30:00.000Z",
        },
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and Release.objects.count() == 0
    assert 'name="go_live_at" value="2026-03-15T01:30:00.000Z"' in page  # typed, not stated
    assert 'value="Orbit night"' in page
    assert 'Page test — <span class="owner">SRE Oncall</span>' in page
    assert 'Water the plants — <span class="muted">no owner</span>' in page
    assert "<em>no owner</em>: 1 item" in page
    assert '<em class="unfilled">seat to fill</em>' in page  # DBA: [Name]
    assert "QA Lead" in page and "Sign-offs required" in page
    assert "<td>Error rate</td><td>&gt; 5%</td><td>5m</td>" in page
    assert (
        "line 11: owner &#x27;SRE Oncall&#x27; matches no declared role; closest declared role: "
        "&#x27;SRE On-Call&#x27;" in page
    )


def test_the_preview_prefills_the_go_live_the_runbook_states(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("rm"))
    page = client.post("/import/", {"markdown": PREVIEWED, "action": "preview"}).content.decode()
    assert 'name="go_live_at" value="2026-03-14T22:00:00+01:00"' in page


def test_a_pipeline_without_a_database_can_validate_a_runbook(tmp_path):
    """A CI job that checks a runbook before a release has no Warroom database: the dry
    run still prints the plan (people are not compared with those on record, and it
    says so); an import for real names the missing step instead of a traceback."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    seed = str(SEEDS / "production-cutover-plan.md")

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", "import_runbook", seed, *args],
            cwd=root, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    checked = manage("--dry-run", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["counts"]["items"] == CHECKBOXES["production-cutover-plan.md"]
    assert "people not compared with those on record" in checked.stderr
    imported = manage()
    assert imported.returncode == 2
    assert "run `manage.py migrate` first" in imported.stderr
    assert "Traceback" not in imported.stderr


WORDED = (
    "# Gateway switch\n\nДата перехода: 2026-03-14 22:00 MSK\n\n## День перехода\n\n"
    "1. Переключить маршрутизацию\n\n## Критерии отката\n\n"
    "- Недоступность платёжного шлюза более 2 минут\n- Потеря данных\n"
)


def test_a_criterion_in_words_only_is_kept_unwatched_and_shown_as_judged_by_people(
    client, django_user_model
):
    plan = parse_runbook(WORDED.encode(), source_name="worded.md")
    release = instantiate(plan, name="Gateway switch", go_live_at=T0)
    stored = [
        (c.metric, c.op, c.threshold, c.enabled, c.text)
        for c in release.rollback_criteria.order_by("order")
    ]
    assert stored == [
        ("Недоступность платёжного шлюза", ">", 120.0, True, stored[0][4]),
        ("", "", 0.0, False, "Потеря данных"),
    ]
    back = plan_from_release(release)
    assert [(c.metric, c.comparison, c.text) for c in back.rollback_criteria][1] == (
        "",
        "",
        "Потеря данных",
    )
    assert parse_runbook(render_plan(back).encode(), source_name="x.md").rollback_criteria == (
        back.rollback_criteria
    )
    client.force_login(django_user_model.objects.create_user("rm"))
    page = client.post("/import/", {"markdown": WORDED, "action": "preview"}).content.decode()
    assert "<td>Потеря данных</td><td>judged by people</td>" in page


def test_a_clock_schedule_of_tasks_imports_as_items_due_at_their_time_with_owner_roles(tmp_path):
    path = tmp_path / "schedule.md"
    path.write_text(
        "# Billing cutover runbook\n\n**Go-live:** 2026-12-12 22:00 UTC\n\n"
        "## Cutover night schedule\n\n| Time | Task | Owner | Status |\n|---|---|---|---|\n"
        "| 21:30 | Freeze deployments | Release Manager | |\n"
        "| 23:00 | Smoke test checkout | QA | |\n",
        encoding="utf-8",
    )
    out = json.loads(run("import_runbook", str(path), "--json"))
    release = Release.objects.get(pk=out["release"])
    assert [p.name for p in release.phases.all()] == ["Cutover night schedule"]
    items = ChecklistItem.objects.filter(checklist__release=release).order_by("checklist__order")
    assert [
        (i.text, i.checklist.phase.name, i.checklist.due_offset, i.owner_role.name)
        for i in items.select_related("checklist__phase", "owner_role")
    ] == [
        ("Freeze deployments", "Cutover night schedule", -timedelta(minutes=30), "Release Manager"),
        ("Smoke test checkout", "Cutover night schedule", timedelta(hours=1), "QA"),
    ]
    assert release.go_live_at == datetime(2026, 12, 12, 22, 0, tzinfo=UTC)
    assert {(r.name, r.is_declared) for r in release.roles.all()} == {
        ("Release Manager", False),
        ("QA", False),
    }
