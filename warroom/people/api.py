"""The API of people records: your own contact details and notices (``/api/me``), and a
person's details for administrators (``/api/people/{id}``)."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from ninja import Field, Router, Schema

from warroom.api_schemas import READ_ERRORS, WRITE_ERRORS, BodyIn, responses
from warroom.people import services
from warroom.people.models import Person

router = Router(tags=["people"])


class NoticeOut(Schema):
    id: int
    text: str
    release_id: int | None
    at: datetime
    seen: bool


class ContactOut(Schema):
    id: int | None
    name: str
    email: str
    phone: str
    slack_handle: str


class MeOut(ContactOut):
    notices: list[NoticeOut]


class ContactIn(BodyIn):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=64)
    slack_handle: str | None = Field(None, max_length=100)


def _contact(person: Person | None, user) -> dict:
    if person is None:
        return {
            "id": None,
            "name": user.get_full_name() or user.get_username(),
            "email": user.email,
            "phone": "",
            "slack_handle": "",
        }
    return {f: getattr(person, f) for f in ("id", "name", "email", "phone", "slack_handle")}


def _me(user) -> dict:
    notices = [
        {
            "id": n.pk,
            "text": n.text,
            "release_id": n.release_id,
            "at": n.at,
            "seen": bool(n.seen_at),
        }
        for n in services.notices_for(user)
    ]
    return {**_contact(Person.objects.filter(user=user).first(), user), "notices": notices}


@router.get("/me", response=responses({200: MeOut}, READ_ERRORS))
def me(request):
    """Your contact details (as every release you are on shows them) and your notices."""
    return _me(request.user)


@router.patch("/me", response=responses({200: MeOut}, WRITE_ERRORS))
def edit_me(request, payload: ContactIn):
    """Change your own name, email, phone or Slack handle; each release you are on records
    the change."""
    person = services.person_of(request.user)
    services.person_update_contact(
        person=person, user=request.user, **payload.dict(exclude_unset=True)
    )
    return _me(request.user)


@router.patch("/people/{person_id}", response=responses({200: ContactOut}, WRITE_ERRORS))
def edit_person(request, person_id: int, payload: ContactIn):
    """Change a person's contact details (administrators, or the person themselves)."""
    person = Person.objects.filter(pk=person_id).first() if 0 < person_id < 2**63 else None
    if person is None:
        raise Http404("no such person")
    services.person_update_contact(
        person=person, user=request.user, **payload.dict(exclude_unset=True)
    )
    return _contact(person, request.user)
