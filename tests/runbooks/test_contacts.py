"""Contacts beside placeholders: a seat whose name is "[Name]", "TBD", "___" or empty stays
unfilled (no one is invented), but a real phone, email or Slack written beside it is kept on
the seat, under the seat's name, so the contacts page still shows the number to call.

One table of the forms people write contacts in; each row: a runbook, the roles (name, seat
names, unfilled) and the contacts (name, phone, email, Slack) it must give."""

from __future__ import annotations

import pytest

from deployments.runbooks.export import render_plan
from deployments.runbooks.parse import parse_runbook

TABLE = "| Role | Name | Phone | Email | Slack |\n|---|---|---|---|---|\n"

CASES = [
    pytest.param(
        "# R\n## Team\n" + TABLE + "| DBA | [Name] | +1 555 0102 | | |\n",
        [("DBA", ["[DBA: Name]"], True)],
        [("[DBA: Name]", "+1 555 0102", "", "")],
        id="role table: bracket placeholder, real phone",
    ),
    pytest.param(
        "# R\n## Team\n" + TABLE + "| SRE | TBD | +1-XXX-XXX-XXXX | sre@x.example | @sre |\n",
        [("SRE", ["[SRE: TBD]"], True)],
        [("[SRE: TBD]", "", "sre@x.example", "@sre")],
        id="role table: TBD, template phone dropped, email and Slack kept",
    ),
    pytest.param(
        "# R\n## Team\n" + TABLE + "| QA | ___ | [Phone] | <email> | @ |\n",
        [("QA", [], True)],
        [],
        id="role table: every value a placeholder: no contact",
    ),
    pytest.param(
        "# R\n## Team\n" + TABLE + "| Network |  | +1 555 0104 | | |\n",
        [("Network", ["[Network]"], True)],
        [("[Network]", "+1 555 0104", "", "")],
        id="role table: empty name cell, real phone",
    ),
    pytest.param(
        "# R\n## Team\n" + TABLE + "| DBA | Ana Lima | +1 555 0100 | ana@x.example | @ana |\n"
        "| DBA | TBD | +1 555 0199 | | |\n",
        [("DBA", ["Ana Lima", "[DBA: TBD]"], False)],
        [
            ("Ana Lima", "+1 555 0100", "ana@x.example", "@ana"),
            ("[DBA: TBD]", "+1 555 0199", "", ""),
        ],
        id="role table: a real name beside a placeholder row fills the seat",
    ),
    pytest.param(
        "# R\n## Team\n" + TABLE + "| DBA | TBD | +1 555 0101 | | |\n"
        "| DBA | TBD | +1 555 0102 | | |\n",
        [("DBA", ["[DBA: TBD]", "[DBA: TBD 2]"], True)],
        [("[DBA: TBD]", "+1 555 0101", "", ""), ("[DBA: TBD 2]", "+1 555 0102", "", "")],
        id="role table: two placeholder rows with other numbers stay apart",
    ),
    pytest.param(
        "# R\n## Equipo\n| Rol | Nombre | Teléfono | Correo | Slack |\n|---|---|---|---|---|\n"
        "| Jefa de lanzamiento | Marta Quintana | +34 91 555 0101 | marta@x.es | @marta |\n"
        "| DBA de guardia | Por asignar | +34 91 555 0102 | dba@x.es | |\n",
        [
            ("Jefa de lanzamiento", ["Marta Quintana"], False),
            ("DBA de guardia", ["[DBA de guardia: Por asignar]"], True),
        ],
        [
            ("Marta Quintana", "+34 91 555 0101", "marta@x.es", "@marta"),
            ("[DBA de guardia: Por asignar]", "+34 91 555 0102", "dba@x.es", ""),
        ],
        id="Spanish role table, placeholder beside a real name",
    ),
    pytest.param(
        "# R\n## Kontakte\n| Rolle | Name | Telefon | E-Mail |\n|---|---|---|---|\n"
        "| Netzwerk | noch offen | +49 30 901821 | |\n",
        [("Netzwerk", ["[Netzwerk: noch offen]"], True)],
        [("[Netzwerk: noch offen]", "+49 30 901821", "", "")],
        id="German role table: 'noch offen'",
    ),
    pytest.param(
        "# R\n## Contacts\n| Name | Phone | Email |\n|---|---|---|\n"
        "| Vendor hotline | +1 800 555 0100 | help@vendor.example |\n"
        "| [Account manager] | +1 800 555 0101 | |\n| TBD | | |\n"
        "\n## Tasks\n- [ ] Call the vendor\n",
        [],
        [
            ("Vendor hotline", "+1 800 555 0100", "help@vendor.example", ""),
            ("[Account manager]", "+1 800 555 0101", "", ""),
        ],
        id="contacts table without roles: the placeholder keeps its number",
    ),
    pytest.param(
        "# R\n## Team Assignments\n#### DBA (Lead)\n**Name:** [TBD]\n\n"
        "**Contact:**\n- Phone: +1 555 0102\n- Slack: @dba\n",
        [("DBA", ["[DBA: TBD]"], True)],
        [("[DBA: TBD]", "+1 555 0102", "", "@dba")],
        id="role section: Name placeholder, then a phone",
    ),
    pytest.param(
        "# R\n## Team Assignments\n#### DBA (Lead)\n**Role:** Database\n\n"
        "**Contact:**\n- Phone: +1 555 0102\n",
        [("DBA", ["[DBA]"], True)],
        [("[DBA]", "+1 555 0102", "", "")],
        id="role section: a phone and no name",
    ),
    pytest.param(
        "# R\n## Team\n- **DBA**: [Name] - +1 555 0102\n- **SRE**: Bo Chen - +1 555 0103\n",
        [("DBA", ["[DBA: Name]"], True), ("SRE", ["Bo Chen"], False)],
        [("[DBA: Name]", "+1 555 0102", "", ""), ("Bo Chen", "+1 555 0103", "", "")],
        id="role lines: 'Role: [Name] - phone'",
    ),
]


@pytest.mark.parametrize(("md", "roles", "contacts"), CASES)
def test_contact_forms(md, roles, contacts):
    plan = parse_runbook(md)
    assert [(r.name, r.primary, r.unfilled) for r in plan.roles] == roles
    assert [(p.name, p.phone, p.email, p.slack) for p in plan.people] == contacts
    # and the export reads back the same: the seat's contact and its unfilled seat
    back = parse_runbook(render_plan(plan))
    assert (back.roles, back.people) == (plan.roles, plan.people)


def test_the_seat_warning_names_the_line_the_placeholder_and_what_is_kept():
    plan = parse_runbook("# R\n## Team\n" + TABLE + "| DBA | [Name] | +1 555 0102 | | |\n")
    assert [(w.line, w.message) for w in plan.warnings] == [
        (
            5,
            "seat 'DBA' is unfilled ('[Name]' is a placeholder): "
            "+1 555 0102 is kept as '[DBA: Name]'",
        )
    ]


@pytest.mark.django_db
def test_the_contacts_page_flags_the_seat_unfilled_and_still_shows_its_number():
    """Imported into a release: the seat is unfilled on the contacts sheet, and the number kept
    beside the placeholder is there to call (the page's person line links it)."""
    from datetime import UTC, datetime

    from django.template.loader import render_to_string

    from deployments.runbooks.instantiate import instantiate
    from notifications.oncall import contact_sheet

    plan = parse_runbook(
        "# Cutover\n## Team\n" + TABLE + "| DBA | [Name] | +1 555 0102 | | |\n"
        "| SRE | Bo Chen | +1 555 0103 | bo@x.example | @bo |\n## Tasks\n- [ ] Back up\n"
    )
    release = instantiate(plan, datetime(2026, 12, 19, 22, 0, tzinfo=UTC))
    seats = {s.role.name: s for s in contact_sheet(release, datetime(2026, 12, 19, tzinfo=UTC))}
    dba, sre = seats["DBA"], seats["SRE"]
    assert (dba.unfilled, sre.unfilled) == (True, False)
    ((person),) = dba.primary
    assert (person.name, person.phone, person.is_placeholder) == (
        "[DBA: Name]",
        "+1 555 0102",
        True,
    )
    line = render_to_string("notifications/partials/person.html", {"p": person})
    assert (
        '<a href="tel:+15550102">+1 555 0102</a>' in line and 'class="person placeholder"' in line
    )
