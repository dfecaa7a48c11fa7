"""Importing runbooks into the database: commands, the browser flow, round trips."""

import json
from datetime import UTC, datetime
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
    assert items == out["items"] >= CHECKBOXES[path.name]
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
        "warnings",
    } <= set(out)
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
