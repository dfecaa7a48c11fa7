"""The project's own example runbook (used by ``make run``'s demo) imports completely."""

from datetime import timedelta
from pathlib import Path

from deployments.runbooks import steps_block
from deployments.runbooks.export import render_plan
from deployments.runbooks.parse import parse_runbook

DEMO = (
    Path(__file__).resolve().parents[2]
    / "deployments"
    / "runbooks"
    / "examples"
    / "demo-go-live.md"
)


def test_the_demo_runbook_has_the_expected_shape():
    plan = parse_runbook(DEMO.read_bytes())
    # The automated steps are read out of their section, as the import does.
    steps = steps_block.read(plan)
    assert len(steps) == 17 and {s.fields["kind"] for s in steps} == {
        "http", "flags", "kubernetes", "aws", "wait",
    }  # fmt: skip
    steps_block.strip(plan)
    summary = plan.summary()
    assert summary == {
        "phases": 17,
        "items": 55,
        "checklists": 17,
        "roles": 9,
        "contacts": 9,
        "escalation_levels": 4,
        "rollback_criteria": 4,
        "comms_rules": 7,
        "templates": 2,
        "signoffs": 7,
        "warnings": [],
    }
    assert plan.version == "v4.2.0"
    assert (plan.window_start, plan.window_end) == (timedelta(), timedelta(hours=8))
    gng, final = plan.gates
    assert (gng.kind, gng.at, gng.decision_roles) == (
        "go_no_go",
        -timedelta(minutes=30),
        ["Release Manager", "VP Engineering"],
    )
    assert final.kind == "final_approval"
    assert [c.due for c in plan.checklists] == [
        -timedelta(days=7),
        -timedelta(days=3),
        -timedelta(days=1),
        -timedelta(hours=2),
    ]
    items = [i for c in plan.all_checklists() for i in c.items]
    assert (
        sum(1 for i in items if i.owner_role) == 52 and sum(1 for i in items if i.verification) == 3
    )


def test_the_demo_runbook_survives_render_and_parse():
    plan = parse_runbook(DEMO.read_bytes())
    assert parse_runbook(render_plan(plan)) == plan
