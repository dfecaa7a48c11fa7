"""Runbooks as people write them: each form, in a small document, gives the plan a reader
expects (issue 14's "What the importer must understand")."""

from datetime import timedelta

import pytest

from deployments.runbooks.parse import RunbookError, parse_runbook

D, H, M, W = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1), timedelta(weeks=1)


def items_of(plan):
    def walk(items):
        for i in items:
            yield i
            yield from walk(i.children)

    out = [i for c in plan.all_checklists() for i in walk(c.items)]
    return out + [i for g in plan.gates for i in walk(g.checklist)]


@pytest.mark.parametrize(
    ("body", "texts"),
    [
        ("## Checklist\n- [ ] A\n* [x] B\n", ["A", "B"]),
        ("## Checklist\n1. [ ] A\n2. [ ] B\n", ["A", "B"]),
        ("## Checklist\n\n[ ] A\n[ ] B\n", ["A", "B"]),
        ("## Checklist\n- ☐ A\n- ⬜ B\n- ✅ C\n- ✔ D\n", ["A", "B", "C", "D"]),
        (
            "## Deployment steps\n1. Drain node\n1. Patch node\n1. Uncordon node\n",
            ["Drain node", "Patch node", "Uncordon node"],
        ),
        ("## Procedure\n1) Stop writes\n2) Snapshot\n", ["Stop writes", "Snapshot"]),
        ("## Tasks\n- Freeze merges\n- Tag release\n", ["Freeze merges", "Tag release"]),
        ("## Aufgaben\n- Backup prüfen\n", ["Backup prüfen"]),
        ("## 任务\n1. 冻结代码\n2. 打标签\n", ["冻结代码", "打标签"]),
        (
            "## Tasks\n| Task | Owner | When | Status |\n|---|---|---|---|\n"
            "| Freeze merges | QA | T-2d | Done |\n| Tag release | Release Manager | T-1d | |\n",
            ["Freeze merges", "Tag release"],
        ),
        (
            "## Checks\n| ✓ | Item |\n|---|---|\n| [ ] | Disk space |\n| [x] | Certificates |\n",
            ["Disk space", "Certificates"],
        ),
        (
            "## Pre-flight\n```\n+--------------+\n| [ ] DNS TTL  |\n"
            "| [ ] Warm cache |\n+--------------+\n```\n",
            ["DNS TTL", "Warm cache"],
        ),
        (
            "## Checklist\n- [ ] Check <mark>payments</mark> flow <!-- legacy -->\n",
            ["Check payments flow"],
        ),
    ],
)
def test_task_forms(body, texts):
    plan = parse_runbook(f"# Release\n\n{body}")
    assert [i.text for i in items_of(plan)] == texts


def test_a_tick_in_a_table_status_column_means_done_and_a_bare_emoji_does_not():
    plan = parse_runbook(
        "# R\n## Tasks\n| Task | Owner | Status |\n|---|---|---|\n| A | QA | Done |\n| B | QA | |\n"
        "## Checklist\n- ✅ C\n"
    )
    assert [(i.text, i.done) for i in items_of(plan)] == [("A", True), ("B", False), ("C", False)]


def test_the_drawing_of_a_fenced_checklist_is_kept_as_a_note():
    plan = parse_runbook("# R\n## Pre-flight\n```\n[ ] DNS TTL\n[ ] Warm cache\n```\n")
    assert len(items_of(plan)) == 2 and "[ ] DNS TTL" in plan.notes[0].body


@pytest.mark.parametrize(
    ("body", "owners"),
    [
        ("## Checklist\n- [ ] Back up (Owner: DBA)\n", ["DBA"]),
        ("## Checklist\n- [ ] Back up — Alice\n", ["Alice"]),
        ("## Checklist\n- [ ] Back up @alice\n", ["@alice"]),
        ("## Checklist\n- [ ] Back up\n  Owner: SRE\n", ["SRE"]),
        ("## Checklist\n- [ ] Back up\n  - Owner: SRE\n", ["SRE"]),
        ("## Checklist\n**Owner:** Platform\n\n- [ ] A\n- [ ] B\n", ["Platform", "Platform"]),
        (
            "## Checklist\n### QA\n- [ ] Regression suite\n### Support\n- [ ] Brief agents\n",
            ["QA", "Support"],
        ),
        ("## Checklist\n- [ ] Back up (Owner: TBD)\n- [ ] Restore — [Name]\n", ["", ""]),
        (
            "## Aufgaben\n| Aufgabe | Verantwortlich |\n|---|---|\n| Backup | Betrieb |\n",
            ["Betrieb"],
        ),
        ("## Tareas\n| Tarea | Responsable |\n|---|---|\n| Copia | Ops |\n", ["Ops"]),
        ("## Tarefas\n| Tarefa | Responsável |\n|---|---|\n| Cópia | Ops |\n", ["Ops"]),
        ("## Công việc\n| Công việc | Người phụ trách |\n|---|---|\n| Sao lưu | Lan |\n", ["Lan"]),
        ("## 任务\n| 任务 | 负责人 |\n|---|---|\n| 备份 | 王伟 |\n", ["王伟"]),
        ("## タスク\n| タスク | 担当 |\n|---|---|\n| バックアップ | 佐藤 |\n", ["佐藤"]),
    ],
)
def test_owner_forms(body, owners):
    plan = parse_runbook(f"# Release\n\n{body}")
    assert [i.owner_role for i in items_of(plan)] == owners


def test_a_placeholder_owner_warns_and_leaves_the_item_unowned():
    plan = parse_runbook("# R\n## Checklist\n- [ ] Back up (Owner: TBD)\n")
    assert [(w.line, "placeholder" in w.message) for w in plan.warnings] == [(3, True)]


def test_an_owner_matching_no_declared_role_warns_with_the_closest_role():
    plan = parse_runbook(
        "# R\n## Team\n| Role | Name |\n|---|---|\n| SRE On-Call | Ana |\n"
        "## Checklist\n- [ ] Page test (Owner: SRE Oncall)\n"
    )
    assert [(w.line, w.message) for w in plan.warnings] == [
        (7, "owner 'SRE Oncall' matches no declared role; closest declared role: 'SRE On-Call'")
    ]


@pytest.mark.parametrize(
    ("heading", "due"),
    [
        ("T-7d", -7 * D),
        ("T-7 days", -7 * D),
        ("T-7 ngày", -7 * D),
        ("T-1 Tag", -D),
        ("T-2 Wochen", -2 * W),
        ("1 semana antes", -W),
        ("30+ días antes", -30 * D),
        ("24 horas antes", -24 * H),
        ("1週間前", -W),
        ("提前1天", -D),
        ("за 1 день", -D),
        ("4 weeks before", -4 * W),
        ("Day -1", -D),
        ("D-1", -D),
        ("D+1", D),
        ("Day 0", timedelta()),
        ("[release date minus 14 days]", -14 * D),
    ],
)
def test_time_offsets_in_eight_languages(heading, due):
    plan = parse_runbook(f"# R\n## {heading}\n- [ ] Task\n")
    assert [c.due for c in plan.all_checklists()] == [due]


def test_an_unknown_unit_warns_and_is_never_a_guess():
    plan = parse_runbook("# R\n## T-7 jours\n- [ ] Task\n")
    assert [c.due for c in plan.all_checklists()] == [None]
    assert any(w.line == 2 and "'jours'" in w.message for w in plan.warnings)


@pytest.mark.parametrize(
    ("line", "go_live"),
    [
        ("Launch time: 02:00 TST", "02:00+08:00"),
        ("**Go-live:** 2026-03-14 22:00 CET", "2026-03-14T22:00+01:00"),
    ],
)
def test_a_stated_go_live_time_is_read(line, go_live):
    plan = parse_runbook(f"# R\n\n{line}\n\n## Checklist\n- [ ] A\n")
    assert plan.go_live_at == go_live


@pytest.mark.parametrize(
    "heading",
    [
        "Go/No-Go",
        "Checkpoint",
        "Sign-off",
        "Approval",
        "Freigabe",
        "Aprobación",
        "Aprovação",
        "Phê duyệt",
        "审批",
        "承認",
    ],
)
def test_gate_sections_in_every_language_take_signers_as_signoffs(heading):
    plan = parse_runbook(
        f"# R\n## {heading}\n- [ ] Backend Lead: ____ Date: ____\n- [ ] QA Lead: ________\n"
        "- [ ] All P1 bugs closed\n\nGO / NO-GO\n\nDecision maker: ___\n"
    )
    (gate,) = plan.gates
    assert [s.role for s in gate.signoffs] == ["Backend Lead", "QA Lead"]
    assert [i.text for i in gate.checklist] == ["All P1 bugs closed"]
    assert gate.decision_roles == ["Decision maker"]
    assert next(r for r in plan.roles if r.name == "Decision maker").unfilled


def test_a_signature_table_gives_signoffs_by_role():
    plan = parse_runbook(
        "# R\n## Sign-off\n| Role | Name | Signature | Date |\n|---|---|---|---|\n"
        "| CTO | | | |\n| QA Lead | | | |\n"
    )
    assert [s.role for s in plan.gates[0].signoffs] == ["CTO", "QA Lead"]


@pytest.mark.parametrize(
    ("heading", "line", "expected"),
    [
        ("Rollback Triggers", "- [ ] Error rate > 5%", ("Error rate", ">", 5.0, "%", None)),
        ("Rollback criteria", "- p95 > 2 s for 5 min", ("p95", ">", 2.0, "s", 5 * M)),
        (
            "Rollback triggers",
            "- complete outage > 2 minutes",
            ("complete outage", ">", 120.0, "s", None),
        ),
        (
            "Rollback-Kriterien",
            "- [ ] Fehlerrate > 5 % für 10 Minuten",
            ("Fehlerrate", ">", 5.0, "%", 10 * M),
        ),
        (
            "Criterios de rollback",
            "- Tasa de errores > 3%",
            ("Tasa de errores", ">", 3.0, "%", None),
        ),
        (
            "Critérios de rollback",
            "- Latência p95 > 800 ms",
            ("Latência p95", ">", 800.0, "ms", None),
        ),
        ("Tiêu chí rollback", "- [ ] Tỷ lệ lỗi > 2%", ("Tỷ lệ lỗi", ">", 2.0, "%", None)),
        ("回滚条件", "- [ ] 错误率 > 5% 持续 5 分钟", ("错误率", ">", 5.0, "%", 5 * M)),
        ("ロールバック基準", "- エラー率 > 1%", ("エラー率", ">", 1.0, "%", None)),
        ("Критерии отката", "- [ ] Ошибки > 5%", ("Ошибки", ">", 5.0, "%", None)),
    ],
)
def test_rollback_triggers_are_criteria_never_items(heading, line, expected):
    plan = parse_runbook(f"# R\n## {heading}\n{line}\n")
    assert items_of(plan) == []
    c = plan.rollback_criteria[0]
    assert (c.metric, c.comparison, c.threshold, c.unit, c.duration) == expected


def test_an_automatic_rollback_is_marked():
    plan = parse_runbook("# R\n## Rollback triggers\n- Automatic rollback if error rate > 2%\n")
    assert plan.rollback_criteria[0].automatic


def test_a_rollback_procedure_is_a_rollback_plan_outside_forward_progress():
    plan = parse_runbook(
        "# R\n## Checklist\n- [ ] Deploy\n## Rollback procedure\n1. Revert image\n1. Flush cache\n"
        "- [ ] Tell support\n"
    )
    assert [i.text for i in items_of(plan)] == ["Deploy"]
    assert [i.text for i in plan.rollback_plan] == ["Tell support"]


def test_rollback_steps_without_checkboxes_anywhere_are_a_rollback_plan():
    plan = parse_runbook(
        "# R\n## Steps\n1. Deploy\n## Rollback plan\n1. Revert image\n1. Flush cache\n"
    )
    assert [i.text for i in items_of(plan)] == ["Deploy"]
    assert [i.text for i in plan.rollback_plan] == ["Revert image", "Flush cache"]


def test_an_escalation_chain_splits_into_levels():
    plan = parse_runbook(
        "# R\n## Escalation\nOn-call SRE → Team Lead (15 min) → CTO\n\n## Checklist\n- [ ] A\n"
    )
    assert [(lv.level, lv.roles, lv.after) for lv in plan.escalation] == [
        (1, ["On-call SRE"], None),
        (2, ["Team Lead"], 15 * M),
        (3, ["CTO"], None),
    ]


def test_same_named_sections_under_different_phases_stay_separate():
    plan = parse_runbook(
        "# R\n## Two weeks before\n### Tasks\n- [ ] Book room\n"
        "## Go-live night\n### Tasks\n- [ ] Flip DNS\n"
    )
    assert [[i.text for i in c.items] for c in plan.all_checklists()] == [
        ["Book room"],
        ["Flip DNS"],
    ]


def test_front_matter_names_the_release():
    plan = parse_runbook("---\ntitle: Orbit 2.0\n---\n# Cutover notes\n## Checklist\n- [ ] A\n")
    assert plan.title == "Orbit 2.0"
    assert items_of(plan)[0].line == 6


def test_headings_without_tasks_import_with_a_warning():
    plan = parse_runbook("# R\n## Context\nWe move the billing database.\n## Risks\nSome.\n")
    assert any("no tasks found" in w.message for w in plan.warnings)
    assert plan.notes


def test_prose_with_no_heading_is_still_refused_with_a_reason():
    with pytest.raises(RunbookError, match="nothing to import"):
        parse_runbook("just a line of text\n")


def test_utf16_with_a_bom_is_decoded_and_latin1_is_named():
    text = "# R\n## Checklist\n- [ ] Prüfen\n"
    assert items_of(parse_runbook(text.encode("utf-16")))[0].text == "Prüfen"
    with pytest.raises(RunbookError, match="looks like Latin-1"):
        parse_runbook(text.encode("latin-1"))


def test_a_runbook_over_the_item_limit_is_refused_naming_the_limit():
    text = "# R\n## Checklist\n" + "".join(f"- [ ] Task {n}\n" for n in range(11))
    with pytest.raises(RunbookError, match=r"limit is 10 items \(setting RUNBOOK_MAX_ITEMS\)"):
        parse_runbook(text, max_items=10)
    steps = "# R\n## Steps\n" + "".join(f"{n}. Step {n}\n" for n in range(1, 12))
    with pytest.raises(RunbookError, match="11 or more items; the limit is 10"):
        parse_runbook(steps, max_items=10)  # found by the parse, before anything is written
    assert parse_runbook(text, max_items=11).item_count() == 11


def test_a_runbook_over_the_byte_limit_is_refused_naming_the_limit():
    with pytest.raises(RunbookError, match=r"limit is 100 bytes .*RUNBOOK_MAX_BYTES"):
        parse_runbook(b"# R\n" + b"- [ ] x\n" * 20, max_bytes=100)


def test_labels_that_are_not_roles_do_not_become_roles():
    plan = parse_runbook(
        "# R\n## Team and contacts\n**Template**\n\n**Critical Rules**\n\n**DBA**\n\n"
        "- Name: Ana\n## Checklist\n- [ ] A\n"
    )
    assert [r.name for r in plan.roles] == ["DBA"]
