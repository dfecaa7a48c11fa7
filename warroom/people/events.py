"""The event kinds of people records (discovered with every app's ``events``)."""

from __future__ import annotations

from collections.abc import Mapping

from warroom.events import declare


def _contact_changed(d: Mapping, who: str) -> str:
    fields = ", ".join(sorted(d.get("fields") or {}))
    return f"{who} changed the contact details of {d.get('person', '')} ({fields})"


PERSON_CONTACT_CHANGED = declare(
    "person.contact_changed", describe=_contact_changed, regions={"all"}, owner="people"
)
