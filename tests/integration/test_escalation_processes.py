"""Escalation with real processes: beat's tick, a Celery worker, a Redis of our own, and
local servers speaking Slack's Web API, SMTP (aiosmtpd) and PagerDuty's Events API.

Two Critical issues are reported at once. Nobody answers the first: it pages level 2 at
15 minutes and level 3 at 30, each within the tick interval of its due time. The second
is acknowledged at 20 minutes and stays at level 2. Each page goes out as a Slack direct
message and an email; Slack accepts one and answers 500, then is down with the mail
server refusing for a while, and beat, the worker and Redis are all killed and started
again between the levels. The pages are counted at our Page rows and at the Slack, SMTP
and PagerDuty-speaking servers: none lost, none twice.

PagerDuty's outbox sends each event at least once (a worker killed between PagerDuty's
answer and our commit sends it again at the next tick); the dedup key per issue and level
makes the repeat land on the open alert, as PagerDuty's Events API v2 does. So the count
that must be exact at PagerDuty is the alerts it opened, one per issue and level.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from bench.comms_servers import SlackServer
from bench.faultkit import RedisServer, free_port
from bench.pagerduty_server import EventsServer
from deployments import issues
from notifications import escalation
from notifications.escalation_models import EscalationStep, Page
from notifications.models import Delivery
from notifications.transports.email import message_id
from tests.escalation.helpers import (
    ROUTING_KEY,
    SLACK_DIRECTORY,
    SLACK_HANDLES,
    escalation_release,
    on_slack,
)
from warroom import clock, health

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TICK = 1.0  # the celery_factory's TICK_SECONDS
LEAD = timedelta(seconds=2)  # the clock is set this long before each due time


def levels(issue) -> list[int]:
    return list(
        EscalationStep.objects.filter(escalation__issue=issue)
        .order_by("level")
        .values_list("level", flat=True)
    )


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def ticking_again() -> bool:
    """Wait until a worker started anew has run beat's tick (it may take seconds to boot)."""
    health._redis().delete(health.BEAT_KEY)
    return wait_for(lambda: health.last_tick() is not None, 60)


def sent_everything() -> bool:
    """Every page's deliveries are sent (none left to try, none failed)."""
    return not Delivery.objects.exclude(state="sent").exists() and Delivery.objects.exists()


def delivery_states() -> list:
    return list(Delivery.objects.values_list("channel", "target", "state", "last_error"))


def just_before(moment: datetime) -> None:
    """Move every process's clock to ``LEAD`` before ``moment`` (it then comes by itself)."""
    clock.travel(moment - LEAD - timezone.now())


class MailServer:
    """An SMTP server (aiosmtpd) that keeps what it accepted; while ``busy`` it answers
    451 (try again later), as a mail server under load does."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self.busy = False
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):
        if self.busy:
            return "451 4.3.0 Mail server busy, try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails += [(to, str(parsed["Message-ID"])) for to in envelope.rcpt_tos]
        return "250 Message accepted for delivery"


@pytest.fixture
def redis_server(tmp_path, settings):
    """A Redis of our own for every process of the test (this one too), to restart."""
    server = RedisServer(tmp_path / "redis").start()
    settings.REDIS_URL = settings.CELERY_BROKER_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def mail_server():
    server = MailServer()
    server.controller.start()
    yield server
    server.controller.stop()


def pages_settled(level: int) -> bool:
    """Every page of ``level`` has been tried (and is waiting for its retry)."""
    waiting = Delivery.objects.filter(message__key__contains=f"-L{level}-", attempts__gte=1)
    return waiting.count() == Delivery.objects.filter(message__key__contains=f"-L{level}-").count()


def test_unanswered_critical_issues_page_level_by_level_across_restarts(
    celery_factory, monkeypatch, redis_server, mail_server
):
    monkeypatch.setenv("WARROOM_SHARED_CLOCK", "1")
    clock.travel(timedelta(0))
    pd = EventsServer().start()
    slack = SlackServer().start()
    slack.users.update(SLACK_DIRECTORY)
    slack.inject("500-after")  # the first DM is accepted, then answered 500
    try:
        team = escalation_release()
        on_slack(team.release)
        escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
        unanswered = issues.issue_report(
            release=team.release, user=team["qa"], title="Checkout 502s", severity="critical"
        )
        answered = issues.issue_report(
            release=team.release, user=team["qa"], title="Refunds slow", severity="critical"
        )
        env = {
            "PAGERDUTY_EVENTS_URL": pd.url,
            "REDIS_URL": redis_server.url,
            "CHANNELS_PREFIX": f"esc{redis_server.port}",
            "SLACK_ENABLED": "true",
            "SLACK_BASE_URL": slack.base_url,
            "SLACK_TOKEN": slack.token,
            "SLACK_TIMEOUT": "2",
            "EMAIL_ENABLED": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(mail_server.controller.port),
            "COMMS_SWEEP_GRACE_SECONDS": "2",
        }
        worker = celery_factory("worker", **env)
        beat = celery_factory("beat", **env)
        # Level 1 (0-15 min) at once.
        assert wait_for(lambda: levels(unanswered) == [1] and levels(answered) == [1], 30)
        assert wait_for(lambda: sent_everything(), 60), delivery_states()
        # 15 minutes: level 2 for both, on time; Slack is down and the mail server busy.
        slack.outage(3600)
        mail_server.busy = True
        just_before(unanswered.opened_at + timedelta(minutes=15))
        time.sleep(LEAD.total_seconds() - 0.5)
        assert levels(unanswered) == [1], "level 2 fired early"
        assert wait_for(lambda: levels(unanswered) == [1, 2] and levels(answered) == [1, 2])
        assert wait_for(lambda: pages_settled(2), 30), delivery_states()
        # Beat, the worker and Redis (with the queued retries) die and come back; Slack
        # and the mail server recover: the pages arrive, once, and nothing is paged again.
        beat.kill()
        worker.kill()
        offset = clock.now() - timezone.now()
        redis_server.stop(kill=True)
        redis_server.start()
        clock.travel(offset)  # the shared clock lived in the Redis that died
        slack.outage_until = 0.0
        mail_server.busy = False
        worker.start()
        beat.start()
        assert ticking_again()
        assert wait_for(lambda: len(pd.alerts()) == 4, 30), pd.alerts()  # what the dead worker left
        time.sleep(4 * TICK)
        assert Page.objects.count() == 4 and len(pd.alerts()) == 4
        # 20 minutes: the second is acknowledged.
        clock.travel(answered.opened_at + timedelta(minutes=20) - timezone.now())
        time.sleep(0.5)
        issues.issue_acknowledge(issue=answered, user=team["devops"])
        worker.kill()
        worker.start()
        assert ticking_again()
        # 30 minutes: level 3 for the unanswered one only.
        just_before(unanswered.opened_at + timedelta(minutes=30))
        assert wait_for(lambda: levels(unanswered) == [1, 2, 3], 30)
        time.sleep(4 * TICK)  # more ticks: still once each
        assert levels(answered) == [1, 2]
        # Resolving closes it, and PagerDuty's incidents with it.
        issues.issue_resolve(issue=unanswered, user=team["devops"])
        assert wait_for(lambda: len(pd.resolves()) == 3, 30)
        assert wait_for(lambda: sent_everything(), 90), delivery_states()
        time.sleep(4 * TICK)  # more ticks and sweeps: nothing more arrives
    finally:
        clock.travel(timedelta(0))
        pd.stop()
        slack.stop()

    # Every page reached its person by Slack DM and by email exactly once.
    paged = Delivery.objects.filter(message__cause="page")
    pages = Page.objects.select_related("person")
    assert paged.filter(channel="email").count() == pages.count()  # everyone has email
    assert paged.filter(channel="slack_dm").count() == sum(
        1 for p in pages if p.person.slack_handle
    )
    assert paged.filter(channel="slack_dm").count() >= 6  # levels 1-3 of both issues
    dms = paged.filter(channel="slack_dm")
    arrived = Counter(
        key for per_user in slack.direct_messages().values() for key in per_user.elements()
    )
    assert arrived == Counter(dms.values_list("key", flat=True))
    assert set(slack.direct_messages()) <= set(SLACK_HANDLES.values()) | set(
        SLACK_DIRECTORY.values()
    )
    mails = paged.filter(channel="email")
    assert Counter(mail_server.mails) == Counter((d.target, message_id(d.key)) for d in mails)
    # Level 2's were tried in the outage and again after the restarts.
    assert {d.attempts >= 2 for d in paged.filter(message__key__contains="-L2-")} == {True}

    # Each level fired within the tick interval of its due time (plus the worker's work).
    for step in EscalationStep.objects.filter(level__gte=2, escalation__issue__isnull=False):
        late = (step.fired_at - step.due_at).total_seconds()
        assert 0 <= late <= TICK + 1.5, (step.level, late)
    # Pages: level 1 DevOps, level 2 the DBA, level 3 Release Manager + VP (unanswered).
    assert Page.objects.filter(step__escalation__issue=unanswered).count() == 4
    assert Page.objects.filter(step__escalation__issue=answered).count() == 2
    # (the Go/No-Go gate, at T-30m, fell due on the way and escalated on its own)
    keys = [k for k in pd.alerts() if "-issue:" in k]
    assert len(keys) == 5 and len(set(keys)) == 5, keys
    assert sorted(r.dedup_key for r in pd.resolves()) == sorted(
        k for k in keys if f"issue:{unanswered.pk}-" in k
    )
