"""Slack and the status page through their real client libraries, against local servers
speaking their Web APIs with faults: every delivery arrives exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications import outbox
from notifications.models import CommsRule, Delivery, Message
from tests.notifications.conftest import drain
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from warroom import clock, events
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db

EVERY_15 = [("Progress", None, timedelta(minutes=15), "", ["slack"], "Stakeholders")]
START_AND_UPDATES = [
    ("We have started", timedelta(0), None, "go_live", ["slack", "status_page"], "Everyone"),
    ("Progress", None, timedelta(minutes=15), "", ["slack", "status_page"], "Stakeholders"),
]


def updates(release, times) -> None:
    """Fire the 15-minute rule at each of ``times`` (as beat's tick would)."""
    for moment in times:
        with clock.frozen_at(moment):
            outbox.write_due(moment)


def test_a_release_threads_its_updates_under_its_first_message_and_keeps_it_current(slack):
    start = clock.now().replace(microsecond=0)
    t0 = start + H
    with clock.frozen_at(start):
        release = make(go_live_at=t0, rules=START_AND_UPDATES[:1] + EVERY_15).release
    with clock.frozen_at(t0):
        events.record(release, "release.t0_reached", actor_label="clock")
    drain(t0)
    updates(release, [t0 + timedelta(minutes=15 * n) for n in range(1, 4)])
    drain(t0 + H)
    root, *replies = slack.messages
    started = Delivery.objects.get(message__rule__name="We have started", channel="slack")
    assert root["thread_ts"] is None and root["ts"] == started.remote_id
    assert len(replies) == 3 and {m["thread_ts"] for m in replies} == {root["ts"]}
    assert replies[0]["blocks"][0]["type"] == "header"
    assert "Deployment status update" in replies[0]["text"]
    assert "Phase: Deployment Execution" in replies[0]["text"]
    # The root shows the latest running status, edited in place (chat.update).
    assert len(slack.updates) == 3 and "Deployment status update" in root["text"]
    sent = Delivery.objects.filter(channel="slack")
    assert {d.state for d in sent} == {"sent"}
    assert sorted(d.remote_id for d in sent) == sorted(m["ts"] for m in slack.messages)


@pytest.mark.parametrize(
    "faults",
    [
        ["429", "429"],
        ["500", "502", "503", "504"],
        ["500-after", "timeout-after", "drop-after"],
        ["timeout-after", "429", "500-after", "502", "drop-after", "504"],
    ],
)
def test_every_slack_delivery_arrives_exactly_once_under_faults(slack, faults, settings):
    settings.COMMS_RETRY_BASE_SECONDS = 0.01
    start = clock.now().replace(microsecond=0)
    t0 = start + H
    t0 = start + 3 * H  # the window opens in an hour
    with clock.frozen_at(start):
        release = make(go_live_at=t0, rules=EVERY_15).release
    slack.inject(*faults)
    updates(release, [t0 - 2 * H + timedelta(minutes=15 * n) for n in range(1, 7)])
    drain(t0)
    assert Message.objects.filter(release=release).count() == 6
    per_key = slack.per_key()
    assert sorted(per_key) == sorted(Delivery.objects.values_list("key", flat=True))
    assert set(per_key.values()) == {1}, per_key  # none lost, none twice
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    assert not slack.faults  # every fault was met


def test_a_ten_minute_slack_outage_loses_nothing(slack):
    start = clock.now().replace(microsecond=0)
    t0 = start + 3 * H
    with clock.frozen_at(start):
        release = make(go_live_at=t0, rules=EVERY_15).release
    slack.now = lambda: clock.now().timestamp()
    first = t0 - 2 * H + timedelta(minutes=15)
    with clock.frozen_at(first):
        slack.outage(600)
    updates(release, [first])
    end = drain(first)
    assert end - first > timedelta(minutes=10)
    d = Delivery.objects.get()
    assert d.state == "sent" and d.attempts > 5 and slack.per_key()[d.key] == 1


def test_retries_back_off_and_honour_retry_after(slack, settings):
    from notifications.delivery import backoff

    settings.COMMS_RETRY_BASE_SECONDS, settings.COMMS_RETRY_MAX_SECONDS = 2, 300
    waits = [backoff(n) for n in range(1, 12)]
    assert all(2 ** (n - 1) <= w <= 2**n for n, w in enumerate(waits[:8], start=1))
    assert max(waits) <= 300
    assert backoff(1, retry_after=30) == 30


def test_after_the_last_retry_a_delivery_is_failed_shown_and_can_be_retried(slack, settings):
    from notifications.delivery import retry_by_hand

    settings.COMMS_RETRY_BASE_SECONDS, settings.COMMS_MAX_ATTEMPTS = 0.01, 3
    start = clock.now().replace(microsecond=0)
    with clock.frozen_at(start):
        release = make(go_live_at=start + 3 * H, rules=EVERY_15).release
    slack.inject("503", "503", "503")
    updates(release, [start + H + timedelta(minutes=15)])
    drain(start)
    d = Delivery.objects.get()
    assert (d.state, d.attempts) == ("failed", 3) and "503" in d.last_error
    failed = AuditEvent.objects.get(release=release, kind="comms.delivery_failed")
    assert failed.data["channel"] == "slack" and failed.data["attempts"] == 3
    retry_by_hand(d)
    drain(start)
    d.refresh_from_db()
    assert d.state == "sent" and slack.per_key()[d.key] == 1


def test_a_refusal_is_not_retried_and_a_turned_off_channel_says_so(slack, settings):
    start = clock.now().replace(microsecond=0)
    with clock.frozen_at(start):
        release = make(go_live_at=start + 3 * H, rules=EVERY_15).release
    settings.SLACK_TOKEN = "xoxb-wrong"
    updates(release, [start + H + timedelta(minutes=15)])
    drain(start)
    d = Delivery.objects.get()
    assert (d.state, d.attempts) == ("failed", 1) and "invalid_auth" in d.last_error
    settings.SLACK_ENABLED = False
    updates(release, [start + H + timedelta(minutes=30)])
    drain(start)
    off = Delivery.objects.exclude(pk=d.pk).get()
    assert off.state == "failed" and off.last_error == "slack is turned off (SLACK_ENABLED)"
    assert not slack.messages


def test_the_status_page_gets_one_maintenance_entry_and_each_update_once(statuspage, settings):
    settings.COMMS_RETRY_BASE_SECONDS = 0.01
    start = clock.now().replace(microsecond=0)
    t0 = start + H
    rules = [(n, a, i, m, ["status_page"], au) for n, a, i, m, _c, au in START_AND_UPDATES]
    with clock.frozen_at(start):
        release = make(go_live_at=t0, rules=rules).release
    statuspage.inject("500-after", "timeout-after", "429", "drop-after", "503")
    with clock.frozen_at(t0):
        events.record(release, "release.t0_reached", actor_label="clock")
    updates(release, [t0 + timedelta(minutes=15 * n) for n in range(1, 4)])
    drain(t0 + H)
    assert len(statuspage.incidents) == 1
    (incident,) = statuspage.incidents.values()
    assert incident["status"] == "in_progress"
    bodies = statuspage.updates()
    assert len(bodies) == 4 and len(set(bodies)) == 4  # the start and three updates, once
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    assert set(Delivery.objects.values_list("remote_id", flat=True)) == {incident["id"]}


def test_the_status_page_refusing_our_key_is_a_visible_failure(statuspage, settings):
    settings.STATUSPAGE_API_KEY = "wrong"
    start = clock.now().replace(microsecond=0)
    rules = [("We have started", timedelta(0), None, "go_live", ["status_page"], "Everyone")]
    with clock.frozen_at(start):
        release = make(go_live_at=start + H, rules=rules).release
    events.record(release, "release.t0_reached", actor_label="clock")
    drain(start)
    d = Delivery.objects.get()
    assert d.state == "failed" and "401" in d.last_error
    assert not statuspage.incidents
    assert CommsRule.objects.filter(release=release).count() == 1
