# ruff: noqa: E501 - runbook snippets are kept on one line
"""Clock-time schedule tables: a row per task is an item due at its time, a row per
activity or phase is a phase."""

from datetime import timedelta

import pytest

from deployments.runbooks.export import render_plan
from deployments.runbooks.parse import parse_runbook

H = timedelta(hours=1)
M = timedelta(minutes=1)

GO_LIVE = "# Billing cutover runbook\n\n**Go-live:** 2026-12-12 22:00 UTC\n\n## Cutover night schedule\n\n"


def _due_items(plan) -> list[tuple[timedelta | None, str, str]]:
    return [
        (cl.due, item.text, item.owner_role)
        for phase in plan.phases
        for cl in phase.checklists
        for item in cl.items
    ]


def test_a_clock_schedule_of_tasks_gives_items_due_at_their_time_owned_by_their_owner():
    plan = parse_runbook(
        GO_LIVE + "| Time | Task | Owner | Status |\n|------|------|-------|--------|\n"
        "| 21:30 | Freeze deployments | Release Manager | |\n"
        "| 22:00 | Stop billing workers | DevOps | |\n"
        "| 22:15 | Run database migration | DBA | done |\n"
        "| 23:00 | Smoke test checkout | QA | |\n"
    )
    assert [(p.name, p.start) for p in plan.phases] == [("Cutover night schedule", timedelta())]
    assert _due_items(plan) == [
        (-30 * M, "Freeze deployments", "Release Manager"),
        (timedelta(), "Stop billing workers", "DevOps"),
        (15 * M, "Run database migration", "DBA"),
        (H, "Smoke test checkout", "QA"),
    ]
    (phase,) = plan.phases
    assert [cl.name for cl in phase.checklists] == [
        "Cutover night schedule (T-0:30)",
        "Cutover night schedule (T+0:00)",
        "Cutover night schedule (T+0:15)",
        "Cutover night schedule (T+1:00)",
    ]
    assert [i.done for cl in phase.checklists for i in cl.items] == [False, False, True, False]
    assert phase.participants == []
    assert parse_runbook(render_plan(plan)) == plan  # the due times survive an export


def test_a_when_column_takes_clock_times_with_a_zone_and_t_offsets_and_crosses_midnight():
    plan = parse_runbook(
        GO_LIVE + "| When | Action | Responsible |\n|---|---|---|\n"
        "| T-30m | Freeze deployments | Release Manager |\n"
        "| 23:30 UTC | Switch DNS | Network |\n"
        "| 00:30 UTC | Purge caches | DevOps |\n"
    )
    assert _due_items(plan) == [
        (-30 * M, "Freeze deployments", "Release Manager"),
        (90 * M, "Switch DNS", "Network"),
        (150 * M, "Purge caches", "DevOps"),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "| Zeit | Aufgabe | Verantwortlich |",
        "| Hora | Tarea | Responsable |",
        "| Hora | Tarefa | Responsável |",
        "| Thời gian | Nhiệm vụ | Người phụ trách |",
        "| 时间 | 任务 | 负责人 |",
        "| 時刻 | タスク | 担当 |",
        "| Время | Задача | Ответственный |",
    ],
)
def test_a_clock_schedule_of_tasks_is_read_in_every_language(header):
    plan = parse_runbook(
        GO_LIVE + header + "\n|---|---|---|\n"
        "| 21:30 | Freeze deployments | Release Manager |\n"
        "| 22:15 | Run database migration | DBA |\n"
    )
    assert [p.name for p in plan.phases] == ["Cutover night schedule"]
    assert _due_items(plan) == [
        (-30 * M, "Freeze deployments", "Release Manager"),
        (15 * M, "Run database migration", "DBA"),
    ]


def test_a_timeline_of_phases_with_durations_stays_phases():
    plan = parse_runbook(
        "# R\n\n## Schedule\n\n| Time (UTC) | Phase | Duration | Owner |\n|---|---|---|---|\n"
        "| 21:00 | Pre-checks | 30 min | SRE |\n| 22:00 | Deployment | 1 hour | DevOps, DBA |\n"
    )
    phases = {p.name: p for p in plan.phases}
    assert (phases["Pre-checks"].duration, phases["Deployment"].duration) == (30 * M, H)
    assert phases["Deployment"].start - phases["Pre-checks"].start == H
    assert phases["Deployment"].participants == ["DevOps", "DBA"]
    assert sum(len(cl.items) for cl in plan.all_checklists()) == 0


def test_a_days_schedule_of_activities_stays_phases():
    plan = parse_runbook(
        "# Week plan\n\n## Monday\n\n"
        "| Time | Activity | Owner | Status |\n|---|---|---|---|\n"
        "| 09:00-09:30 | Morning standup | Project Lead | ⬜ |\n"
        "| 09:30-11:00 | Security audit | Security | ⬜ |\n"
    )
    rows = [p for p in plan.phases if p.name in ("Morning standup", "Security audit")]
    assert [(p.name, p.duration, p.participants) for p in rows] == [
        ("Morning standup", 30 * M, ["Project Lead"]),
        ("Security audit", 90 * M, ["Security"]),
    ]
    assert sum(len(cl.items) for cl in plan.all_checklists()) == 0
