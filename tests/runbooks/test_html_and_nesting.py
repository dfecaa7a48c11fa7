"""Task tables written in HTML (wiki and Confluence exports) read like pipe tables, and a
document nested deeper than markdown reads is never cut short in silence."""

from datetime import timedelta

import pytest

from deployments.runbooks.html_tables import table_rows
from deployments.runbooks.parse import parse_runbook


@pytest.mark.parametrize(
    ("html", "rows"),
    [
        ("<p>no table here</p>", []),
        (
            "<table>\n<tr><th>Task</th><th>Owner</th></tr>\n<tr><td>Freeze</td><td>RM</td></tr>\n"
            "</table>",
            [(1, ["Task", "Owner"]), (2, ["Freeze", "RM"])],
        ),
        (  # cells spread over lines, entities, inline markup and line breaks
            "<table><thead>\n<tr>\n<th>Task</th>\n<th>Owner</th>\n</tr></thead><tbody>\n"
            "<tr><td><b>Drain</b> &amp; patch<br>node 1</td><td>SRE</td></tr></tbody></table>",
            [(1, ["Task", "Owner"]), (5, ["Drain & patch node 1", "SRE"])],
        ),
        (  # a table inside a cell joins the cell's text; its rows are not rows
            "<table><tr><th>Task</th></tr><tr><td>Check <table><tr><td>a</td></tr></table>"
            "</td></tr></table>",
            [(0, ["Task"]), (0, ["Check a"])],
        ),
        ("<table><tr><td></td><td> </td></tr></table>", []),  # rows with no text
    ],
)
def test_the_rows_of_an_html_table_with_their_lines(html, rows):
    assert table_rows(html) == rows


def test_an_html_task_table_imports_with_owners_and_due_times():
    plan = parse_runbook(
        "# Release 4.2\n\n## Tasks\n\n<table>\n"
        "<tr><th>Task</th><th>Owner</th><th>When</th></tr>\n"
        "<tr><td>Freeze main</td><td>Release Manager</td><td>T-2d</td></tr>\n"
        "<tr><td>Deploy API</td><td>SRE</td><td>T0</td></tr>\n"
        "</table>\n"
    )
    items = [(i.text, i.owner_role, i.line) for c in plan.all_checklists() for i in c.items]
    assert items == [("Freeze main", "Release Manager", 7), ("Deploy API", "SRE", 8)]
    dues = [c.due for c in plan.all_checklists()]
    assert dues == [-timedelta(days=2), timedelta(0)]
    assert not [w for w in plan.warnings if "cells" in w.message]


def test_an_html_block_without_a_table_stays_a_note():
    plan = parse_runbook("# R\n\n## Tasks\n\n- [ ] One\n\n<div>Call the bridge first</div>\n")
    assert [i.text for c in plan.all_checklists() for i in c.items] == ["One"]
    assert any(w.line == 7 and "note" in w.message for w in plan.warnings)


def test_lists_nested_twelve_deep_keep_everything_after_them():
    """markdown-it's commonmark preset stops at ten levels and dropped the rest."""
    text = "# Deep\n\n## Checklist\n\n"
    text += "".join("  " * n + f"- [ ] level {n}\n" for n in range(12))
    text += "\n## After\n\n- [ ] after one\n- [ ] after two\n"
    plan = parse_runbook(text)
    [deep, after] = plan.all_checklists()

    def count(items):
        return sum(1 + count(i.children) for i in items)

    assert count(deep.items) == 12
    assert [i.text for i in after.items] == ["after one", "after two"]
    assert not plan.warnings


def test_nesting_past_the_limit_is_a_warning_naming_the_line():
    text = "# Deep\n\n## Checklist\n\n"
    text += "".join("  " * n + f"- [ ] level {n}\n" for n in range(110))
    plan = parse_runbook(text + "\n## After\n\n- [ ] lost\n")
    [warning] = [w for w in plan.warnings if "nest too deep" in w.message]
    assert warning.line == 4 + 99  # the list item at the limit


@pytest.mark.parametrize(
    ("line", "text", "owner"),
    [
        ("- [ ] Take the final backup (DBA)", "Take the final backup", "DBA"),
        ("- [ ] Take the final backup (dba)", "Take the final backup", "DBA"),
        ("- [ ] Switch traffic (Release Manager)", "Switch traffic", "Release Manager"),
        ("- [ ] Restart the API (v2)", "Restart the API (v2)", ""),  # not a declared role
        ("- [ ] (DBA)", "(DBA)", ""),  # nothing but the parenthesis: not a task with an owner
        ("- [ ] Backup (DBA) — Priya", "Backup (DBA)", "Priya"),  # a written owner wins
    ],
)
def test_a_declared_role_in_parentheses_at_the_end_owns_the_item(line, text, owner):
    plan = parse_runbook(
        "# Cutover\n\n## Roles\n\n| Role | Name |\n|---|---|\n| DBA | Dana |\n"
        f"| Release Manager | Rita |\n\n## Tasks\n\n{line}\n"
    )
    [item] = [i for c in plan.all_checklists() for i in c.items]
    assert (item.text, item.owner_role) == (text, owner)


NO_BOXES = (
    "# Payments cutover\n\nGo-live: 2026-06-06 23:00 CET\n\n## One week before\n\n"
    "- Freeze the payments repo\n- Announce the window to support\n\n## Cutover night\n\n"
    "{bullets}\n\n## Day after\n\n- Review error budgets\n"
)


@pytest.mark.parametrize(
    ("bullets", "tasks"),
    [
        (
            "- Put the shop in maintenance mode\n- Switch DNS",
            ["Put the shop in maintenance mode", "Switch DNS"],
        ),
        ("- Duration: 2 hours\n- Switch DNS", ["Switch DNS"]),  # a fact about the phase
        ("- **Lead:** Ana\n- Switch DNS", ["Switch DNS"]),
        ("- Error rate > 5% → roll back\n- Switch DNS", ["Switch DNS"]),  # a trigger
        ("- 所要時間\uff1a2時間\n- DNSを切り替える", ["DNSを切り替える"]),
    ],
)
def test_plain_bullets_under_phase_headings_are_tasks_where_no_boxes_are_drawn(bullets, tasks):
    plan = parse_runbook(NO_BOXES.format(bullets=bullets))
    by_phase = {c.name: [i.text for i in c.items] for c in plan.all_checklists()}
    assert by_phase == {
        "One week before": ["Freeze the payments repo", "Announce the window to support"],
        "Cutover night": tasks,
        "Day after": ["Review error budgets"],
    }


def test_where_boxes_are_drawn_plain_bullets_under_a_phase_stay_its_description():
    plan = parse_runbook("# R\n\n## Cutover night\n\n- Bring coffee\n- [ ] Switch DNS\n")
    assert [i.text for c in plan.all_checklists() for i in c.items] == ["Switch DNS"]
    assert "Bring coffee" in plan.phases[0].description


def test_a_roles_section_of_plain_role_lines_names_roles_people_and_contacts():
    plan = parse_runbook(
        "# CRM migration\n\n## Roles\n\n- Release Manager: Priya Shah (+44 20 7946 0000)\n"
        "- DBA: Tom Berg (tom@example.com)\n- On-call SRE: [TBD]\n- Name: ____\n\n"
        "## Tasks\n\n- [ ] Freeze writes (DBA)\n"
    )
    seats = {r.name: (r.primary, r.unfilled) for r in plan.roles}
    assert seats == {
        "Release Manager": (["Priya Shah"], False),
        "DBA": (["Tom Berg"], False),
        "On-call SRE": ([], True),
    }
    people = {p.name: (p.phone, p.email) for p in plan.people}
    assert people == {"Priya Shah": ("+44 20 7946 0000", ""), "Tom Berg": ("", "tom@example.com")}
    assert [i.owner_role for c in plan.all_checklists() for i in c.items] == ["DBA"]


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("Release Manager sign-off", "Release Manager"),
        ("DBA sign off", "DBA"),
        ("QA Lead approval", "QA Lead"),
        ("Signed off by Security", "Security"),  # declared below
        ("Approved by Head of Payments.", "Head of Payments"),
        ("Final sign-off", None),  # no role named
        ("Security sign-off received from the auditors", None),  # a task, not a signer line
        ("[Name] sign-off", None),
    ],
)
def test_a_gate_line_naming_a_role_and_a_sign_off_is_a_required_sign_off(text, role):
    from deployments.runbooks.recognise import bare_signer

    assert bare_signer(text, {"security"}) == role


def test_sign_off_lines_in_a_go_no_go_section_are_its_sign_offs_not_items():
    plan = parse_runbook(
        "# R\n\n## Roles\n\n- Release Manager: Priya\n- Security: Sam\n\n## Go / No-Go\n\n"
        "- [ ] Release Manager sign-off\n- [ ] Security sign-off\n- [ ] Error budget reviewed\n"
    )
    [gate] = plan.gates
    assert [s.role for s in gate.signoffs] == ["Release Manager", "Security"]
    assert [i.text for i in gate.checklist] == ["Error budget reviewed"]
