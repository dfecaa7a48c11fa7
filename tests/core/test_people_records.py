"""People records: a person's contact details change only by that person or an
administrator, through one service that audits the change on every release the person
is on; assigning someone to a release tells them in the app."""

from __future__ import annotations

import pytest

from deployments import services as release_services
from tests.factories import team_release
from warroom.audit import AuditEvent
from warroom.errors import FieldError, Refused
from warroom.events import describe
from warroom.people import services as people
from warroom.people.models import Notice, Person, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_releases(db):
    """The same VP on two releases (the second import links the existing person)."""
    first = team_release()
    second = team_release()
    vp = Person.objects.get(user=second["vp"])
    role = Role.objects.get(release=first.release, name="VP Engineering")
    role.assignments.update(person=vp)
    return first, second, vp


def contact_events(release) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(release=release, kind="person.contact_changed"))


def test_someone_else_on_another_release_cannot_change_a_persons_phone(two_releases):
    first, second, vp = two_releases
    before = (vp.phone, vp.slack_handle, vp.name)
    for intruder in ("rm", "dba", "outsider"):
        with pytest.raises(Refused):
            people.person_update_contact(
                person=vp, user=second[intruder], phone="+1 555 0100", slack_handle="@mallory"
            )
    vp.refresh_from_db()
    assert (vp.phone, vp.slack_handle, vp.name) == before
    # Each refusal is on the audit log of both releases the VP is on.
    for team in (first, second):
        refused = AuditEvent.objects.filter(
            release=team.release, kind="access.denied", data__action="change_contact"
        )
        assert refused.count() == 3


def test_the_person_changes_their_own_details_and_every_release_records_it(two_releases):
    first, second, vp = two_releases
    people.person_update_contact(
        person=vp, user=second["vp"], phone="+44 20 7946 0000", slack_handle="@victor"
    )
    vp.refresh_from_db()
    assert (vp.phone, vp.slack_handle) == ("+44 20 7946 0000", "@victor")
    for team in (first, second):
        (event,) = contact_events(team.release)
        assert event.actor_label == "Victor President"
        assert event.data["fields"]["phone"]["to"] == "+44 20 7946 0000"
        assert describe(event) == (
            "Victor President changed the contact details of Victor President (phone, slack_handle)"
        )
    # Setting what is already there records nothing.
    people.person_update_contact(person=vp, user=second["vp"], phone="+44 20 7946 0000")
    assert len(contact_events(first.release)) == 1


def test_an_administrator_may_change_anyones_details(two_releases):
    first, _, vp = two_releases
    people.person_update_contact(person=vp, user=first["admin"], name="Victor P. President")
    vp.refresh_from_db()
    assert vp.name == "Victor P. President"
    assert contact_events(first.release)[0].data["fields"]["name"] == {
        "from": "Victor President",
        "to": "Victor P. President",
    }


def test_bad_contact_details_are_refused_naming_the_field(team):
    person = Person.objects.get(user=team["dba"])
    with pytest.raises(FieldError, match="email: is not an email address"):
        people.person_update_contact(person=person, user=team["dba"], email="not-an-address")
    with pytest.raises(FieldError, match="phone: is 80 characters long; the limit is 64"):
        people.person_update_contact(person=person, user=team["dba"], phone="1" * 80)
    with pytest.raises(FieldError, match="name: must not be empty"):
        people.person_update_contact(person=person, user=team["dba"], name="  ")
    with pytest.raises(FieldError, match="is_staff: is not a contact detail"):
        people.person_update_contact(person=person, user=team["dba"], is_staff=True)


def test_the_api_edits_your_own_details_and_refuses_others(api, team):
    resp = api(team["dba"]).patch("/api/me", {"phone": "+1 202 555 0143"})
    assert resp.status_code == 200 and resp.json()["phone"] == "+1 202 555 0143"
    vp = Person.objects.get(user=team["vp"])
    resp = api(team["dba"]).patch(f"/api/people/{vp.pk}", {"phone": "+1 999"})
    assert resp.status_code == 403
    resp = api(team["admin"]).patch(f"/api/people/{vp.pk}", {"phone": "+1 999"})
    assert resp.status_code == 200 and resp.json()["phone"] == "+1 999"
    resp = api(team["dba"]).patch("/api/me", {"slack_handle": "x" * 101})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "slack_handle"


def test_the_my_details_page_saves_through_the_service(client, team):
    client.force_login(team["qa"])
    page = client.get("/me/")
    assert page.status_code == 200 and 'value="Quinn Tester"' in page.content.decode()
    resp = client.post("/me/", {"name": "Quinn Tester", "phone": "+49 30 1234", "email": ""})
    assert resp.status_code == 302
    assert Person.objects.get(user=team["qa"]).phone == "+49 30 1234"
    assert contact_events(team.release)[0].actor_label == "Quinn Tester"
    resp = client.post("/me/", {"name": "Quinn Tester", "email": "nope"})
    assert resp.status_code == 400 and "email: is not an email address" in resp.content.decode()


def test_the_admin_changes_details_through_the_audited_service(client, team):
    person = Person.objects.get(user=team["sec"])
    client.force_login(team["admin"])
    resp = client.post(
        f"/admin/people/person/{person.pk}/change/",
        {
            "name": person.name,
            "email": person.email,
            "phone": "+1 415 555 0199",
            "slack_handle": "@sam",
            "user": team["sec"].pk,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    (event,) = contact_events(team.release)
    assert event.actor_label == "admin" and set(event.data["fields"]) == {"phone", "slack_handle"}


def test_being_added_to_a_release_is_on_your_home_page(client, team):
    qa_role = Role.objects.get(release=team.release, name="QA Lead")
    release_services.role_assign(role=qa_role, username="outsider", kind="backup", user=team["rm"])
    (notice,) = Notice.objects.filter(user=team["outsider"])
    assert notice.text == "You were added to Orbit Payments as QA Lead (backup) by Rita Manager"
    client.force_login(team["outsider"])
    home = client.get("/").content.decode()
    assert "You were added to Orbit Payments as QA Lead (backup) by Rita Manager" in home
    assert 'class="notice unread"' in home
    client.post("/me/notices/read", {"next": "/"})
    assert 'class="notice unread"' not in client.get("/").content.decode()
    # Assigning yourself tells nobody.
    release_services.role_assign(role=qa_role, username="rm", kind="backup", user=team["rm"])
    assert not Notice.objects.filter(user=team["rm"]).exists()


@pytest.mark.parametrize(
    ("name", "open_seat"),
    [
        ("", True),
        ("[Name]", True),
        ("<on-call engineer>", True),
        ("____", True),
        ("?", True),
        ("TBD", True),
        ("tbc.", True),
        ("N/A", True),
        ("Vacant", True),
        ("Dana Admin", False),
        ("Tbilisi Ops", False),  # a name that starts like "TBD" is a name
        ("Nadia", False),
    ],
)
def test_a_seat_held_by_a_stand_in_name_counts_as_unfilled(name, open_seat):
    from warroom.people.models import Person

    assert Person(name=name).is_placeholder is open_seat
