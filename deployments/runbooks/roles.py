"""Roles and people: role sections, role tables, contact details.

Roles come from role headings and labels in a roles section, ``**Lead:**
Name - phone`` lines and Role/Name/Backup tables; people are merged by name
(placeholders such as "[TBD]" are never merged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Block, Section
from .context import _NUMBERING, _PAREN_TAIL, _STAKEHOLDER, Ctx, _State
from .index import PlanIndex
from .plan import PlanPerson, PlanRole
from .recognise import contact_value, is_placeholder, seat_name
from .text import cell_text, plain, split_list

# "Priya Shah (+44 20 7946 0000)" / "Priya Shah (priya@example.com)": a contact in brackets
_CONTACT_IN_PARENS = re.compile(r"^(.+?)\s*\(\s*(\+?[\d][\d\s().\-/]{5,}|[^()\s@]+@[^()\s]+)\s*\)$")


@dataclass(eq=False)
class RolesReader:
    """Builder part: roles and people."""

    index: PlanIndex

    def looks_like_role(self, sec: Section) -> bool:
        for b in sec.blocks:
            if b.kind == "para" and re.search(
                r"\*\*(name|role|phone|email|slack)\s*:?\*\*", b.text, re.I
            ):
                return True
            if b.kind == "list" and any(
                re.match(r"(\*\*)?(name|phone|email|slack)\s*:", it.text, re.I) for it in b.items
            ):
                return True
        return bool(_NUMBERING.match(sec.title))

    def role_name(self, text: str) -> tuple[str, str]:
        name = _NUMBERING.sub("", plain(text))
        qual = ""
        m = _PAREN_TAIL.search(name)
        if m and m.start() > 0:
            qual = m.group(1).strip()
            name = name[: m.start()].strip()
        return name, qual

    def find_role(self, name: str) -> PlanRole | None:
        key = name.lower()
        for r in self.index.plan.roles:
            if r.name.lower() == key:
                return r
        return None

    def add_role(
        self, text: str, line: int, *, stakeholder: bool = False, raw: bool = False
    ) -> PlanRole:
        name, qual = (text, "") if raw else self.role_name(text)
        role = self.find_role(name)
        if role is None:
            role = PlanRole(
                name=name, duty=qual, kind="stakeholder" if stakeholder else "team", line=line
            )
            self.index.plan.roles.append(role)
        return role

    def add_person(
        self, name: str, line: int, email="", phone="", slack="", role: str = ""
    ) -> PlanPerson | None:
        """The contact a runbook names, merged by name; None for a placeholder ("[Name]",
        "TBD", "John Doe", "(to be assigned)"): no one is invented, the seat stays unfilled
        and a warning names the line (:meth:`seat_contact` keeps a real phone or email
        written beside it)."""
        email, phone, slack = contact_value(email), contact_value(phone), contact_value(slack)
        if is_placeholder(name):
            self.unfilled_seat(name, line, role)
            return None
        p = self.index.people_index.get(name.lower())
        if p is not None:
            p.email = p.email or email
            p.phone = p.phone or phone
            p.slack = p.slack or slack
            return p
        return self._new_person(name, line, email, phone, slack)

    def shared_contact(
        self, line: int, email: str = "", phone: str = "", slack: str = ""
    ) -> PlanPerson | None:
        """A shared address written beside a placeholder name (a team mailbox, an on-call
        number, a channel): a contact named by the address, so it is not lost; None when
        every value is a placeholder too."""
        email, phone, slack = contact_value(email), contact_value(phone), contact_value(slack)
        address = next((v for v in (email, slack, phone) if v and not is_placeholder(v)), "")
        if not address:
            return None
        self.index.warn(line, f"shared contact '{address}' kept for the unfilled seat")
        return self.add_person(address, line, email=email, phone=phone, slack=slack)

    def seat_contact(
        self, written: str, line: int, role: str = "", email="", phone="", slack=""
    ) -> PlanPerson | None:
        """A placeholder name ("[Name]", "TBD", "___", an empty cell) beside a real phone,
        email or Slack: nobody is invented, but the contact is kept under the seat's name
        (:func:`~.recognise.seat_name`, itself a placeholder), so the seat stays unfilled and
        the contacts page still shows the number to call. None when every value is a
        placeholder too (a warning names the line either way)."""
        email, phone, slack = contact_value(email), contact_value(phone), contact_value(slack)
        if not (email or phone or slack):
            self.unfilled_seat(written, line, role)
            return None
        name = seat_name(written, role)
        address = next(v for v in (phone, email, slack) if v)
        what = f"seat '{role}' is unfilled" if role else "no one is named"
        self.index.warn(
            line, f"{what} ('{written}' is a placeholder): {address} is kept as '{name}'"
        )
        return self._seat_person(name, line, email, phone, slack)

    def _seat_person(self, name: str, line: int, email: str, phone: str, slack: str) -> PlanPerson:
        """The seat's contact under ``name``; another contact for the same seat name (other
        details) gets a number ("[DBA: TBD 2]") rather than being merged into the first."""
        base, n = name, 1
        while True:
            p = self.index.people_index.get(name.lower())
            if p is None:
                return self._new_person(name, line, email, phone, slack)
            pairs = ((p.email, email), (p.phone, phone), (p.slack, slack))
            if all(not a or not b or a == b for a, b in pairs):
                p.email, p.phone, p.slack = p.email or email, p.phone or phone, p.slack or slack
                return p
            n += 1
            name = f"{base[:-1]} {n}]"

    def _new_person(self, name: str, line: int, email: str, phone: str, slack: str) -> PlanPerson:
        p = PlanPerson(name=name, email=email, phone=phone, slack=slack, line=line)
        self.index.plan.people.append(p)
        self.index.people_index[name.lower()] = p
        return p

    def unfilled_seat(self, name: str, line: int, role: str = "") -> None:
        written = f"'{name}'" if name.strip() else "no name"
        if role:
            self.index.warn(
                line, f"seat '{role}' is unfilled: {written} is a placeholder, not a person"
            )
        else:
            self.index.warn(line, f"contact {written} is a placeholder, not a person: left out")

    def seat(self, role: PlanRole, name: str, line: int, **contact: str) -> PlanPerson | None:
        """``name`` fills ``role``'s seat; a placeholder leaves it unfilled, keeping a real
        phone, email or Slack written beside it on the seat (:meth:`seat_contact`)."""
        if is_placeholder(name):
            p = self.seat_contact(name, line, role.name, **contact)
        else:
            p = self.add_person(name, line, role=role.name, **contact)
        if p is not None and p.name not in role.primary:
            role.primary.append(p.name)
        return p

    def role_field(self, role: PlanRole, k: str, v: str, line: int, st: _State) -> None:
        if k in ("role", "duty"):
            role.duty = v
            return
        if k in ("name", "primary"):
            if st.person_role is not role:
                st.person = self.seat(role, v, line)
                st.person_role = role
                st.seat_written = v
            return
        if k == "backup":
            if not is_placeholder(v):
                role.backup.append(v)
            return
        value = contact_value(v)
        if st.person is None or st.person_role is not role:
            if not value:
                return  # "Phone: ____" of a seat still to fill
            # a phone or email under a placeholder name (or none): kept on the unfilled seat
            written = st.seat_written if st.person_role is role else ""
            st.person = self.seat(role, written, line, **{k: value})
            st.person_role = role
            return
        if value and not getattr(st.person, k):
            setattr(st.person, k, value)

    def role_people(self, role: PlanRole, value: str, line: int) -> None:
        """``Priya Shah - +44 20 7946 0000``, ``Priya Shah (+44 20 7946 0000)`` or
        ``Priya Shah (priya@example.com)``: the seat's person and their contact."""
        text = plain(value)
        contact = _CONTACT_IN_PARENS.match(text)
        if contact:  # "Name (phone or email)"
            text, inside = contact.group(1), contact.group(2).strip()
            email = inside if "@" in inside else ""
            self.seat(role, text, line, phone="" if email else inside, email=email)
            return
        parts = [p.strip() for p in re.split(r"\s+-\s+", text) if p.strip()]
        if not parts:
            return
        name = parts[0]
        phone = next((p for p in parts[1:] if re.search(r"phone|\d{3}|\[.*\]", p, re.I)), "")
        self.seat(role, name, line, phone=phone)

    def roles_table(self, b: Block, col, get, ctx: Ctx) -> None:
        stakeholder = bool(_STAKEHOLDER.search(ctx.title))
        c_role = col("role")
        c_duty = col("duty", "responsib", "involvement", "purpose")
        c_name = col("name", "person", "primary", exclude=("duty",))
        c_backup = col("backup")
        c_kind = col("kind")
        for ln, row in b.rows:
            raw_role = get(row, c_role)
            if not cell_text(raw_role):
                continue
            if c_kind is not None:
                role = PlanRole(name=cell_text(raw_role), line=ln)
                role.kind = cell_text(get(row, c_kind)) or "team"
                role.duty = cell_text(get(row, c_duty))
                # the canonical table (export's): a seat's contact ("[DBA: TBD]") is kept
                role.primary = [
                    n
                    for n in split_list(get(row, c_name))
                    if not is_placeholder(n) or n.startswith("[")
                ]
                role.backup = [n for n in split_list(get(row, c_backup)) if not is_placeholder(n)]
                self.index.plan.roles.append(role)
                continue
            role = self.add_role(raw_role, ln, stakeholder=stakeholder)
            duty = cell_text(get(row, c_duty))
            if duty and not role.duty:
                role.duty = duty
            names = split_list(get(row, c_name), ";,") if c_name is not None else []
            contact = {k: cell_text(get(row, col(k))) for k in ("email", "phone", "slack")}
            c_contact = col("contact", exclude=("support",))
            if c_contact is not None and "@" in get(row, c_contact):
                contact["email"] = cell_text(get(row, c_contact))
            contact = {k: contact_value(v) for k, v in contact.items()}
            if not names:  # no name written: the seat is unfilled, a contact beside it kept
                names = [cell_text(get(row, c_name))]
            for n in names:
                self.seat(role, n, ln, **contact)
            for bk in split_list(get(row, c_backup), ";,") if c_backup is not None else []:
                if bk not in role.backup and not is_placeholder(bk):
                    role.backup.append(bk)
