"""This app's part of beat's tick: the clock's events (see deployments.clockwork)."""

from __future__ import annotations

from deployments.clockwork import record_all_due
from warroom.ticks import on_tick

on_tick("clock")(record_all_due)
