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


@pytest.mark.parametrize(
    ("heading", "start", "length"),
    [
        ("Week -2", -2 * W, W),
        ("T-7 days", -7 * D, D),
        ("T-7d", -7 * D, D),
        ("Day 0 / Go-live night", timedelta(), D),
        ("Vorwoche", -W, W),
        ("T-2 Wochen", -2 * W, W),
        ("Día -1", -D, D),
        ("1 semana antes", -W, W),
        ("Véspera", -D, D),
        ("T-7 ngày", -7 * D, D),
        ("提前1天", -D, D),
        ("1週間前", -W, W),
        ("前日", -D, D),
        ("за 1 день", -D, D),
        ("Накануне", -D, D),
    ],
)
def test_week_and_day_sections_are_phases_on_the_t_minus_clock(heading, start, length):
    plan = parse_runbook(f"# R\n## {heading}\n- [ ] Task\n")
    (phase,) = plan.phases
    assert (phase.name, phase.start, phase.duration, phase.line) == (heading, start, length, 2)
    assert [(c.due, [i.text for i in c.items]) for c in phase.checklists] == [(start, ["Task"])]
    assert plan.checklists == []


@pytest.mark.parametrize(
    "heading",
    [
        "T-24 hours",
        "T-2 Hours: Pre-Deployment",
        "Pre-Launch Checklist (T-7 Days)",
        "24 horas antes",
    ],
)
def test_hour_offsets_and_checklist_headings_stay_checklists_due_then(heading):
    plan = parse_runbook(f"# R\n## {heading}\n- [ ] Task\n")
    assert plan.phases == [] and [len(c.items) for c in plan.checklists] == [1]


def test_a_day_heading_inside_a_checklist_section_is_a_checklist_due_that_day():
    plan = parse_runbook("# R\n## Pre-Deployment Checklist\n### T-7 Days\n- [ ] Task\n")
    assert plan.phases == []
    assert [(c.name, c.due) for c in plan.checklists] == [("T-7 Days", -7 * D)]


def test_same_named_sections_under_different_days_stay_apart():
    plan = parse_runbook(
        "# R\n## Week -2\n### Checks\n- [ ] Restore backup\n### Go/No-Go\n- [ ] Staging ok\n"
        "## Day 0 / Go-live night\n### Checks\n- [ ] Stop writers\n"
        "### Go/No-Go\n- [ ] Counts match\n"
    )
    week, night = plan.phases
    assert [(c.name, c.due, [i.text for i in c.items]) for c in week.checklists] == [
        ("Checks", -2 * W, ["Restore backup"])
    ]
    assert [(c.name, c.due, [i.text for i in c.items]) for c in night.checklists] == [
        ("Checks", timedelta(), ["Stop writers"])
    ]
    assert [(g.name, g.at, [i.text for i in g.checklist]) for g in plan.gates] == [
        ("Go/No-Go", -2 * W, ["Staging ok"]),
        ("Go/No-Go", timedelta(), ["Counts match"]),
    ]


@pytest.mark.parametrize(
    ("row", "cell"),
    [
        ("| DBA | [Name] |", "[Name]"),
        ("| DBA | <name> |", "<name>"),
        ("| DBA | TBD |", "TBD"),
        ("| DBA | TBC |", "TBC"),
        ("| DBA | XXX |", "XXX"),
        ("| DBA | John Doe |", "John Doe"),
        ("| DBA | (to be assigned) |", "(to be assigned)"),
        ("| DBA | noch offen |", "noch offen"),
        ("| DBA | por asignar |", "por asignar"),
        ("| DBA | a definir |", "a definir"),
        ("| DBA | chưa phân công |", "chưa phân công"),
        ("| DBA | 待定 |", "待定"),
        ("| DBA | 未定 |", "未定"),
        ("| DBA | уточнить |", "уточнить"),
    ],
)
def test_a_placeholder_in_a_contact_table_is_an_unfilled_seat_never_a_person(row, cell):
    plan = parse_runbook(f"# R\n## Team\n| Role | Name |\n|---|---|\n{row}\n| SRE | Ana |\n")
    assert [(r.name, r.primary, r.unfilled) for r in plan.roles] == [
        ("DBA", [], True),
        ("SRE", ["Ana"], False),
    ]
    assert [p.name for p in plan.people] == ["Ana"]
    assert [(w.line, w.message) for w in plan.warnings] == [
        (5, f"seat 'DBA' is unfilled: '{cell}' is a placeholder, not a person")
    ]


def test_template_contact_values_are_dropped_and_a_placeholder_slack_handle_fills_no_seat():
    plan = parse_runbook(
        "# R\n## Contacts\n| Role | Name | Phone | Slack |\n|---|---|---|---|\n"
        "| DBA | Ana | +1-XXX-XXX-XXXX | @handle |\n| SRE | | | @handle |\n"
    )
    assert [(p.name, p.phone, p.slack) for p in plan.people] == [("Ana", "", "")]
    assert [(r.name, r.primary) for r in plan.roles] == [("DBA", ["Ana"]), ("SRE", [])]
    assert [w.line for w in plan.warnings] == [6]


@pytest.mark.parametrize(
    ("line", "criterion"),
    [
        ("- Error rate > 1% for 5 minutes → rollback", ("Error rate", ">", 1.0, "%", 300, False)),
        (
            "- [ ] p95 latency > 2 s for 10 min -> roll back automatically",
            ("p95 latency", ">", 2.0, "s", 600, True),
        ),
        (
            "1. Fehlerrate > 5 % für 10 Minuten → Rollback",
            ("Fehlerrate", ">", 5.0, "%", 600, False),
        ),
        (
            "- Tasa de errores > 5% durante 10 minutos → rollback automático",
            ("Tasa de errores", ">", 5.0, "%", 600, True),
        ),
        (
            "- [ ] Taxa de erros > 5% por 10 minutos → reverter",
            ("Taxa de erros", ">", 5.0, "%", 600, False),
        ),
        ("- Tỷ lệ lỗi > 2% trong 10 phút → hoàn tác", ("Tỷ lệ lỗi", ">", 2.0, "%", 600, False)),
        ("- 错误率 > 1% 持续5分钟 → 自动回滚", ("错误率", ">", 1.0, "%", 300, True)),
        ("- エラー率 > 2% 5分間継続 → ロールバック", ("エラー率", ">", 2.0, "%", 300, False)),
        (
            "- [ ] Доля ошибок > 3% в течение 5 минут → откат",
            ("Доля ошибок", ">", 3.0, "%", 300, False),
        ),
    ],
)
def test_an_alert_threshold_that_says_roll_back_is_a_criterion_not_a_task(line, criterion):
    plan = parse_runbook(f"# R\n## Monitoring\n{line}\n\n## Checklist\n- [ ] Deploy\n")
    assert [
        (
            c.metric,
            c.comparison,
            c.threshold,
            c.unit,
            c.duration.total_seconds(),
            c.automatic,
            c.line,
        )
        for c in plan.rollback_criteria
    ] == [(*criterion, 3)]
    assert plan.item_count() == 1


def test_an_alert_that_does_not_say_roll_back_is_kept_as_a_note_with_its_line():
    plan = parse_runbook("# R\n## Alert thresholds\n- Disk usage > 80% → notify the DBA\n")
    assert plan.rollback_criteria == []
    assert [n.body for n in plan.notes] == ["- Disk usage > 80% → notify the DBA"]
    assert any(w.line == 3 and "does not say to roll back" in w.message for w in plan.warnings)


@pytest.mark.parametrize(
    ("header", "rows", "expected"),
    [
        (
            "| Metric | Threshold | Action |",
            ["| Error rate | > 2% for 5 minutes | Roll back |", "| CPU | > 90% | Page on-call |"],
            [("Error rate", 2.0, 300, False, 5)],
        ),
        (
            "| Metrik | Schwellwert | Maßnahme |",
            ["| Fehlerrate | > 3 % für 10 Minuten | Automatischer Rollback |"],
            [("Fehlerrate", 3.0, 600, True, 5)],
        ),
        (
            "| Métrica | Umbral | Acción |",
            ["| Latencia p95 | > 3 s durante 5 minutos | Rollback |"],
            [("Latencia p95", 3.0, 300, False, 5)],
        ),
        (
            "| Métrica | Limite | Ação |",
            ["| Taxa de erros | > 5% por 10 minutos | Reverter |"],
            [("Taxa de erros", 5.0, 600, False, 5)],
        ),
        (
            "| Chỉ số | Ngưỡng | Hành động |",
            ["| Tỷ lệ lỗi | > 2% trong 10 phút | Rollback |"],
            [("Tỷ lệ lỗi", 2.0, 600, False, 5)],
        ),
        (
            "| 指标 | 阈值 | 处理 |",
            ["| 错误率 | > 1% 持续5分钟 | 自动回滚 |", "| CPU | > 90% | 通知运维 |"],
            [("错误率", 1.0, 300, True, 5)],
        ),
        (
            "| メトリクス | 閾値 | 対応 |",
            ["| エラー率 | > 2% 5分間継続 | ロールバック |"],
            [("エラー率", 2.0, 300, False, 5)],
        ),
        (
            "| Метрика | Порог | Действие |",
            ["| Доля ошибок | > 3% в течение 5 минут | Откат |"],
            [("Доля ошибок", 3.0, 300, False, 5)],
        ),
    ],
)
def test_metric_threshold_action_tables_give_criteria_for_rollback_rows(header, rows, expected):
    sep = "|" + "---|" * 3
    plan = parse_runbook("# R\n## Thresholds\n" + "\n".join([header, sep, *rows]) + "\n")
    assert [
        (c.metric, c.threshold, c.duration.total_seconds(), c.automatic, c.line)
        for c in plan.rollback_criteria
    ] == expected
    alerts = len(rows) - len(expected)
    assert sum("does not say to roll back" in w.message for w in plan.warnings) == alerts
    assert plan.item_count() == 0


@pytest.mark.parametrize(
    "heading",
    ["Cutover Steps", "Ablauf", "Pasos", "当日の手順", "Порядок действий", "上线步骤"],
)
def test_numbered_steps_under_a_procedure_heading_are_items_beside_boxes(heading):
    plan = parse_runbook(f"# R\n## Prep\n- [ ] Backup\n## {heading}\n1. Stop app\n2. Migrate\n")
    assert [i.text for i in items_of(plan)] == ["Backup", "Stop app", "Migrate"]


def test_numbered_steps_under_a_bold_steps_label_beside_boxes_stay_a_note():
    plan = parse_runbook("# R\n## Prep\n- [ ] Backup\n## Procedure 1\n**Steps:**\n\n1. Stop app\n")
    assert [i.text for i in items_of(plan)] == ["Backup"]
    assert [n.title for n in plan.notes] == ["Procedure 1"]


@pytest.mark.parametrize(
    ("status", "done"),
    [
        ("已完成", True),
        ("完成済み", True),
        ("выполнено", True),
        ("terminado", True),
        ("hoàn thành", True),
        ("fertig", True),
        ("offen", False),
        ("进行中", False),
    ],
)
def test_task_table_status_words_mean_done(status, done):
    plan = parse_runbook(f"# R\n## Tasks\n| Task | Status |\n|---|---|\n| Backup | {status} |\n")
    assert [(i.text, i.done) for i in items_of(plan)] == [("Backup", done)]


def test_a_japanese_criterion_lasting_ten_minutes():
    plan = parse_runbook("# R\n## ロールバック条件\n- エラー率 > 3% が 10分 続く\n")
    c = plan.rollback_criteria[0]
    assert (c.metric, c.comparison, c.threshold, c.unit, c.duration) == (
        "エラー率",
        ">",
        3.0,
        "%",
        timedelta(minutes=10),
    )
