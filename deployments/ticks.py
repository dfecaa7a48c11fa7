"""This app's part of beat's tick: the clock's events (see deployments.clockwork), the
engine's dropped or abandoned steps, and the rollback criteria (deployments.watch)."""

from __future__ import annotations

from deployments.clockwork import record_all_due
from deployments.engine import resume_due
from deployments.watch import watch_all
from warroom.ticks import on_tick

on_tick("clock")(record_all_due)
on_tick("engine")(resume_due)
on_tick("rollback_criteria")(watch_all)
