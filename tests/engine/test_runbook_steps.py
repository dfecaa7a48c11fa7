"""Steps from the runbook: a ``warroom-steps`` block read on import (errors name the
line), written back on export, and the same steps after importing the export."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deployments import services
from deployments.models import Release, Step
from deployments.runbooks.errors import RunbookError
from warroom import clock

pytestmark = pytest.mark.django_db

RUNBOOK = """# Checkout v3 go-live

## Timeline

### T-0: Deployment Execution (2 hours)
- [ ] Announce the start in #release (Release Manager)

### T+2h: Validation (1 hour)
- [ ] Smoke test checkout (QA Lead)

## Roles

| Role | Primary | Backup |
| --- | --- | --- |
| Release Manager | Rita Manager | Ben Backup |
| QA Lead | Quinn Tester | |

## Automated steps

```warroom-steps
{"phase": "Deployment Execution", "kind": "flags", "title": "Canary 10 %", "config": {"set": {"feature:checkout:percentage": 10}}}
{"phase": "Deployment Execution", "kind": "prometheus", "title": "Watch the canary", "attempts": 2, "config": {"query": "app_error_ratio", "comparison": "<", "threshold": 0.01, "interval": 60, "count": 10}}
{"phase": "Deployment Execution", "kind": "flags", "title": "Full rollout", "confirm": true, "config": {"set": {"feature:checkout:percentage": 100}}}
{"phase": "Validation", "kind": "http", "title": "Smoke", "owner_role": "QA Lead", "timeout_s": 120, "config": {"url": "https://checkout.example/health", "expect_json": {"status": "ok"}}}
{"phase": "Deployment Execution", "kind": "flags", "title": "Flag off", "rollback": true, "config": {"set": {"feature:checkout:percentage": 0}}}
{"phase": "Deployment Execution", "kind": "kubernetes", "title": "Undo", "rollback": true, "dry_run": true, "config": {"action": "undo", "deployment": "checkout"}}
```
"""  # noqa: E501


def rows(release) -> list[tuple]:
    return [
        (s.phase.name, s.kind, s.title, s.config, s.requires_confirmation, s.max_attempts,
         s.timeout, s.is_rollback, s.owner_role.name if s.owner_role else "", s.dry_run)
        for s in sorted(Step.objects.filter(phase__release=release)
                        .select_related("phase", "owner_role"), key=Step.plan_position)
    ]  # fmt: skip


def test_the_runbooks_steps_are_imported_exported_and_imported_again_the_same():
    plan, _ = services.runbook_preview(RUNBOOK)
    release = services.release_import(plan=plan, go_live_at=clock.now() + timedelta(days=1))
    first = rows(release)
    assert [r[2] for r in first] == [
        "Canary 10 %", "Watch the canary", "Full rollout", "Flag off", "Undo", "Smoke",
    ]  # fmt: skip
    assert [r[9] for r in first] == [False, False, False, False, True, False]
    smoke = first[-1]
    assert smoke[6] == timedelta(seconds=120) and smoke[8] == "QA Lead"
    assert first[1][5] == 2 and first[2][4] is True and first[3][7] is True
    assert not any("warroom-steps" in str(n) for n in release.notes)

    text = services.release_export(release=release)
    assert text.count("```warroom-steps") == 1
    again, _ = services.runbook_preview(text)
    copy = services.release_import(plan=again, go_live_at=clock.now() + timedelta(days=2))
    assert rows(copy) == first


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"phase": "Deployment Execution", "kind": "http", "title": "Health", "config": {}}',
         "line 21: warroom-steps: config.url: is required"),
        ('{"phase": "Go-live", "kind": "wait", "title": "Soak", "config": {"seconds": 5}}',
         "line 21: warroom-steps: phase 'Go-live' is not a phase of this runbook"),
        ('{"phase": "Validation", "kind": "wait", "title": "Soak", "config": {"seconds": 5}',
         "line 21: warroom-steps: not a JSON object"),
    ],
)  # fmt: skip
def test_a_bad_step_in_the_runbook_names_its_line_and_nothing_is_imported(line, message):
    head = RUNBOOK.split("```warroom-steps")[0]
    plan, _ = services.runbook_preview(head + "```warroom-steps\n" + line + "\n```\n")
    with pytest.raises(RunbookError) as refused:
        services.release_import(plan=plan, go_live_at=clock.now() + timedelta(days=1))
    assert str(refused.value).startswith(message)
    assert not Release.objects.exists()
