"""Escalation's part of beat's tick (see notifications.escalation)."""

from __future__ import annotations

from notifications.escalation import escalate_due
from warroom.ticks import on_tick

on_tick("escalation")(escalate_due)
