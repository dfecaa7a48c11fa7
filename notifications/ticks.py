"""This app's part of beat's tick: due comms rules write their messages, and a worker is
woken for those falling due before the next tick; deliveries whose hand-over to a worker
was lost are handed over again."""

from __future__ import annotations

from notifications import slack_inbound
from notifications.outbox import sweep, wake_for_due, write_due
from notifications.queue import hand_over_slack
from warroom.ticks import on_tick

on_tick("comms")(write_due)
on_tick("comms.wake")(wake_for_due)
on_tick("comms.sweep")(sweep)


@on_tick("comms.slack_requests")
def _slack_requests(now) -> int:
    """Slack requests whose hand-over or answer was lost are handed over again."""
    ids = slack_inbound.pending(now)
    if ids:
        hand_over_slack(ids)
    return len(ids)
