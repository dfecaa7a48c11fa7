"""Owners: who does an item, and the check that every owner is a declared role.

An item's owner is, first found: its own ``(Owner: X)`` / ``— X`` / ``@handle``
tail or ``Owner:`` sub-line, the section's ``**Owner:** X`` line, a team
heading above it (``### QA``), the role whose section it stands in, or — once the
document's roles are known — a declared role named in parentheses at its end. A
placeholder (``[Name]``, ``TBD``, ``___``) names nobody: the item keeps no owner
and a warning says the seat is to fill. After parsing, an owner that matches
no declared role (one from a roles table or section) is warned about with its
line and the closest declared role.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .index import PlanIndex
from .plan import PlanItem
from .recognise import is_placeholder

_TRAILING_PARENS = re.compile(r"\s*\(([^()]{1,60})\)$")


@dataclass(eq=False)
class OwnersReader:
    """Builder part: owners of items and the undeclared-owner warning."""

    index: PlanIndex

    def owner_for(self, written: str, default: str, line: int) -> str:
        """The owner of an item given what its line says and the section's default."""
        if written and is_placeholder(written):
            self.index.warn(line, f"owner '{written}' is a placeholder: the item has no owner yet")
            return ""
        return written or default

    def handle_roles(self) -> dict[str, str]:
        """``@priya`` -> the role whose seat Priya (Slack ``@priya``) fills."""
        by_person = {p.name: p.slack.casefold() for p in self.index.plan.people if p.slack}
        out: dict[str, str] = {}
        for role in self.index.plan.roles:
            for name in role.primary:
                handle = by_person.get(name, "")
                if handle.startswith("@"):
                    out.setdefault(handle, role.name)
        return out

    def check_owners(self) -> None:
        declared = {r.name.casefold(): r.name for r in self.index.plan.roles}
        if not declared:
            return
        self._parenthesised_owners(declared)
        handles = self.handle_roles()
        for item in self._owned_items():
            if item.owner_role.startswith("@"):
                item.owner_role = handles.get(item.owner_role.casefold(), item.owner_role)
        seen: set[str] = set()
        for item in self._owned_items():
            owner = item.owner_role
            key = owner.casefold()
            if key in declared or key in seen:
                continue
            seen.add(key)
            close = difflib.get_close_matches(key, list(declared), n=1, cutoff=0.6)
            hint = f"; closest declared role: '{declared[close[0]]}'" if close else ""
            self.index.warn(item.line, f"owner '{owner}' matches no declared role{hint}")

    def _parenthesised_owners(self, declared: dict[str, str]) -> None:
        """``Take the final backup (DBA)``: an item with no owner whose text ends with a
        declared role in parentheses is that role's (only an exact role name counts)."""
        for item in self._items(lambda i: not i.owner_role and i.text.endswith(")")):
            m = _TRAILING_PARENS.search(item.text)
            role = declared.get(m.group(1).strip().casefold()) if m else None
            if m and role and m.start() > 0:
                item.text, item.owner_role = item.text[: m.start()].rstrip(), role

    def _owned_items(self):
        return self._items(lambda i: bool(i.owner_role))

    def _items(self, wanted):
        def walk(items: list[PlanItem]):
            for i in items:
                if wanted(i):
                    yield i
                yield from walk(i.children)

        for cl in self.index.plan.all_checklists():
            yield from walk(cl.items)
        for g in self.index.plan.gates:
            yield from walk(g.checklist)
        yield from walk(self.index.plan.rollback_plan)
