"""Writes to people records: contact details and what a person is told.

A person can be on several releases; their phone, Slack handle, name and email are
theirs. Only the person (their login) or an administrator changes them, and each
release the person is on records the change in its audit log.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F

from warroom import clock, events
from warroom.errors import FieldError, Refused
from warroom.people.models import Notice, Person, Role
from warroom.validation import clean_text

logger = logging.getLogger(__name__)

CONTACT_FIELDS = ("name", "email", "phone", "slack_handle")
NOTICES_SHOWN = 10


def _releases_of(person: Person) -> list:
    """The releases ``person`` holds a role on (whose audit logs record their changes)."""
    roles = Role.objects.filter(assignments__person=person).select_related("release")
    return list({r.release_id: r.release for r in roles.order_by("release_id")}.values())


def may_change_contact(user, person: Person) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(getattr(user, "is_authenticated", False) and person.user_id == user.pk)


def _cleaned(field: str, value) -> str:
    value = str(value if value is not None else "").strip()
    limit = getattr(Person._meta.get_field(field), "max_length", None)
    value = clean_text(value, field=field, max_length=limit)
    if field == "name" and not value:
        raise FieldError("name", "must not be empty")
    if field == "email" and value:
        try:
            validate_email(value)
        except ValidationError:
            raise FieldError("email", "is not an email address") from None
    return value


def person_update_contact(*, person: Person, user, **changes) -> Person:
    """Change ``person``'s name, email, phone or Slack handle (those given).

    Only the person themselves or an administrator; a refusal is recorded on each
    release the person is on and raised. The change is recorded the same way, with the
    old and new values. Raises FieldError naming the field for bad input.
    """
    unknown = sorted(set(changes) - set(CONTACT_FIELDS))
    if unknown:
        raise FieldError(unknown[0], "is not a contact detail")
    releases = _releases_of(person)
    if not may_change_contact(user, person):
        reason = "only the person themselves or an administrator may change their details"
        with transaction.atomic():
            for release in releases:
                events.record(
                    release,
                    "access.denied",
                    actor=user,
                    data={"action": "change_contact", "reason": reason, "person": person.name},
                )
        if not releases:
            logger.warning("refused %s changing the details of %s", user, person.name)
        raise Refused("change_contact", reason)
    cleaned = {field: _cleaned(field, value) for field, value in changes.items()}
    diff = {
        field: {"from": getattr(person, field), "to": value}
        for field, value in cleaned.items()
        if getattr(person, field) != value
    }
    if not diff:
        return person
    with transaction.atomic():
        for field, values in diff.items():
            setattr(person, field, values["to"])
        person.save(update_fields=list(diff))
        for release in releases:
            events.record(
                release,
                "person.contact_changed",
                actor=user,
                data={"person": person.name, "person_id": person.pk, "fields": diff},
            )
    return person


def person_of(user) -> Person:
    """``user``'s person record, made from their login when they have none yet."""
    person = Person.objects.filter(user=user).first()
    if person is None:
        person = Person.objects.create(
            user=user, name=user.get_full_name() or user.get_username(), email=user.email or ""
        )
    return person


def notify(user, text: str, *, release=None) -> Notice | None:
    """Tell ``user`` something in the app (their home page shows it until read)."""
    if user is None:
        return None
    return Notice.objects.create(user=user, release=release, text=text[:400], at=clock.now())


def notices_for(user, *, limit: int = NOTICES_SHOWN) -> list[Notice]:
    """The newest notices of ``user``, unread ones first."""
    if not getattr(user, "is_authenticated", False):
        return []
    unread_first = F("seen_at").asc(nulls_first=True)  # alike on SQLite and PostgreSQL
    return list(Notice.objects.filter(user=user).order_by(unread_first, "-at", "-id")[:limit])


def notices_seen(user) -> int:
    """Mark every notice of ``user`` read; how many were unread."""
    return Notice.objects.filter(user=user, seen_at=None).update(seen_at=clock.now())
