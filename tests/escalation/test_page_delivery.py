"""Pages reach people: each level's page goes out through the comms outbox as a Slack
direct message (``conversations.open`` + ``chat.postMessage``, against a local server
speaking Slack's Web API) and an email (a real SMTP server, aiosmtpd) — exactly once,
whatever the far ends answer in between."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from deployments import issues
from notifications import escalation
from notifications.escalation_models import Page
from notifications.models import Delivery, Message
from tests.escalation.helpers import SLACK_DIRECTORY, escalation_release, on_slack
from tests.notifications.conftest import drain, slack  # noqa: F401  (fixture)
from tests.notifications.test_email_and_page import smtp  # noqa: F401  (fixture)
from warroom import clock
from warroom.people.models import Person

pytestmark = pytest.mark.django_db


def report(team, title="Checkout 502s"):
    start = clock.now()
    with clock.frozen_at(start):
        issue = issues.issue_report(
            release=team.release, user=team["qa"], title=title, severity="critical"
        )
    return issue, start


def mails_to(inbox) -> Counter:
    return Counter(to for tos, _ in inbox.mails for to in tos)


def test_each_level_pages_its_people_by_slack_dm_and_email_once(slack, smtp):  # noqa: F811
    team = escalation_release()
    on_slack(team.release)
    slack.users.update(SLACK_DIRECTORY)
    issue, start = report(team)
    # Slack accepts the first DM and answers 500; the next is rate limited; the SMTP
    # server is fine: every page still arrives once.
    slack.inject("500-after", "429")
    for minute in (0, 15, 30):
        escalation.escalate_due(start + timedelta(minutes=minute, seconds=1))
        escalation.escalate_due(start + timedelta(minutes=minute, seconds=2))  # a second tick
    drain(start + timedelta(minutes=31))

    # Level 1 Devi Ops, level 2 Dana Admin, level 3 Rita Manager + Victor President.
    assert slack.direct_messages() == {
        "UDEVI0001": Counter({f"page:warroom-{team.release.pk}-issue:{issue.pk}-L1-P"
                              f"{person('Devi Ops').pk}|slack_dm|UDEVI0001": 1}),
        "UDANA0001": Counter({f"page:warroom-{team.release.pk}-issue:{issue.pk}-L2-P"
                              f"{person('Dana Admin').pk}|slack_dm|dba@orbit.example": 1}),
        "URITA0001": Counter({f"page:warroom-{team.release.pk}-issue:{issue.pk}-L3-P"
                              f"{person('Rita Manager').pk}|slack_dm|URITA0001": 1}),
        "UVICT0001": Counter({f"page:warroom-{team.release.pk}-issue:{issue.pk}-L3-P"
                              f"{person('Victor President').pk}|slack_dm|vp@orbit.example": 1}),
    }  # fmt: skip
    assert mails_to(smtp) == {
        "devops@orbit.example": 1, "dba@orbit.example": 1,
        "rm@orbit.example": 1, "vp@orbit.example": 1,
    }  # fmt: skip
    assert slack.calls["chat.postMessage"] == 5  # the 500 after accepting, the 429, 3 more
    dm = next(m for m in slack.messages if m["channel"] == "DUDANA0001")
    assert "Level 2 page: P1 Checkout 502s" in dm["text"] and "escalated to level 2" in dm["text"]
    _, mail = next(m for m in smtp.mails if m[0] == ["dba@orbit.example"])
    assert mail["Subject"] == "Level 2 page: P1 Checkout 502s"
    assert "List-Unsubscribe" not in mail  # a page is for the person on duty
    assert Page.objects.count() == Message.objects.filter(cause="page").count() == 4
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    # The DM accepted before the 500 was found on the retry, not posted again (the 429
    # was waited out inside its attempt, as Slack's Retry-After says).
    tries = Delivery.objects.filter(channel="slack_dm").values_list("attempts", flat=True)
    assert sorted(tries) == [1, 1, 1, 2]


def person(name: str) -> Person:
    return Person.objects.filter(name=name).order_by("-pk").first()


def test_someone_slack_cannot_reach_gets_the_email_and_the_failure_is_shown(slack, smtp):  # noqa: F811
    team = escalation_release()
    on_slack(team.release)  # the directory does not know "@dana": users.lookupByEmail fails
    Person.objects.filter(name="Devi Ops").update(slack_handle="@devi", email="")
    _, start = report(team)
    escalation.escalate_due(start + timedelta(minutes=15, seconds=1))
    drain(start + timedelta(minutes=16))

    devi = Delivery.objects.get(message__audience="Devi Ops")
    assert devi.state == "failed"
    assert devi.last_error == "no Slack user ID, and no email to look the user up by"
    dana = Delivery.objects.get(message__audience="Dana Admin", channel="slack_dm")
    assert (dana.state, dana.last_error) == ("failed", "Slack refused: users_not_found")
    assert dana.attempts == 1  # refused for good: not retried
    assert mails_to(smtp) == {"dba@orbit.example": 1}  # the email still went
    assert slack.messages == []


def test_pages_wait_for_slack_to_be_turned_on_as_failed_deliveries_not_silence(settings, smtp):  # noqa: F811
    settings.SLACK_ENABLED = False
    team = escalation_release()
    on_slack(team.release)
    _, start = report(team)
    escalation.escalate_due(start + timedelta(seconds=1))
    drain(start + timedelta(minutes=1))
    dm = Delivery.objects.get(channel="slack_dm")
    assert (dm.state, dm.last_error) == ("failed", "slack is turned off (SLACK_ENABLED)")
    assert mails_to(smtp) == {"devops@orbit.example": 1}


def test_an_email_page_cut_off_mid_send_is_known_when_taken_up_again(smtp, settings):  # noqa: F811
    """A worker that dies during the SMTP conversation (or after the server's answer and
    before our commit) leaves its attempt's stamp: the delivery taken up again after the
    lease runs out is counted interrupted, and the mail sent again carries the same
    Message-ID and says it is a resend."""
    from notifications import delivery, outbox
    from notifications.transports.email import message_id

    team = escalation_release()
    _, start = report(team)
    escalation.escalate_due(start + timedelta(seconds=1))  # level 1: Devi Ops, by email
    page = Delivery.objects.get(channel="email")
    assert (page.attempts, page.sending_since, page.interrupted) == (0, None, 0)
    # The worker claims it (committed before it speaks SMTP) and dies there.
    with clock.frozen_at(start + timedelta(seconds=2)):
        assert delivery.claim(page.pk, clock.now())
    page.refresh_from_db()
    assert page.state == "sending" and page.sending_since == start + timedelta(seconds=2)
    # The lease runs out; the tick's sweep hands it over; a worker takes it up again.
    later = start + timedelta(seconds=settings.COMMS_LEASE_SECONDS + 5)
    assert outbox.sweep(later) == 1
    drain(later)
    page.refresh_from_db()
    assert (page.state, page.attempts, page.interrupted, page.sending_since) == ("sent", 2, 1, None)
    [(to, mail)] = smtp.mails
    assert to == ["devops@orbit.example"] and mail["Message-ID"] == message_id(page.key)
    assert mail["X-Warroom-Attempt"] == "2"
    assert mail["X-Warroom-Resent"] == "after an interrupted attempt; same Message-ID"
    # A page sent in one go is not marked.
    smtp.mails.clear()
    escalation.escalate_due(start + timedelta(minutes=15, seconds=1))
    drain(start + timedelta(minutes=16))
    level_2 = Delivery.objects.get(channel="email", message__key__contains="-L2-")
    assert (level_2.state, level_2.attempts, level_2.interrupted) == ("sent", 1, 0)
    assert "X-Warroom-Resent" not in smtp.mails[0][1]
