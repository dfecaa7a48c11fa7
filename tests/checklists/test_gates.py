"""Go / No-Go: sign-offs, decisions, consensus, the rollback clock."""

from datetime import timedelta

import pytest
from django.db import connection

from checklists import services
from checklists.models import ChecklistItem, Decision, Gate, SignOff
from checklists.selectors import gate_states
from deployments.models import WarIssue
from warroom import clock, policies
from warroom.audit import AuditEvent
from warroom.errors import FieldError
from warroom.people.models import Role

pytestmark = pytest.mark.django_db


def role(team, name):
    return Role.objects.get(release=team.release, name=name)


def state(team, kind="go_no_go"):
    return gate_states(team.release, [team.gate(kind).pk])[0]


def sign_all(team, verdict="approve"):
    gate = team.gate()
    for user, name in (("dba", "DBA"), ("qa", "QA Lead"), ("sec", "Security Engineer")):
        services.signoff_record(
            gate=gate,
            role=role(team, name),
            verdict=verdict,
            comment="" if verdict == "approve" else "not ready",
            user=team[user],
        )


def tick_gate_items(team):
    for item in team.gate().checklist.items.all():
        services.item_set_status(item=item, status="done", user=team["rm"])


def test_given_a_fresh_gate_go_is_blocked_and_the_panel_says_why(team):
    s = state(team)
    assert not s.can_go
    assert "2 go/no-go items unchecked" in s.blockers
    assert "sign-off missing: DBA, QA Lead, Security Engineer" in s.blockers
    with pytest.raises(FieldError) as err:
        services.decision_record(
            gate=team.gate(), outcome="go", rationale="ship it", user=team["vp"]
        )
    assert err.value.field == "outcome" and "DBA" in err.value.message
    assert not Decision.objects.exists()


def test_with_every_sign_off_and_item_the_vp_proposes_go_and_it_stands_when_the_rm_confirms(team):
    sign_all(team)
    tick_gate_items(team)
    assert state(team).can_go
    decision = services.decision_record(
        gate=team.gate(), outcome="go", rationale="All green", user=team["vp"]
    )
    assert decision.outcome == "go"
    assert [s["verdict"] for s in decision.snapshot["signoffs"]] == ["approve"] * 3
    assert all(i["status"] == "done" for i in decision.snapshot["items"])
    assert len(decision.snapshot_hash) == 64
    # "Release Manager + VP Engineering" decide: one of them alone only proposes.
    s = state(team)
    assert s.decision is None and s.proposal.decision == decision
    assert [r.name for r in s.proposal.awaiting] == ["Release Manager"]
    proposed = AuditEvent.objects.get(release=team.release, kind="decision.proposed")
    assert proposed.data["awaiting"] == ["Release Manager"]
    team.release.refresh_from_db()
    assert team.release.status == "planned"
    assert not AuditEvent.objects.filter(kind="decision.recorded").exists()

    services.decision_vote_record(decision=decision, verdict="confirm", user=team["rm"])
    s = state(team)
    assert s.decision == decision and s.proposal is None
    team.release.refresh_from_db()
    assert team.release.status == "in_progress"
    event = AuditEvent.objects.get(release=team.release, kind="decision.recorded")
    assert event.data["outcome"] == "go" and event.data["snapshot_hash"] == decision.snapshot_hash
    assert event.data["confirmed_by"] == [
        "Victor President (VP Engineering)",
        "Rita Manager (Release Manager)",
    ]


def test_a_backup_signs_on_behalf_of_the_primary(team):
    so = services.signoff_record(
        gate=team.gate(), role=role(team, "DBA"), verdict="approve", user=team["dba_backup"]
    )
    assert so.signer.name == "Derek Standby"
    assert so.on_behalf_of.name == "Dana Admin"
    event = AuditEvent.objects.get(release=team.release, kind="signoff.recorded")
    assert event.data["on_behalf_of"] == "Dana Admin"


def test_signing_off_for_a_role_you_do_not_hold_is_refused_and_audited(team):
    with pytest.raises(policies.Refused):
        services.signoff_record(
            gate=team.gate(), role=role(team, "DBA"), verdict="approve", user=team["qa"]
        )
    assert not SignOff.objects.exists()
    assert AuditEvent.objects.filter(kind="access.denied", actor=team["qa"]).count() == 1


def test_a_rejection_needs_a_reason_and_blocks_go(team):
    with pytest.raises(FieldError) as err:
        services.signoff_record(
            gate=team.gate(), role=role(team, "QA Lead"), verdict="reject", user=team["qa"]
        )
    assert err.value.field == "comment"
    sign_all(team)
    tick_gate_items(team)
    services.signoff_record(
        gate=team.gate(),
        role=role(team, "QA Lead"),
        verdict="reject",
        comment="3 smoke tests failing",
        user=team["qa"],
    )
    s = state(team)
    assert s.blockers == ["QA Lead rejected: 3 smoke tests failing"]
    with pytest.raises(FieldError):
        services.decision_record(gate=team.gate(), outcome="go", rationale="x", user=team["vp"])


def test_a_later_sign_off_supersedes_the_earlier_one_which_is_kept(team):
    first = services.signoff_record(
        gate=team.gate(),
        role=role(team, "QA Lead"),
        verdict="reject",
        comment="flaky",
        user=team["qa"],
    )
    second = services.signoff_record(
        gate=team.gate(),
        role=role(team, "QA Lead"),
        verdict="approve",
        comment="re-run green",
        user=team["qa"],
    )
    assert second.supersedes == first
    assert SignOff.objects.count() == 2
    assert state(team).rejecting == []


def test_sign_offs_and_decisions_cannot_be_edited_or_deleted(team):
    so = services.signoff_record(
        gate=team.gate(), role=role(team, "DBA"), verdict="approve", user=team["dba"]
    )
    so.comment = "changed"
    with pytest.raises(TypeError):
        so.save()
    with pytest.raises(TypeError):
        so.delete()
    assert SignOff.objects.get(pk=so.pk).comment == ""


def test_conditional_go_must_name_each_rejection_in_its_mitigations(team):
    sign_all(team)
    tick_gate_items(team)
    services.signoff_record(
        gate=team.gate(),
        role=role(team, "Security Engineer"),
        verdict="reject",
        comment="CVE pending",
        user=team["sec"],
    )
    with pytest.raises(FieldError) as err:
        services.decision_record(
            gate=team.gate(),
            outcome="conditional_go",
            rationale="proceed",
            mitigations=["watch error rate"],
            user=team["vp"],
        )
    assert err.value.field == "mitigations" and "Security Engineer" in err.value.message
    with pytest.raises(FieldError) as err:
        services.decision_record(
            gate=team.gate(),
            outcome="conditional_go",
            rationale="proceed",
            mitigations=[],
            user=team["vp"],
        )
    assert err.value.field == "mitigations"
    mitigation = "Security Engineer: WAF rule blocks the CVE path until patch"
    # Deciding over what stands open needs the decider to confirm it, having seen it.
    with pytest.raises(FieldError) as err:
        services.decision_record(
            gate=team.gate(),
            outcome="conditional_go",
            rationale="proceed with WAF rule",
            mitigations=[mitigation],
            user=team["vp"],
        )
    assert err.value.field == "confirm_open" and "CVE pending" in err.value.message
    d = services.decision_record(
        gate=team.gate(),
        outcome="conditional_go",
        rationale="proceed with WAF rule",
        mitigations=[mitigation],
        user=team["vp"],
        confirm_open=True,
    )
    assert d.outcome == "conditional_go" and len(d.mitigations) == 1


def test_no_go_takes_a_reason_and_an_optional_future_date(team):
    with pytest.raises(FieldError) as err:
        services.decision_record(gate=team.gate(), outcome="no_go", rationale="  ", user=team["vp"])
    assert err.value.field == "rationale"
    with pytest.raises(FieldError) as err:
        services.decision_record(
            gate=team.gate(),
            outcome="no_go",
            rationale="db not ready",
            new_date=clock.now() - timedelta(days=1),
            user=team["vp"],
        )
    assert err.value.field == "new_date" and "past" in err.value.message
    d = services.decision_record(
        gate=team.gate(),
        outcome="no_go",
        rationale="db not ready",
        new_date=clock.now() + timedelta(days=7),
        user=team["vp"],
    )
    assert d.new_date is not None
    team.release.refresh_from_db()
    assert team.release.status == "planned"


def test_deciding_twice_without_superseding_is_refused_and_superseding_keeps_both(team):
    first = services.decision_record(
        gate=team.gate(), outcome="no_go", rationale="not ready", user=team["vp"]
    )
    with pytest.raises(services.DecisionConflict):
        services.decision_record(
            gate=team.gate(), outcome="no_go", rationale="again", user=team["rm"]
        )
    sign_all(team)
    tick_gate_items(team)
    second = services.decision_record(
        gate=team.gate(), outcome="go", rationale="fixed", supersedes=first.pk, user=team["rm"]
    )
    assert second.supersedes == first
    assert state(team).latest.decision == second
    services.decision_vote_record(decision=second, verdict="confirm", user=team["vp"])
    assert state(team).decision == second


def test_a_quorum_gate_goes_with_enough_approvals(team):
    gate = team.gate()
    Gate.objects.filter(pk=gate.pk).update(consensus="quorum", quorum=2)
    tick_gate_items(team)
    for user, name in (("dba", "DBA"), ("qa", "QA Lead")):
        services.signoff_record(
            gate=gate, role=role(team, name), verdict="approve", user=team[user]
        )
    assert state(team).can_go


def test_an_open_critical_issue_blocks_go(team):
    sign_all(team)
    tick_gate_items(team)
    WarIssue.objects.create(
        release=team.release, title="Payments 500s", severity="critical", opened_at=clock.now()
    )
    assert state(team).blockers == ["1 critical issue open"]


def test_a_rollback_trigger_starts_a_five_minute_clock_and_is_decided_with_who_and_why(team):
    call = services.rollback_raise(
        release=team.release, reason="error rate 2.4% for 6 min", user=team["devops"]
    )
    assert (call.decide_by - call.raised_at) == timedelta(minutes=5)
    with pytest.raises(FieldError):
        services.rollback_raise(release=team.release, reason="again", user=team["dba"])
    with pytest.raises(FieldError) as err:
        services.rollback_decide(call=call, choice="roll_back", rationale="", user=team["vp"])
    assert err.value.field == "rationale"
    decided = services.rollback_decide(
        call=call, choice="roll_back", rationale="errors climbing", user=team["vp"]
    )
    assert decided.decided_by == team["vp"] and decided.choice == "roll_back"
    kinds = list(AuditEvent.objects.filter(release=team.release).values_list("kind", flat=True))
    assert kinds[-2:] == ["rollback.raised", "rollback.decided"]


@pytest.mark.django_db(transaction=True)
def test_two_authorities_deciding_go_at_the_same_moment_yield_exactly_one_decision():
    import threading

    from tests.factories import team_release

    team = team_release()
    sign_all(team)
    tick_gate_items(team)
    barrier = threading.Barrier(2)
    results = []

    def decide(username):
        from django.db import connection as conn

        barrier.wait()
        try:
            d = services.decision_record(
                gate=Gate.objects.get(pk=team.gate().pk),
                outcome="go",
                rationale=f"go from {username}",
                user=team[username],
            )
            results.append(("ok", d.pk))
        except FieldError as exc:
            results.append(("refused", exc.field))
        finally:
            conn.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in ("vp", "rm")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert Decision.objects.filter(gate=team.gate()).count() == 1
    assert AuditEvent.objects.filter(release=team.release, kind="decision.proposed").count() == 1


def test_verify_audit_finds_a_row_changed_with_raw_sql(team, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for item in ChecklistItem.objects.filter(checklist__release=team.release)[:4]:
        services.item_set_status(item=item, status="done", user=team["rm"])
    call_command("verify_audit", release=team.release.pk)
    assert "chain intact" in capsys.readouterr().out
    table = AuditEvent._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET actor_label = %s WHERE release_id = %s AND seq = 3",
            ["Mallory", team.release.pk],
        )
    with pytest.raises(CommandError) as err:
        call_command("verify_audit", release=team.release.pk)
    assert "first bad sequence number 3" in str(err.value)


def test_verify_audit_finds_a_row_removed_with_raw_sql(team):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for item in ChecklistItem.objects.filter(checklist__release=team.release)[:4]:
        services.item_set_status(item=item, status="done", user=team["rm"])
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE release_id = %s AND seq = 2",
            [team.release.pk],
        )
    with pytest.raises(CommandError) as err:
        call_command("verify_audit", release=team.release.pk)
    assert "first bad sequence number 2" in str(err.value)


def test_verify_audit_finds_the_last_row_removed(team):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for item in ChecklistItem.objects.filter(checklist__release=team.release)[:3]:
        services.item_set_status(item=item, status="done", user=team["rm"])
    team.release.refresh_from_db()
    last = team.release.last_seq
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE release_id = %s AND seq = %s",
            [team.release.pk, last],
        )
    with pytest.raises(CommandError) as err:
        call_command("verify_audit", release=team.release.pk)
    assert f"first bad sequence number {last}" in str(err.value)


def test_a_decision_can_be_shown_later_exactly_as_it_was(api, team):
    import hashlib

    from warroom.audit import canonical_json

    sign_all(team)
    tick_gate_items(team)
    d = services.decision_record(
        gate=team.gate(), outcome="go", rationale="All green", user=team["vp"]
    )
    # Later changes do not touch what the decision recorded.
    services.signoff_record(
        gate=team.gate(),
        role=role(team, "QA Lead"),
        verdict="reject",
        comment="late finding",
        user=team["qa"],
    )
    resp = api(team["pm"]).get(f"/api/releases/{team.release.pk}/gates/{team.gate().pk}/decisions")
    assert resp.status_code == 200
    [shown] = resp.json()
    assert shown["snapshot"] == d.snapshot
    assert [s["verdict"] for s in shown["snapshot"]["signoffs"]] == ["approve"] * 3
    assert (
        shown["snapshot_hash"]
        == hashlib.sha256(canonical_json(shown["snapshot"]).encode()).hexdigest()
    )


# --- decisions that take the people they name --------------------------------------
def go_ready(team):
    sign_all(team)
    tick_gate_items(team)


def test_an_objection_ends_the_proposal_and_a_new_one_supersedes_it(team):
    go_ready(team)
    proposal = services.decision_record(
        gate=team.gate(), outcome="go", rationale="All green", user=team["rm"]
    )
    with pytest.raises(FieldError) as err:
        services.decision_vote_record(decision=proposal, verdict="object", user=team["vp"])
    assert err.value.field == "comment"
    services.decision_vote_record(
        decision=proposal, verdict="object", comment="wait for the DB replica", user=team["vp"]
    )
    s = state(team)
    assert s.decision is None and s.objected.objection.comment == "wait for the DB replica"
    # No more answers to an objected proposal; a new proposal supersedes it.
    with pytest.raises(services.Conflict):
        services.decision_vote_record(decision=proposal, verdict="confirm", user=team["rm"])
    again = services.decision_record(
        gate=team.gate(),
        outcome="go",
        rationale="replica caught up",
        supersedes=proposal.pk,
        user=team["vp"],
    )
    services.decision_vote_record(decision=again, verdict="confirm", user=team["rm"])
    assert state(team).decision == again
    kinds = AuditEvent.objects.filter(release=team.release, kind__startswith="decision.")
    assert list(kinds.order_by("seq").values_list("kind", flat=True)) == [
        "decision.proposed",
        "decision.voted",
        "decision.proposed",
        "decision.voted",
        "decision.recorded",
    ]


def test_a_gate_that_says_any_one_of_is_decided_by_one(team):
    Gate.objects.filter(pk=team.gate().pk).update(decision_rule="any")
    go_ready(team)
    d = services.decision_record(gate=team.gate(), outcome="go", rationale="ok", user=team["rm"])
    assert state(team).decision == d
    assert AuditEvent.objects.filter(kind="decision.recorded").count() == 1


def test_one_person_holding_both_decision_roles_cannot_decide_alone(team):
    from warroom.people.models import Assignment

    rm_person = team["rm"].person
    Assignment.objects.create(role=role(team, "VP Engineering"), person=rm_person, kind="backup")
    go_ready(team)
    d = services.decision_record(gate=team.gate(), outcome="go", rationale="ok", user=team["rm"])
    with pytest.raises(services.Conflict) as err:
        services.decision_vote_record(decision=d, verdict="confirm", user=team["rm"])
    assert "another person" in err.value.message
    assert state(team).decision is None
    services.decision_vote_record(decision=d, verdict="confirm", user=team["vp"])
    assert state(team).decision == d


def test_a_go_cannot_be_confirmed_over_a_blocker_that_appeared_since(team):
    go_ready(team)
    d = services.decision_record(gate=team.gate(), outcome="go", rationale="ok", user=team["vp"])
    services.signoff_record(
        gate=team.gate(),
        role=role(team, "QA Lead"),
        verdict="reject",
        comment="smoke test 14 fails",
        user=team["qa"],
    )
    with pytest.raises(FieldError) as err:
        services.decision_vote_record(decision=d, verdict="confirm", user=team["rm"])
    assert "smoke test 14 fails" in err.value.message
    assert state(team).decision is None


def test_only_the_gates_decision_roles_answer_a_proposal(team):
    go_ready(team)
    d = services.decision_record(gate=team.gate(), outcome="go", rationale="ok", user=team["vp"])
    with pytest.raises(policies.Refused):
        services.decision_vote_record(decision=d, verdict="confirm", user=team["dba"])
    assert AuditEvent.objects.filter(kind="access.denied", actor=team["dba"]).count() == 1


def test_in_the_browser_conditional_go_over_open_blockers_asks_to_confirm_them_first(client, team):
    sign_all(team)
    tick_gate_items(team)
    services.signoff_record(
        gate=team.gate(),
        role=role(team, "Security Engineer"),
        verdict="reject",
        comment="CVE pending",
        user=team["sec"],
    )
    client.force_login(team["vp"])
    url = f"/releases/{team.release.pk}/gates/{team.gate().pk}/decide"
    form = {
        "outcome": "conditional_go",
        "rationale": "WAF rule in place",
        "mitigations": "Security Engineer: WAF blocks the CVE path",
    }
    first = client.post(url, form, headers={"HX-Request": "true"})
    assert first.status_code == 200 and not Decision.objects.exists()
    page = first.content.decode()
    assert "CONDITIONAL GO while these stand open" in page and "CVE pending" in page
    assert 'name="confirm_open" value="1"' in page and 'value="WAF rule in place"' in page
    second = client.post(url, {**form, "confirm_open": "1"}, headers={"HX-Request": "true"})
    assert second.status_code == 200
    assert Decision.objects.get().outcome == "conditional_go"
