"""Every free-text field has a length limit, enforced alike by the API, the htmx pages and
the models: a 400 that names the field and the limit, and nothing written."""

from __future__ import annotations

import pytest

from checklists import services as checklist_services
from checklists.models import ChecklistItem, ItemNote, RollbackCall, SignOff
from deployments.models import Release
from warroom.audit import AuditEvent
from warroom.errors import FieldError
from warroom.people.models import Person, Role
from warroom.validation import (
    COMMENT_MAX,
    MITIGATION_MAX,
    NOTE_MAX,
    RATIONALE_MAX,
    REASON_MAX,
)

pytestmark = pytest.mark.django_db


def too_long(limit: int) -> str:
    return "x" * (limit + 1)


def events_of(team) -> int:
    return AuditEvent.objects.filter(release=team.release).count()


def proposal(team):
    """A NO-GO proposed by the release manager, awaiting the VP."""
    return checklist_services.decision_record(
        gate=team.gate(), outcome="no_go", rationale="the database is not ready", user=team["rm"]
    )


def open_call(team):
    return checklist_services.rollback_raise(
        release=team.release, reason="error rate 5%", user=team["dba"]
    )


def api_cases(team):
    """(user, method, path, body, field, limit) for each free-text field of the API."""
    rid, gate = team.release.pk, team.gate()
    dba_role = Role.objects.get(release=team.release, name="DBA")
    item = team.item("DBA")
    return {
        "note": ("dba", "post", f"/api/releases/{rid}/items/{item.pk}",
                 {"status": "done", "note": too_long(NOTE_MAX)}, "note", NOTE_MAX),
        "sign-off comment": ("dba", "post", f"/api/releases/{rid}/gates/{gate.pk}/signoffs",
                             {"role_id": dba_role.pk, "verdict": "reject",
                              "comment": too_long(COMMENT_MAX)}, "comment", COMMENT_MAX),
        "rationale": ("rm", "post", f"/api/releases/{rid}/gates/{gate.pk}/decisions",
                      {"outcome": "no_go", "rationale": too_long(RATIONALE_MAX)},
                      "rationale", RATIONALE_MAX),
        "mitigation": ("rm", "post", f"/api/releases/{rid}/gates/{gate.pk}/decisions",
                       {"outcome": "conditional_go", "rationale": "ok",
                        "mitigations": [too_long(MITIGATION_MAX)]},
                       "mitigations.0", MITIGATION_MAX),
        "rollback reason": ("dba", "post", f"/api/releases/{rid}/rollback-calls",
                            {"reason": too_long(REASON_MAX)}, "reason", REASON_MAX),
        "release name": ("rm", "patch", f"/api/releases/{rid}", {"name": too_long(200)},
                         "name", 200),
        "status line": ("rm", "put", f"/api/releases/{rid}/status-line",
                        {"text": too_long(280)}, "text", 280),
    }  # fmt: skip


API_FIELDS = [
    "note",
    "sign-off comment",
    "rationale",
    "mitigation",
    "rollback reason",
    "release name",
    "status line",
]


@pytest.mark.parametrize("case", API_FIELDS)
def test_the_api_refuses_text_over_its_limit_naming_field_and_limit(api, team, case):
    username, method, path, body, field, limit = api_cases(team)[case]
    before = events_of(team)
    resp = getattr(api(team[username]), method)(path, body)
    assert resp.status_code == 400, resp.content
    problem = resp.json()["errors"][0]
    assert problem["field"] == field and str(limit) in problem["message"]
    assert events_of(team) == before


def test_the_api_refuses_a_long_vote_comment_and_a_long_rollback_rationale(api, team):
    decision = proposal(team)
    rid, gate = team.release.pk, team.gate()
    resp = api(team["vp"]).post(
        f"/api/releases/{rid}/gates/{gate.pk}/decisions/{decision.pk}/votes",
        {"verdict": "object", "comment": too_long(COMMENT_MAX)},
    )
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "comment"
    assert str(COMMENT_MAX) in resp.json()["detail"]
    call = open_call(team)
    resp = api(team["rm"]).post(
        f"/api/releases/{rid}/rollback-calls/{call.pk}/decision",
        {"choice": "roll_back", "rationale": too_long(RATIONALE_MAX)},
    )
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "rationale"
    assert RollbackCall.objects.get(pk=call.pk).decided_at is None


def htmx_cases(team):
    rid, gate = team.release.pk, team.gate()
    dba_role = Role.objects.get(release=team.release, name="DBA")
    item = team.item("DBA")
    return {
        "note": ("dba", f"/releases/{rid}/items/{item.pk}/status",
                 {"status": "blocked", "note": too_long(NOTE_MAX)}, "note", NOTE_MAX),
        "sign-off comment": ("dba", f"/releases/{rid}/gates/{gate.pk}/signoff",
                             {"role": dba_role.pk, "verdict": "reject",
                              "comment": too_long(COMMENT_MAX)}, "comment", COMMENT_MAX),
        "rationale": ("rm", f"/releases/{rid}/gates/{gate.pk}/decide",
                      {"outcome": "no_go", "rationale": too_long(RATIONALE_MAX)},
                      "rationale", RATIONALE_MAX),
        "mitigation": ("rm", f"/releases/{rid}/gates/{gate.pk}/decide",
                       {"outcome": "conditional_go", "rationale": "ok",
                        "mitigations": "fine\n" + too_long(MITIGATION_MAX)},
                       "mitigations.1", MITIGATION_MAX),
        "rollback reason": ("dba", f"/releases/{rid}/rollback/raise",
                            {"reason": too_long(REASON_MAX)}, "reason", REASON_MAX),
        "status line": ("rm", f"/releases/{rid}/status-line", {"text": too_long(280)},
                        "text", 280),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    ["note", "sign-off comment", "rationale", "mitigation", "rollback reason", "status line"],
)
def test_the_htmx_pages_refuse_text_over_its_limit_naming_field_and_limit(client, team, case):
    username, path, form, field, limit = htmx_cases(team)[case]
    client.force_login(team[username])
    before = events_of(team)
    resp = client.post(path, form, headers={"HX-Request": "true"})
    assert resp.status_code == 400
    assert resp.content.decode() == f"{field}: is {limit + 1} characters long; the limit is {limit}"
    assert events_of(team) == before


def test_the_htmx_vote_and_rollback_decision_refuse_long_text(client, team):
    decision = proposal(team)
    rid, gate = team.release.pk, team.gate()
    client.force_login(team["vp"])
    resp = client.post(
        f"/releases/{rid}/gates/{gate.pk}/decisions/{decision.pk}/vote",
        {"verdict": "object", "comment": too_long(COMMENT_MAX)},
    )
    assert resp.status_code == 400 and resp.content.decode().startswith("comment: ")
    call = open_call(team)
    client.force_login(team["rm"])
    resp = client.post(
        f"/releases/{rid}/rollback/{call.pk}/decide",
        {"choice": "roll_back", "rationale": too_long(RATIONALE_MAX)},
    )
    assert resp.status_code == 400
    assert resp.content.decode() == (
        f"rationale: is {RATIONALE_MAX + 1} characters long; the limit is {RATIONALE_MAX}"
    )


def test_each_bounded_text_field_has_its_limit_in_the_model():
    """The limits are the models' own (the migration records them)."""
    assert ChecklistItem._meta.get_field("note").max_length == NOTE_MAX
    assert ItemNote._meta.get_field("text").max_length == NOTE_MAX
    assert SignOff._meta.get_field("comment").max_length == COMMENT_MAX
    assert RollbackCall._meta.get_field("reason").max_length == REASON_MAX
    assert RollbackCall._meta.get_field("rationale").max_length == RATIONALE_MAX


def test_the_models_refuse_text_over_the_limit_on_every_database(team):
    """What a shell, the admin or a future code path saves is checked too (SQLite would
    store it; PostgreSQL would fail with a database error)."""
    item = team.item("DBA")
    item.note = too_long(NOTE_MAX)
    with pytest.raises(FieldError) as refused:
        item.save(update_fields=["note"])
    assert str(refused.value) == f"note: is {NOTE_MAX + 1} characters long; the limit is {NOTE_MAX}"
    with pytest.raises(FieldError, match="reason: is 2001 characters long; the limit is 2000"):
        RollbackCall.objects.create(
            release=team.release,
            reason=too_long(REASON_MAX),
            raised_at=team.release.go_live_at,
            decide_by=team.release.go_live_at,
        )
    release = Release.objects.get(pk=team.release.pk)
    release.name = "x" * 300
    with pytest.raises(FieldError, match="name: is 300 characters long; the limit is 200"):
        release.save()
    release.name = "Orbit\x00Payments"
    with pytest.raises(FieldError, match="NUL"):
        release.save(update_fields=["name"])
    person = Person.objects.get(user=team["dba"])
    person.phone = "+1" * 40
    with pytest.raises(FieldError, match=r"phone: .* the limit is 64"):
        person.save()
    assert Release.objects.get(pk=team.release.pk).name == "Orbit Payments"
    assert not RollbackCall.objects.exists()
