"""Email through Django's SMTP backend to a real SMTP server (aiosmtpd) on loopback, the
unsubscribe link, self-subscription, and the release manager's comms page."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from notifications.models import CommsRule, Delivery, Message, Subscriber
from tests.conftest import free_port
from tests.notifications.conftest import drain
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from tests.notifications.test_transports import EVERY_15, updates
from warroom import clock, events
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db

ROLLBACK = [("Rollback notice", None, None, "rollback", ["email"], "All stakeholders")]


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: set[str] = set()
        self.peers: set = set()  # one per SMTP connection that sent mail

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), parsed))
        self.peers.add(tuple(session.peer))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_ENABLED = True
    settings.WARROOM_BASE_URL = "http://testserver"
    yield inbox
    controller.stop()


def test_email_goes_to_each_stakeholder_with_html_text_and_an_unsubscribe_link(smtp, client):
    now = clock.now()
    team = make(go_live_at=now + H, rules=ROLLBACK)
    events.record(team.release, "rollback.raised", data={"reason": "errors"})
    drain(now)
    assert [to for to, _ in smtp.mails] == [["pm@orbit.example"]]  # the stakeholder, once
    _, mail = smtp.mails[0]
    assert "Rollback notice" in mail["Subject"]
    assert mail.get_body("plain") is not None and mail.get_body("html") is not None
    d = Delivery.objects.get()
    assert d.state == "sent" and d.remote_id == mail["Message-ID"]
    link = re.search(r"http://testserver(/comms/unsubscribe/[^/]+/)", mail["List-Unsubscribe"])
    assert link and link.group(1) in mail.get_body("plain").get_content()
    page = client.get(link.group(1))  # a link scanner's GET changes nothing
    assert page.status_code == 200 and not Subscriber.objects.exists()
    assert client.post(link.group(1)).status_code == 200
    assert Subscriber.objects.get(email="pm@orbit.example").active is False
    assert client.post("/comms/unsubscribe/forged-token/").status_code == 400
    events.record(team.release, "rollback.decided", data={"choice_label": "roll back"})
    drain(now)
    assert len(smtp.mails) == 1  # she left: nothing more for her


def test_self_subscription_and_a_refused_recipient(smtp, client):
    now = clock.now()
    team = make(go_live_at=now + H, rules=ROLLBACK)
    client.force_login(team["dba"])
    url = f"/releases/{team.release.pk}/comms/subscribe"
    assert client.post(url, {"email": "not-an-address"}).status_code == 400
    assert client.post(url, {"email": "Dana.Ops@Orbit.example"}).status_code == 302
    smtp.refuse.add("pm@orbit.example")
    events.record(team.release, "rollback.raised", data={"reason": "latency"})
    drain(now)
    assert [to for to, _ in smtp.mails] == [["dana.ops@orbit.example"]]
    refused = Delivery.objects.get(target="pm@orbit.example")
    assert refused.state == "failed" and "refused" in refused.last_error


def test_the_release_manager_previews_edits_sends_now_and_skips(client):
    start = clock.now().replace(microsecond=0)
    with clock.frozen_at(start):
        team = make(go_live_at=start + 3 * H, rules=EVERY_15)
    release = team.release
    rule = CommsRule.objects.get(release=release)
    client.force_login(team["rm"])
    page = client.get(f"/releases/{release.pk}/comms/")
    text = page.content.decode()
    assert "Next status update" in text and "Deployment status update" in text
    assert "Progress: 0%" in text and "Send now" in text
    url = f"/releases/{release.pk}/comms/rules/{rule.pk}/next"
    # Skip the next one: recorded, and the one after is next.
    due = rule.next_due_at
    assert client.post(url, {"do": "skip"}).status_code == 302
    rule.refresh_from_db()
    assert rule.next_due_at == due + timedelta(minutes=15)
    assert AuditEvent.objects.filter(release=release, kind="comms.skipped").count() == 1
    # Edit the next one: it says what the release manager wrote, once.
    client.post(url, {"do": "save", "text": "Database migration running long; next in 15."})
    updates(release, [rule.next_due_at])
    edited = Message.objects.get(release=release)
    assert edited.body == "Database migration running long; next in 15." and edited.composed
    # Send now: a message at once, the schedule unchanged.
    assert client.post(url, {"do": "send"}).status_code == 302
    assert Message.objects.filter(release=release, cause="sent by hand").count() == 1
    assert client.post(url, {"do": "dance"}).status_code == 400
    # Someone who may not edit the plan sees the page but not the buttons, and is refused.
    client.force_login(team["dba"])
    assert "Send now" not in client.get(f"/releases/{release.pk}/comms/").content.decode()
    assert client.post(url, {"do": "send"}).status_code == 403
    assert Message.objects.filter(release=release, cause="sent by hand").count() == 1


def test_the_release_manager_changes_a_rule_and_bad_input_names_the_field(client):
    team = make(go_live_at=clock.now() + 3 * H, rules=EVERY_15)
    rule = CommsRule.objects.get(release=team.release)
    client.force_login(team["rm"])
    url = f"/releases/{team.release.pk}/comms/rules/{rule.pk}"
    bad = client.post(url, {"channels": "slack, carrier pigeon", "audience": "x"})
    assert bad.status_code == 400 and "channels: unknown channel" in bad.content.decode()
    ok = client.post(url, {"channels": "slack, email", "audience": "Everyone", "enabled": "on"})
    assert ok.status_code == 302
    rule.refresh_from_db()
    assert rule.channels == ["slack", "email"] and rule.audience == "Everyone"
