"""Signed webhooks to a local HTTP receiver that checks each signature: 429 with
Retry-After, 5xx, timeouts and dropped connections are retried; every message is taken
once by its delivery id; a turned-off or unconfigured webhook says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.comms_servers import WebhookServer
from notifications import delivery, outbox, selectors
from notifications.models import Delivery
from notifications.transports.webhook import sign
from tests.notifications.conftest import drain
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from warroom import clock

pytestmark = pytest.mark.django_db

HOOKED = [("Progress", None, timedelta(minutes=15), "", ["webhook"], "Stakeholders")]


@pytest.fixture
def hook(settings):
    server = WebhookServer().start()
    settings.WEBHOOK_ENABLED = True
    settings.WEBHOOK_URL = server.url
    settings.WEBHOOK_SECRET = server.secret
    settings.WEBHOOK_TIMEOUT = 1
    server.hang_seconds = 2.0
    yield server
    server.stop()


def updates_due(count: int):
    """A release in its window whose 15-minute webhook update fires ``count`` times."""
    start = clock.now().replace(microsecond=0)
    with clock.frozen_at(start):
        release = make(go_live_at=start + H, rules=HOOKED).release
    moments = [start + H + timedelta(minutes=15 * (n + 1)) for n in range(count)]
    for moment in moments:
        with clock.frozen_at(moment):
            outbox.write_due(moment)
    return release, moments


def test_each_update_is_posted_signed_with_its_delivery_id(hook):
    release, moments = updates_due(2)
    drain(moments[-1])
    sent = list(Delivery.objects.filter(channel="webhook").order_by("id"))
    assert [d.state for d in sent] == ["sent", "sent"]
    assert [r["id"] for r in hook.received] == [d.key for d in sent]
    assert hook.calls["POST"] == 2 and hook.refused == 0
    first = hook.received[0]
    assert first["release"] == {"id": release.pk, "name": release.name, "version": "v4.2.0"}
    assert first["subject"].startswith("Deployment status update")
    assert first["status_update"] is True and "Progress:" in first["text"]
    assert first["ts"].isdigit()


def test_faults_before_acceptance_are_retried_to_exactly_one_arrival(hook):
    hook.inject("503", "429", "500", "502", "504")
    hook.retry_after = 7
    _, moments = updates_due(1)
    (d,) = Delivery.objects.filter(channel="webhook")
    with clock.frozen_at(moments[0]):
        assert delivery.attempt(d.pk) == "retrying"
        assert delivery.attempt(d.pk) == "not due"  # waits for its backoff
    d.refresh_from_db()
    assert d.last_error == "webhook answered 503"
    drain(moments[0])
    d.refresh_from_db()
    assert (d.state, d.attempts) == ("sent", 6)
    assert hook.calls["POST"] == 6  # five faults, then the one that arrived
    assert hook.per_id() == {d.key: 1}


def test_the_429_retry_after_is_honoured(hook):
    hook.inject("429")
    hook.retry_after = 120
    _, moments = updates_due(1)
    (d,) = Delivery.objects.filter(channel="webhook")
    with clock.frozen_at(moments[0]):
        assert delivery.attempt(d.pk) == "retrying"
    d.refresh_from_db()
    assert d.next_attempt_at >= moments[0] + timedelta(seconds=120)
    with clock.frozen_at(moments[0] + timedelta(seconds=119)):
        assert delivery.attempt(d.pk) == "not due"
    drain(moments[0])
    assert hook.per_id() == {d.key: 1}


def test_lost_answers_repeat_the_same_id_so_the_receiver_takes_it_once(hook):
    hook.inject("timeout-after", "drop-after", "500-after")
    _, moments = updates_due(1)
    (d,) = Delivery.objects.filter(channel="webhook")
    drain(moments[0])
    d.refresh_from_db()
    assert (d.state, d.attempts) == ("sent", 4)
    # Accepted four times (three answers lost), always as the same delivery: a receiver
    # that keeps the ids it has seen takes it once.
    assert hook.per_id() == {d.key: 4}
    assert all(r["subject"] == hook.received[0]["subject"] for r in hook.received)


def test_an_outage_longer_than_the_retries_fails_the_delivery_and_shows_it(hook, settings):
    settings.COMMS_MAX_ATTEMPTS = 3
    hook.outage(3600)
    release, moments = updates_due(1)
    drain(moments[0])
    (d,) = Delivery.objects.filter(channel="webhook")
    assert (d.state, d.attempts, d.last_error) == ("failed", 3, "webhook answered 503")
    assert hook.calls["POST"] == 3 and hook.received == []
    assert release.events.filter(kind="comms.delivery_failed").count() == 1


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(hook, settings):
    settings.WEBHOOK_SECRET = "not-the-receivers"
    _, moments = updates_due(1)
    drain(moments[0])
    (d,) = Delivery.objects.filter(channel="webhook")
    assert d.state == "failed" and d.last_error.startswith("webhook refused (401)")
    assert (hook.refused, hook.received) == (1, [])


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    # The documented recipe, computed independently of the transport's helper.
    import hashlib
    import hmac

    body = b'{"id":"k"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", "1700000000", body) == f"v1={expected}"


@pytest.mark.parametrize(
    ("enabled", "url", "secret", "says"),
    [
        (False, "http://127.0.0.1:9/h", "s", "webhook is turned off (WEBHOOK_ENABLED)"),
        (True, "", "s", "webhook has no address (WEBHOOK_URL)"),
        (True, "http://127.0.0.1:9/h", "", "webhook has no signing secret (WEBHOOK_SECRET)"),
    ],
)
def test_an_unusable_webhook_says_why_in_the_war_room(settings, enabled, url, secret, says):
    settings.WEBHOOK_ENABLED, settings.WEBHOOK_URL, settings.WEBHOOK_SECRET = enabled, url, secret
    updates_due(1)
    (d,) = Delivery.objects.filter(channel="webhook")
    assert (d.state, d.last_error) == ("failed", says)
    assert ("webhook", says) in selectors.integrations()
