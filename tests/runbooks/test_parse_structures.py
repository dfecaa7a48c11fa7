# ruff: noqa: E501, RUF001 - runbook snippets are kept on one line, mojibake on purpose
"""One small runbook per structure the importer understands."""

from datetime import timedelta

import pytest

from deployments.runbooks.parse import MAX_BYTES, PLACEHOLDER_FIELDS, RunbookError, parse_runbook

H = timedelta(hours=1)
M = timedelta(minutes=1)


def parse(md: str):
    return parse_runbook(md)


def test_clock_window_blocks_become_phases_offset_from_the_t0_anchor_across_midnight():
    plan = parse(
        "# R\n## Timeline\n### T0: Execution (22:00 - 02:00 UTC)\n"
        "**23:30 - 00:15 | Late Step**\n- [ ] a\n\n**01:00 - 01:30 | After Midnight**\n- [ ] b\n"
    )
    names = {p.name: p for p in plan.phases}
    assert names["Execution"].start == timedelta() and names["Execution"].duration == 4 * H
    assert names["Late Step"].start == 90 * M and names["Late Step"].duration == 45 * M
    assert names["After Midnight"].start == 3 * H
    assert plan.timezone == "UTC"


def test_a_t_minus_heading_in_a_timeline_is_a_phase_and_a_t_minus_days_section_is_a_checklist():
    plan = parse(
        "# R\n## Deployment Timeline\n### T-1:30: Verification Phase\n**Duration**: 30 minutes\n- [ ] v\n"
        "## Pre-Deployment Checklist\n### T-7 Days\n- [ ] early\n"
    )
    assert [(p.name, p.start, p.duration) for p in plan.phases] == [
        ("Verification Phase", -90 * M, 30 * M)
    ]
    (cl,) = plan.checklists
    assert (cl.due, cl.kind, len(cl.items)) == (-7 * timedelta(days=1), "pre_deployment", 1)


def test_a_post_launch_checklist_has_a_positive_due_and_post_deployment_kind():
    (cl,) = parse("# R\n## Post-Launch Checklist (T+24 Hours)\n- [ ] review\n").checklists
    assert (cl.due, cl.kind) == (24 * H, "post_deployment")


def test_durations_in_parentheses_and_relative_ranges_give_phase_spans():
    plan = parse(
        "# R\n## Deployment Steps\n### Phase 1: Prep (15 minutes)\n- [ ] x\n"
        "### Phase 2: Blue (T+5 to T+25 min)\n- [ ] y\n"
    )
    assert [(p.name, p.start, p.duration) for p in plan.phases] == [
        ("Phase 1: Prep", None, 15 * M),
        ("Phase 2: Blue", 5 * M, 20 * M),
    ]


def test_a_timeline_table_anchors_t0_on_its_deployment_start_row():
    plan = parse(
        "# R\n## Schedule\n| Time (UTC) | Phase | Duration | Description |\n|---|---|---|---|\n"
        "| 20:00 | Pre | 2 hours | prep |\n| 22:00 | Deployment Start | 4 hours | go |\n| 02:00 | Validation | 1 hour | check |\n"
    )
    assert [(p.name, p.start, p.duration, p.description) for p in plan.phases] == [
        ("Pre", -2 * H, 2 * H, "prep"),
        ("Deployment Start", timedelta(), 4 * H, "go"),
        ("Validation", 4 * H, H, "check"),
    ]


def test_code_block_timelines_become_phases_inside_their_phase():
    plan = parse(
        "# R\n## Phases\n### Phase 2: Blue (T+5 to T+25 min)\n**Timeline:**\n```\n"
        "T+5 min:  Start blue\nT+20 min: Smoke tests\n```\n"
    )
    assert [(p.name, p.start, p.duration) for p in plan.phases[1:]] == [
        ("Start blue", 5 * M, 15 * M),
        ("Smoke tests", 20 * M, 5 * M),
    ]


def test_a_day_by_day_plan_places_each_day_relative_to_the_go_live_day():
    plan = parse(
        "# R\nGo-Live: December 19, 2025\n\n**Go-Live Time:** 10:00 MSK\n\n## Daily Schedule\n"
        "### Thursday, December 18 - Prep\n| Time | Activity | Owner | Status |\n|---|---|---|---|\n"
        "| 09:00-10:00 | Standup | Project Lead | - |\n"
    )
    day, row = plan.phases
    assert day.start == -timedelta(days=1) - 10 * H
    assert (row.name, row.start, row.duration, row.participants) == (
        "Standup",
        -25 * H,
        H,
        ["Project Lead"],
    )
    assert plan.timezone == "MSK"


def test_items_group_headers_owners_and_verification_are_read():
    plan = parse(
        "# R\n## Pre-Deployment Checklist\n**[  ] 1. Blue Env**\n- [ ] servers up\n"
        "- [ ] Verification: `check.sh --infra`\n\n### Backups\n- [x] snapshot taken (Owner: DBA)\n"
        "```bash\npg_dump prod\n```\n"
    )
    group = plan.checklists[0].items[0]
    assert group.text == "1. Blue Env" and len(group.children) == 2
    assert group.verification == "check.sh --infra"
    item = plan.checklists[1].items[0]
    assert (item.text, item.done, item.owner_role, item.verification) == (
        "snapshot taken",
        True,
        "DBA",
        "pg_dump prod",
    )
    assert plan.item_count() == 4


def test_nested_checkbox_lists_are_children_and_counted_once():
    plan = parse("# R\n## Checklist\n- [ ] approvals:\n  - [ ] QA\n  - [ ] Security\n- [ ] done\n")
    assert plan.item_count() == 4
    assert [c.text for c in plan.checklists[0].items[0].children] == ["QA", "Security"]


def test_team_table_placeholders_leave_the_seat_unfilled_and_name_the_line():
    plan = parse(
        "# R\n## Team\n| Role | Name | Primary Duty | Backup |\n|---|---|---|---|\n"
        "| DevOps Lead | [TBD] | Deploys | ____ |\n| DBA | Ana | Migrations | Bo |\n"
    )
    assert [(r.name, r.primary, r.duty, r.backup, r.unfilled) for r in plan.roles] == [
        ("DevOps Lead", [], "Deploys", [], True),
        ("DBA", ["Ana"], "Migrations", ["Bo"], False),
    ]
    assert [p.name for p in plan.people] == ["Ana"]
    assert [(w.line, w.message) for w in plan.warnings] == [
        (5, "seat 'DevOps Lead' is unfilled: '[TBD]' is a placeholder, not a person")
    ]


def test_a_role_section_with_a_placeholder_name_is_an_unfilled_seat():
    plan = parse(
        "# R\n## Team Assignments\n#### Release Manager (Lead)\n**Name:** [TBD]\n**Role:** Coordination\n\n"
        "**Contact:**\n- Phone: [Number]\n- Slack: @rm\n- Email: rm@x.example\n"
    )
    (role,) = plan.roles
    assert (role.name, role.duty, role.primary, role.unfilled) == (
        "Release Manager",
        "Coordination",
        ["[Release Manager: TBD]"],
        True,
    )
    # no one is invented; the real Slack and email under the placeholder stay on the seat
    assert [(p.name, p.phone, p.slack, p.email) for p in plan.people] == [
        ("[Release Manager: TBD]", "", "@rm", "rm@x.example")
    ]
    assert any(w.line == 4 and "'Release Manager' is unfilled" in w.message for w in plan.warnings)


def test_a_role_section_with_a_name_gets_its_person_with_slack_phone_and_email():
    plan = parse(
        "# R\n## Team Assignments\n#### Release Manager (Lead)\n**Name:** Ana Silva\n"
        "**Role:** Coordination\n\n"
        "**Contact:**\n- Phone: +1 555 0100\n- Slack: @rm\n- Email: rm@x.example\n"
    )
    (role,) = plan.roles
    assert role.primary == ["Ana Silva"]
    (p,) = plan.people
    assert (p.name, p.phone, p.slack, p.email) == (
        "Ana Silva",
        "+1 555 0100",
        "@rm",
        "rm@x.example",
    )


def test_escalation_matrix_and_level_sections_merge_by_level():
    plan = parse(
        "# R\n## Escalation Matrix\n#### Level 2: DevOps Lead / DBA (15-30 minutes)\n"
        "#### Level 4: Executives (60+ minutes)\n| Level | Role | Name | Phone | Slack | Email |\n"
        "|---|---|---|---|---|---|\n| 2 | DevOps Lead | Ana | 1 | @ana | a@x |\n"
    )
    two, four = plan.escalation
    assert (two.level, two.name, two.after, two.until) == (2, "DevOps Lead / DBA", 15 * M, 30 * M)
    assert two.roles == ["DevOps Lead", "DBA"] and two.contacts == ["Ana"]
    assert (four.after, four.until) == (60 * M, None)


def test_rollback_sentences_become_criteria_and_worded_ones_keep_their_text():
    plan = parse(
        "# R\n## Rollback Criteria\n**Immediate Rollback Triggers:**\n- Error rate > 1% for 5+ minutes\n"
        "- API p95 > 500ms for 10+ minutes\n- Data corruption detected\n\n## Monitoring\n"
        "- If P95 latency > 2000ms → ROLLBACK\n"
    )
    got = [
        (c.metric, c.comparison, c.threshold, c.unit, c.duration, c.severity, c.text)
        for c in plan.rollback_criteria
    ]
    assert got == [
        ("Error rate", ">", 1.0, "%", 5 * M, "immediate", "Error rate > 1% for 5+ minutes"),
        ("API p95", ">", 500.0, "ms", 10 * M, "immediate", "API p95 > 500ms for 10+ minutes"),
        ("", "", 0.0, "", None, "immediate", "Data corruption detected"),
        ("P95 latency", ">", 2000.0, "ms", None, "immediate", "If P95 latency > 2000ms → ROLLBACK"),
    ]
    assert not plan.notes and not plan.warnings


def test_alert_threshold_tables_give_review_and_immediate_criteria():
    plan = parse(
        "# R\n## Alert Thresholds\n| Metric | Warning | Critical |\n|---|---|---|\n| Error Rate | > 1% | > 5% |\n"
    )
    assert [(c.threshold, c.severity) for c in plan.rollback_criteria] == [
        (1.0, "review"),
        (5.0, "immediate"),
    ]


def test_status_schedules_intervals_and_templates_become_comms_with_placeholder_warnings():
    plan = parse(
        "# R\n**Deployment Window:** Saturday 22:00 UTC - Sunday 06:00 UTC\n\n## Communication Plan\n"
        "### Status Update Schedule\n| Time | Type | Channel | Audience |\n|---|---|---|---|\n"
        "| 00:00 | Regions deployed | Slack, Email | Stakeholders |\n\n"
        "### T-7 Days: Advance Notice\n**Audience:** All\n**Channel:** Email\n"
        "**Subject:** Deploy v[X.Y.Z] on [Date]\n\n**Template:**\n```\nHi, see [Link]. [Feature 1]\n```\n\n"
        "### Updates (Every 15 minutes)\n"
    )
    sched, notice, every = plan.comms_rules
    assert (sched.at, sched.channels, sched.audience) == (2 * H, ["slack", "email"], "Stakeholders")
    assert (notice.at, notice.channels, notice.template) == (
        -7 * timedelta(days=1),
        ["email"],
        plan.templates[0].key,
    )
    assert every.interval == 15 * M
    tpl = plan.templates[0]
    assert tpl.subject == "Deploy v[X.Y.Z] on [Date]"
    assert tpl.placeholders == ["[X.Y.Z]", "[Date]", "[Link]", "[Feature 1]"]
    assert any("[Feature 1]" in w.message for w in plan.warnings)
    assert PLACEHOLDER_FIELDS["x.y.z"] == "version"
    assert (plan.window_start, plan.window_end) == (timedelta(), 8 * H)


def test_sign_off_tables_and_decision_makers_make_gates():
    plan = parse(
        "# R\n## Go/No-Go Decision (T-30 min)\n**Decision Maker:** Release Manager + VP Engineering\n\n"
        "**Go/No-Go Checklist:**\n- [ ] green\n\n## Go-Live Approval\n| Role | Criteria | Sign-Off |\n"
        "|---|---|---|\n| QA Lead | Tests pass | [ ] |\n"
    )
    gng, final = plan.gates
    assert (gng.kind, gng.at, gng.decision_roles, len(gng.checklist)) == (
        "go_no_go",
        -30 * M,
        ["Release Manager", "VP Engineering"],
        1,
    )
    assert final.kind == "final_approval" and [(s.role, s.criteria) for s in final.signoffs] == [
        ("QA Lead", "Tests pass")
    ]


def test_success_criteria_severity_levels_and_risks_are_kept_as_notes_with_warnings():
    plan = parse(
        "# R\n## Checklist\n- [ ] x\n## Severity Levels\n| Severity | Response Time |\n|---|---|\n| P1 | 15 min |\n"
        "## Risks\n| Risk | Impact |\n|---|---|\n| Failure | High |\n"
    )
    assert [n.title for n in plan.notes] == ["Severity Levels", "Risks"]
    assert "| P1 | 15 min |" in plan.notes[0].body
    assert [w.line for w in plan.warnings] == [5, 9]


def test_double_encoded_utf8_is_repaired():
    plan = parse("# ðŸ“… Week Plan\n## Checklist\n- [ ] âœ“ done â†’ next\n")
    assert plan.title == "📅 Week Plan"
    assert plan.checklists[0].items[0].text == "✓ done → next"


def test_crlf_tabs_and_html_comments_are_handled():
    plan = parse("# R\r\n<!-- hidden -->\r\n## Checklist\r\n-\t[ ] tabbed <!-- note --> item\r\n")
    assert plan.checklists[0].items[0].text in ("tabbed item", "tabbed <!-- note --> item")
    assert plan.checklists[0].items[0].line == 4


def test_hostile_content_is_kept_as_plain_text():
    plan = parse("# R\n## Checklist\n- [ ] <script>alert(1)</script> [x](javascript:alert(1))\n")
    assert plan.checklists[0].items[0].text == "<script>alert(1)</script> [x](javascript:alert(1))"


def test_a_table_with_missing_cells_warns_with_its_line():
    plan = parse("# R\n## Team\n| Role | Name | Backup |\n|---|---|---|\n| DBA | Ana |\n")
    assert plan.roles[0].primary == ["Ana"]
    assert [(w.line, "missing cells" in w.message) for w in plan.warnings] == [(5, True)]


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", None, "empty"),
        (b"   \n\n", None, "empty"),
        (b"# R\n\x00\x01", 2, "binary"),
        (b"# R\nok\n\xff\xfe bad\n", 3, "invalid UTF-8"),
        (b"# Just a title\n\nSome prose.\n", None, "nothing to import"),
        (b"x" * (MAX_BYTES + 1), None, "5 MB"),
    ],
)
def test_bad_input_raises_a_one_line_error_naming_the_line(data, line, words):
    with pytest.raises(RunbookError) as exc:
        parse_runbook(data)
    assert exc.value.line == line
    assert words in str(exc.value)
    assert "\n" not in str(exc.value)
    if line:
        assert str(exc.value).startswith(f"line {line}: ")


def test_builder_parts_are_composed_not_inherited():
    """Each part of the builder is its own class holding the index and the parts it calls;
    none inherits another, and the builder holds one of each over one index."""
    from deployments.runbooks.builder import _Builder

    builder = _Builder("# Runbook\n\n- [ ] one\n", "x.md")
    parts = {
        name: part
        for name, part in vars(builder).items()
        if name != "index" and type(part).__module__.startswith("deployments.runbooks.")
    }
    assert sorted(parts) == [
        "canonical",
        "checklists",
        "comms",
        "escalation",
        "gates",
        "owners",
        "phases",
        "reader",
        "roles",
        "rollback",
        "times",
    ]
    for part in parts.values():
        assert type(part).__mro__ == (type(part), object)
        assert part.index is builder.index
    assert builder.escalation.roles is builder.roles
    assert builder.checklists.read_bullet == builder.reader.plain_bullet
