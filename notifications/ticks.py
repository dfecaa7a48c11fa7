"""This app's part of beat's tick: due comms rules write their messages; deliveries
whose hand-over to a worker was lost are handed over again."""

from __future__ import annotations

from notifications.outbox import sweep, write_due
from warroom.ticks import on_tick

on_tick("comms")(write_due)
on_tick("comms.sweep")(sweep)
