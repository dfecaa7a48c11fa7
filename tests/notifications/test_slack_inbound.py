"""Slack in: the /warroom slash command and the buttons, signed by Slack, answered at
once and worked after, through the same services and policy table as the browser."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from checklists.models import ChecklistItem, SignOff
from deployments.models import WarIssue
from notifications import slack_inbound
from notifications.escalation_models import Escalation, EscalationStep, Page
from notifications.models import SlackRefusal, SlackRequest
from tests.factories import team_release
from warroom import clock
from warroom.audit import AuditEvent
from warroom.people.models import Person

pytestmark = pytest.mark.django_db
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_triggers = itertools.count(1)


@pytest.fixture
def slack_in(settings, slack):
    settings.SLACK_COMMANDS_ENABLED = True
    settings.SLACK_SIGNING_SECRET = SECRET
    team = team_release()
    # Slack handles as people set them: a user id, a name with or without "@".
    for username, handle in (("dba", "U0DBA"), ("qa", "@quinn"), ("pm", "paula"), ("rm", "U0RM")):
        Person.objects.filter(user=team[username]).update(slack_handle=handle)
    return team


def signed(body: bytes, *, ts: int | None = None, secret: str = SECRET, retry: str = ""):
    ts = int(clock.now().timestamp()) if ts is None else ts
    headers = {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(ts),
        "HTTP_X_SLACK_SIGNATURE": slack_inbound.signature_of(secret, str(ts), body),
    }
    if retry:
        headers["HTTP_X_SLACK_RETRY_NUM"] = retry
    return headers


def command_body(slack, text: str, *, user="U0DBA", name="dana", trigger: str = "") -> bytes:
    trigger = trigger or f"trig.{next(_triggers)}"
    return urlencode(
        {
            "command": "/warroom",
            "text": text,
            "user_id": user,
            "user_name": name,
            "trigger_id": trigger,
            "response_url": slack.response_url(trigger),
            "team_id": "T0001",
        }
    ).encode()


def action_body(slack, action_id: str, value: str, *, user="U0X", name="", trigger="") -> bytes:
    trigger = trigger or f"trig.{next(_triggers)}"
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": name},
        "trigger_id": trigger,
        "response_url": slack.response_url(trigger),
        "actions": [{"action_id": action_id, "value": value, "action_ts": "1.2"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(client, path: str, body: bytes, **headers):
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded", **headers)


def run_pending() -> list[str]:
    """What a worker does with the handed-over requests."""
    pending = SlackRequest.objects.filter(state="pending").order_by("id")
    return [slack_inbound.perform(pk) for pk in pending.values_list("pk", flat=True)]


def test_tick_by_slash_command_is_acknowledged_first_then_done_and_answered(
    slack_in, slack, client
):
    item = slack_in.item("DBA")
    body = command_body(slack, f"tick #{item.pk}")
    answer = post(client, "/slack/commands", body, **signed(body))
    assert answer.status_code == 200
    assert answer.json()["response_type"] == "ephemeral"
    item.refresh_from_db()
    assert item.status == "todo"  # acknowledged now, worked after
    assert run_pending() == [f"Ticked #{item.pk} “{item.text}” on {slack_in.release.name}."]
    item.refresh_from_db()
    assert item.status == ChecklistItem.Status.DONE
    assert item.changed_by == slack_in["dba"]
    event = AuditEvent.objects.filter(release=slack_in.release, kind="item.status").get()
    assert event.actor == slack_in["dba"]
    assert [r["text"] for r in slack.responses] == [
        f"Ticked #{item.pk} “{item.text}” on {slack_in.release.name}."
    ]
    assert slack.responses[0]["response_type"] == "ephemeral"
    assert SlackRequest.objects.get().answered


def test_tick_by_words_names_the_matches_when_more_than_one(slack_in, slack, client):
    body = command_body(slack, "tick verify backup")
    post(client, "/slack/commands", body, **signed(body))
    (text,) = run_pending()
    assert text.startswith("Not done: item: “verify backup” matches more than one item: #")
    body = command_body(slack, "tick Verify backup 2")
    post(client, "/slack/commands", body, **signed(body))
    run_pending()
    assert slack_in.item("DBA", text="Verify backup 2").status == "done"


def test_slack_retry_is_a_no_op_and_a_replay_is_refused_and_audited(slack_in, slack, client):
    item = slack_in.item("DBA")
    body = command_body(slack, f"tick #{item.pk}", trigger="trig.same")
    assert post(client, "/slack/commands", body, **signed(body)).status_code == 200
    run_pending()
    # Slack thought we timed out: the same command again, signed anew, with the header.
    later = int(clock.now().timestamp()) + 2
    again = post(client, "/slack/commands", body, **signed(body, ts=later, retry="1"))
    assert again.status_code == 200 and again.content == b""
    assert run_pending() == []
    # The very same request sent again by someone else, without Slack's retry header.
    replay = post(client, "/slack/commands", body, **signed(body))
    assert replay.status_code == 401
    assert SlackRequest.objects.count() == 1
    assert AuditEvent.objects.filter(release=slack_in.release, kind="item.status").count() == 1
    assert len(slack.responses) == 1
    refusal = SlackRefusal.objects.get()
    assert refusal.reason == "replayed request"
    assert refusal.body_sha256 == hashlib.sha256(body).hexdigest()
    assert refusal.body_length == len(body)
    stored = " ".join(str(v) for v in SlackRefusal.objects.values().get().values())
    assert "tick" not in stored and "U0DBA" not in stored  # nothing of what it said


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("wrong secret", "bad signature"),
        ("six minutes old", "timestamp outside the 300 s window"),
        ("six minutes ahead", "timestamp outside the 300 s window"),
        ("no signature", "bad signature"),
        ("no timestamp", "missing or malformed X-Slack-Request-Timestamp"),
        ("body changed", "bad signature"),
    ],
)
def test_forged_or_stale_requests_are_refused_and_recorded(slack_in, slack, client, how, reason):
    item = slack_in.item("DBA")
    body = command_body(slack, f"tick #{item.pk}")
    now = int(clock.now().timestamp())
    headers = {
        "wrong secret": signed(body, secret="not-the-secret"),
        "six minutes old": signed(body, ts=now - 360),
        "six minutes ahead": signed(body, ts=now + 360),
        "no signature": {"HTTP_X_SLACK_REQUEST_TIMESTAMP": str(now)},
        "no timestamp": {"HTTP_X_SLACK_SIGNATURE": signed(body)["HTTP_X_SLACK_SIGNATURE"]},
        "body changed": signed(body),
    }[how]
    sent = body.replace(b"tick", b"tock") if how == "body changed" else body
    answer = post(client, "/slack/commands", sent, **headers)
    assert answer.status_code == 401
    assert SlackRequest.objects.count() == 0
    assert list(SlackRefusal.objects.values_list("reason", "path")) == [(reason, "/slack/commands")]
    item.refresh_from_db()
    assert item.status == "todo"


def test_a_request_inside_the_window_is_accepted_with_the_clock_moved(slack_in, slack, client):
    body = command_body(slack, "status")
    headers = signed(body, ts=int(clock.now().timestamp()) - 290)
    assert post(client, "/slack/commands", body, **headers).status_code == 200


def test_turned_off_says_so(slack_in, slack, client, settings):
    settings.SLACK_COMMANDS_ENABLED = False
    body = command_body(slack, "status")
    answer = post(client, "/slack/commands", body, **signed(body))
    assert answer.status_code == 404
    assert b"SLACK_COMMANDS_ENABLED" in answer.content


def test_policy_table_applies_to_slack_as_to_the_browser(slack_in, slack, client):
    item = slack_in.item("DBA")
    body = command_body(slack, f"tick #{item.pk}", user="U0PM", name="paula")  # a stakeholder
    post(client, "/slack/commands", body, **signed(body))
    (text,) = run_pending()
    assert text == (
        "Not done: only the item's owner role, its backups and the release manager may change it"
    )
    denied = AuditEvent.objects.get(release=slack_in.release, kind="access.denied")
    assert denied.actor == slack_in["pm"]
    item.refresh_from_db()
    assert item.status == "todo"


def test_unknown_slack_user_is_told_how_to_get_linked(slack_in, slack, client):
    body = command_body(slack, "status", user="U0STRANGER", name="stranger")
    post(client, "/slack/commands", body, **signed(body))
    (text,) = run_pending()
    assert "your Slack account (stranger) is not linked to a Warroom person" in text


def test_issue_command_reports_through_the_issue_service(slack_in, slack, client):
    body = command_body(slack, "issue high Checkout answers 502 in eu-west")
    post(client, "/slack/commands", body, **signed(body))
    (text,) = run_pending()
    issue = WarIssue.objects.get(release=slack_in.release)
    assert (issue.severity, issue.title, issue.source) == (
        "high",
        "Checkout answers 502 in eu-west",
        "slack",
    )
    assert issue.opened_by == slack_in["dba"]
    assert text == f"Issue {issue.priority} #{issue.pk} reported on {slack_in.release.name}: " + (
        "Checkout answers 502 in eu-west"
    )
    body = command_body(slack, "issue dire Everything")
    post(client, "/slack/commands", body, **signed(body))
    (text,) = run_pending()
    assert text.startswith("Not done: ") and "severity" in text.lower()
    assert WarIssue.objects.count() == 1


def test_status_and_next_answer_from_live_state(slack_in, slack, client):
    body = command_body(slack, f"{slack_in.release.pk} status")
    post(client, "/slack/commands", body, **signed(body))
    body = command_body(slack, "next")
    post(client, "/slack/commands", body, **signed(body))
    body = command_body(slack, "dance")
    post(client, "/slack/commands", body, **signed(body))
    status, mine, usage = run_pending()
    assert status.startswith("*Deployment status update — Orbit Payments v4.2.0*")
    assert "Progress: 0%" in status
    assert mine.startswith(f"Your next items on {slack_in.release.name}:")
    assert "Verify backup 1" in mine and "Deploy region" not in mine
    assert usage == slack_inbound.USAGE


def test_sign_off_button_signs_for_the_role_the_presser_holds(slack_in, slack, client):
    gate = slack_in.gate()
    qa = slack_in.release.roles.get(name="QA Lead")
    value = f"{slack_in.release.pk}:{gate.pk}:{qa.pk}"
    body = action_body(slack, slack_inbound.SIGN_OFF, value, user="U0QA", name="quinn")
    answer = post(client, "/slack/actions", body, **signed(body))
    assert answer.status_code == 200 and answer.content == b""
    # The DBA presses the same button: not their role.
    body = action_body(slack, slack_inbound.SIGN_OFF, value, user="U0DBA", name="dana")
    post(client, "/slack/actions", body, **signed(body))
    ok, refused = run_pending()
    assert ok == f"Signed off {gate.name} for QA Lead on {slack_in.release.name}."
    assert refused == "Not done: only a holder of this role (or its backup) may sign off for it"
    signoff = SignOff.objects.get(required__gate=gate)
    assert (signoff.required.role, signoff.verdict, signoff.signed_by) == (
        qa,
        "approve",
        slack_in["qa"],
    )


def test_acknowledge_button_stops_the_issue_escalation(slack_in, slack, client):
    from deployments import issues

    issue = issues.issue_report(
        release=slack_in.release, user=slack_in["dba"], title="DB lag", severity="critical"
    )
    esc = Escalation.objects.get(issue=issue)
    now = clock.now()
    step = EscalationStep.objects.create(escalation=esc, level=1, due_at=now, fired_at=now)
    page = Page.objects.create(
        release=slack_in.release,
        step=step,
        person_name="Rita Manager",
        text="P1 DB lag",
        dedup_key="test:page:1",
        created_at=now,
    )
    button = slack_inbound.ack_page_button(page)
    body = action_body(slack, button["action_id"], button["value"], user="U0RM")
    post(client, "/slack/actions", body, **signed(body))
    (text,) = run_pending()
    assert text == f"Acknowledged {issue.priority} DB lag on {slack_in.release.name}."
    issue.refresh_from_db()
    esc.refresh_from_db()
    assert issue.acknowledged_by == "rm" or issue.acknowledged_by.startswith("Rita")
    assert esc.stopped_at is not None


def test_lost_hand_over_or_answer_is_picked_up_by_the_sweep(slack_in, slack, client, settings):
    slack.stop()  # Slack's answer endpoint is away
    body = command_body(slack, "status")
    post(client, "/slack/commands", body, **signed(body))
    row = SlackRequest.objects.get()
    with clock.frozen_at(row.received_at + timedelta(seconds=5)):
        assert slack_inbound.pending(clock.now()) == []  # inside the grace period
    slack_inbound.perform(row.pk)
    row.refresh_from_db()
    assert (row.state, row.answered) == ("done", False)
    later = row.received_at + timedelta(seconds=settings.COMMS_SWEEP_GRACE_SECONDS + 1)
    with clock.frozen_at(later):
        assert slack_inbound.pending(clock.now()) == [row.pk]
    with clock.frozen_at(row.received_at + timedelta(minutes=26)):
        assert slack_inbound.pending(clock.now()) == []  # Slack no longer takes an answer


def _posted_buttons(slack) -> list[list[dict]]:
    """The buttons of each message posted to the channel (its actions block)."""
    return [
        [e for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]]
        for m in slack.messages
    ]


def test_channel_messages_carry_sign_off_and_war_room_buttons_that_work(slack_in, slack, client):
    from notifications import outbox
    from tests.notifications.conftest import drain

    release = slack_in.release

    def say(n: int) -> None:
        outbox.write(
            release, rule=None, key=f"t:{n}", cause="test", due_at=clock.now(),
            title="Your decision is needed", text="Go/No-Go at T-30m", channels=["slack"],
        )  # fmt: skip
        drain()

    say(1)
    (buttons,) = _posted_buttons(slack)
    signs = [b for b in buttons if b["action_id"] == slack_inbound.SIGN_OFF]
    assert [b["text"]["text"] for b in signs] == [
        "Sign off Go/No-Go (DBA)",
        "Sign off Go/No-Go (QA Lead)",
        "Sign off Go/No-Go (Security Engineer)",
        "Sign off Final go-live approval (QA Lead)",
    ]
    room = buttons[-1]
    assert room["action_id"] == slack_inbound.OPEN_WAR_ROOM
    assert room["url"].endswith(f"/releases/{release.pk}/")

    # The QA lead presses their button on the message: signed off, as in the browser.
    qa_go = signs[1]
    body = action_body(slack, qa_go["action_id"], qa_go["value"], user="U0QA", name="quinn")
    assert post(client, "/slack/actions", body, **signed(body)).status_code == 200
    # Opening the war room is a link: Slack tells us, and nothing is done or answered.
    body = action_body(slack, room["action_id"], room["value"], user="U0NOBODY")
    assert post(client, "/slack/actions", body, **signed(body)).status_code == 200
    assert run_pending() == [f"Signed off Go/No-Go for QA Lead on {release.name}.", ""]
    assert SignOff.objects.filter(required__gate__name="Go/No-Go").count() == 1
    assert SlackRequest.objects.filter(answered=False).count() == 0

    # The next message no longer offers what is done.
    say(2)
    later = [b["text"]["text"] for b in _posted_buttons(slack)[1]]
    assert later == [
        "Sign off Go/No-Go (DBA)",
        "Sign off Go/No-Go (Security Engineer)",
        "Sign off Final go-live approval (QA Lead)",
        "Open war room",
    ]
