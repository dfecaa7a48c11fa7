"""Escalation: what must be answered, the levels it reached, who was paged, PagerDuty.

An :class:`Escalation` is one thing that must be answered in time — an issue, an expired
rollback decision clock, a late gate, an unanswered "your decision is needed". Beat's tick
moves each one up the release's escalation matrix (``EscalationLevel``); every level
reached is an :class:`EscalationStep`, written once per (escalation, level) under the
release's row lock, so a restarted worker or beat never pages a level twice.
"""

from __future__ import annotations

from django.db import models


class Escalation(models.Model):
    class Kind(models.TextChoices):
        ISSUE = "issue", "Issue"
        ROLLBACK = "rollback", "Rollback decision"
        GATE = "gate", "Late gate"
        DECISION = "decision", "Decision needed"

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="escalations"
    )
    key = models.CharField(max_length=120, help_text="What it is about, e.g. issue:12.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    issue = models.ForeignKey(
        "deployments.WarIssue",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    severity = models.CharField(max_length=10, blank=True)
    started_at = models.DateTimeField()
    # Level thresholds are the matrix's times multiplied by this (a P2 issue escalates at
    # twice a P1's pace's times: its response target is twice as long).
    pace = models.FloatField(default=1.0)
    # Roles whose backups are paged first (a decision nobody made: the deciders' backups).
    backup_role_ids = models.JSONField(default=list, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Acknowledged.")
    stopped_by = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Resolved or decided.")

    class Meta:
        ordering = ["release", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="escalation_unique_key")
        ]
        indexes = [models.Index(fields=["closed_at", "stopped_at"], name="escalation_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None and self.closed_at is None


class EscalationStep(models.Model):
    """A level an escalation reached (level 0: the decision roles' backups)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200, blank=True)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    paged = models.JSONField(default=list, blank=True, help_text="Who, by which channels.")

    class Meta:
        ordering = ["escalation", "level"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "level"], name="escalation_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.escalation} reached level {self.level}"


class Page(models.Model):
    """One person paged. ``dedup_key`` is unique: nobody is paged twice for one thing.

    Written with its comms-outbox message (``page:`` + ``dedup_key``), whose deliveries
    reach the person by Slack DM and email (see :func:`notifications.escalation.page_all`)."""

    release = models.ForeignKey("deployments.Release", on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(
        EscalationStep, null=True, blank=True, on_delete=models.CASCADE, related_name="pages"
    )
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person_name = models.CharField(max_length=200)
    channels = models.JSONField(default=list, blank=True)
    text = models.TextField()
    dedup_key = models.CharField(max_length=200, unique=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="When it fell due.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"page {self.person_name}: {self.text[:40]}"


class PagerDutyRoute(models.Model):
    """Where a release's escalations trigger PagerDuty incidents (Events API v2)."""

    release = models.OneToOneField(
        "deployments.Release", on_delete=models.CASCADE, related_name="pagerduty"
    )
    routing_key = models.CharField(max_length=32)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"PagerDuty for {self.release}"


class PagerDutyEvent(models.Model):
    """An Events v2 message to send (the outbox): a trigger per (escalation, level), a
    resolve when ours resolves. Sent at least once — a sender claims it (``claimed_by``,
    ``lease_until``, committed before anything is sent), sends outside any transaction
    and records the answer; a sender that died leaves a lease that runs out and the row
    is sent again — and PagerDuty merges a repeat into the open alert by ``dedup_key``."""

    class Action(models.TextChoices):
        TRIGGER = "trigger", "Trigger"
        RESOLVE = "resolve", "Resolve"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        REFUSED = "refused", "Refused"

    release = models.ForeignKey("deployments.Release", on_delete=models.CASCADE, related_name="+")
    routing_key = models.CharField(max_length=32)
    dedup_key = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices)
    summary = models.CharField(max_length=1024, blank=True)
    severity = models.CharField(max_length=10, default="critical")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=32, blank=True, help_text="The sending claim.")
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="Being sent until then (a dead sender's runs out)."
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dedup_key", "action"], name="pagerduty_event_once")
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="pagerduty_pending_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.dedup_key} ({self.state})"


class OnCallSchedule(models.Model):
    """Who holds a role (e.g. "On-Call Engineer") when: shifts with a primary and a backup,
    and overrides for swaps."""

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="oncall_schedules"
    )
    role = models.ForeignKey("people.Role", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["release", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "role"], name="oncall_one_schedule_per_role")
        ]

    def __str__(self) -> str:
        return self.name


class OnCallShift(models.Model):
    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    primary = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    backup = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["schedule", "starts_at"]

    def __str__(self) -> str:
        return f"{self.primary} {self.starts_at:%a %H:%M} to {self.ends_at:%a %H:%M}"


class OnCallOverride(models.Model):
    """A swap: ``person`` is on call instead of the shift's primary for a while."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["schedule", "starts_at"]

    def __str__(self) -> str:
        return f"{self.person} instead, {self.starts_at:%a %H:%M} to {self.ends_at:%a %H:%M}"


__all__ = [
    "Escalation",
    "EscalationStep",
    "OnCallOverride",
    "OnCallSchedule",
    "OnCallShift",
    "Page",
    "PagerDutyEvent",
    "PagerDutyRoute",
]
