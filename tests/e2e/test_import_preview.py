"""The import page in a real browser: what was typed survives "Preview", and the release is
created with the go-live time the person chose."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.conftest import in_thread, login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CORPUS = Path(__file__).parents[1] / "runbooks" / "corpus"

RUNBOOK = (
    "# Orbit cutover\n\n## Team\n| Role | Name |\n|---|---|\n| DBA | Ana |\n"
    "| SRE On-Call | [Name] |\n"
    "## T-1 day\n- [ ] Freeze schema (Owner: DBA)\n- [ ] Page test (Owner: SRE Oncall)\n"
    "## Go/No-Go\n- [ ] QA Lead: ____ Date: ____\n"
    "## Rollback triggers\n- Error rate > 5% for 5 min\n"
)


def test_the_go_live_time_typed_before_preview_survives_and_creates_the_release(
    live_team, contexts
):
    server = live_team.server
    page = login(contexts(timezone_id="Europe/Berlin"), server, "rm", "/import/")
    page.fill("textarea[name=markdown]", RUNBOOK)
    page.fill("input[name=name]", "Orbit night")
    page.fill("input[data-local-datetime=go_live_at]", "2027-03-13T23:30")
    with page.expect_navigation():
        page.click("button[value=preview]")

    # Every field is kept, and the preview shows owners, sign-offs, thresholds and seats.
    assert page.input_value("input[data-local-datetime=go_live_at]") == "2027-03-13T23:30"
    assert page.input_value("input[name=name]") == "Orbit night"
    assert "Freeze schema" in page.input_value("textarea[name=markdown]")
    preview = page.locator("section.preview")
    assert preview.locator(".owner", has_text="DBA").count() == 1
    assert preview.locator(".signoffs li", has_text="QA Lead").count() == 1
    assert "> 5%" in preview.locator("table.criteria").inner_text()
    assert preview.locator(".unfilled").count() == 1
    assert "closest declared role: 'SRE On-Call'" in preview.inner_text()
    shot(page, "import-preview-kept.png")

    with page.expect_navigation():
        page.click("button[value=create]")
    assert "/releases/" in page.url, page.url
    assert not page.watch.errors, page.watch.errors

    def created():
        from deployments.models import Release

        return Release.objects.get(name="Orbit night").go_live_at

    # 23:30 in Berlin (CET, UTC+1) on 13 March 2027
    assert in_thread(created) == datetime(2027, 3, 13, 22, 30, tzinfo=UTC)


def test_the_preview_shows_week_and_day_phases_unfilled_seats_and_rollback_thresholds(
    live_team, contexts
):
    runbook = (CORPUS / "en-09-week-by-week.md").read_text(encoding="utf-8")
    page = login(contexts(timezone_id="Europe/London"), live_team.server, "rm", "/import/")
    page.fill("textarea[name=markdown]", runbook)
    with page.expect_navigation():
        page.click("button[value=preview]")
    preview = page.locator("section.preview")
    timeline = preview.locator("table", has_text="Week -2").first
    rows = [r.inner_text() for r in timeline.locator("tr:has(td)").all()]
    assert [r.split("\t")[1] for r in rows] == ["Week -2", "T-7 days", "Day 0 / Go-live night"]
    assert preview.locator(".unfilled").count() == 4  # [Name], TBD, John Doe, (to be assigned)
    criteria = preview.locator("table.criteria").inner_text()
    assert "Payment error rate" in criteria and "Invoice queue depth" in criteria
    assert "Checkout p95 latency" not in criteria  # its action pages someone: an alert
    assert "does not say to roll back" in preview.inner_text()
    shot(page, "import-preview-day-phases.png")
    assert not page.watch.errors, page.watch.errors
