"""What the runbook says about communication and escalation, and the outbox.

A :class:`CommsRule` says when to tell whom what (at an offset from T0, every N minutes
inside the window, or when an event happens). When it falls due a :class:`Message` is
written in the same transaction as its cause, with a unique idempotency key, and fanned
into one :class:`Delivery` per channel and target. A worker claims a delivery, hands it
to the channel's transport and records what the far end answered (Slack's ``ts``, the
email's Message-ID, the status page's incident); a delivery that cannot be made after
its last retry is marked failed and shown, never dropped.
"""

from __future__ import annotations

from django.db import models


class MessageTemplate(models.Model):
    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="message_templates"
    )
    key = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=32, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    placeholders = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["release", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="template_unique_key")
        ]

    def __str__(self) -> str:
        return self.name


class CommsRule(models.Model):
    """Send a template to an audience: once at an offset, on a milestone, or every N minutes."""

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="comms_rules"
    )
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    at_offset = models.DurationField(null=True, blank=True)
    interval = models.DurationField(null=True, blank=True)
    milestone = models.CharField(max_length=64, blank=True)
    channels = models.JSONField(default=list, blank=True)
    audience = models.CharField(max_length=300, blank=True)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules"
    )
    template_key = models.CharField(
        max_length=100, blank=True, help_text="The template the runbook names (kept if missing)."
    )
    event_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text="Event kinds that trigger the rule (empty: those its milestone names).",
    )
    status_update = models.BooleanField(
        default=False, help_text="The body is the live status update, composed at send time."
    )
    enabled = models.BooleanField(default=True)
    next_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the time trigger next falls due (kept per rule)."
    )
    next_text = models.TextField(
        blank=True, help_text="The release manager's edit of the next message (used once)."
    )

    class Meta:
        ordering = ["release", "order", "id"]
        indexes = [models.Index(fields=["next_due_at"], name="comms_rule_due")]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """Level N of the escalation matrix; it fires when an issue stays open past ``after``."""

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="escalation_levels"
    )
    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    roles = models.ManyToManyField(
        "people.Role", blank=True, through="EscalationRole", related_name="escalation_levels"
    )
    contacts = models.JSONField(
        default=list, blank=True, help_text="Names as the runbook gives them (placeholders kept)."
    )
    after = models.DurationField(null=True, blank=True)
    until = models.DurationField(null=True, blank=True)

    class Meta:
        ordering = ["release", "level", "id"]

    def __str__(self) -> str:
        return f"Level {self.level}: {self.name}"


class EscalationRole(models.Model):
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE)
    role = models.ForeignKey("people.Role", on_delete=models.CASCADE)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["level", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["level", "role"], name="escalation_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role} at level {self.level.level}"


class Message(models.Model):
    """One thing said to an audience, written in the transaction of its cause."""

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="messages"
    )
    rule = models.ForeignKey(
        CommsRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key.")
    cause = models.CharField(max_length=200, blank=True)
    audience = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    status_update = models.BooleanField(default=False)
    composed = models.BooleanField(default=False, help_text="Body fixed (at first send).")
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_by = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When its first delivery reached anyone."
    )

    class Meta:
        ordering = ["release", "due_at", "id"]

    def __str__(self) -> str:
        return self.subject or self.key


class Delivery(models.Model):
    """A message to one target on one channel, and what became of it."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=32)
    target = models.CharField(max_length=300)
    key = models.CharField(max_length=400, unique=True, help_text="Idempotency key.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    remote_id = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The attempt under way: stamped by the claim (committed before the far end is
    # spoken to), cleared when its answer is recorded. A claim that finds it still set
    # knows the last attempt was cut off mid-send (its worker died): ``interrupted``.
    sending_since = models.DateTimeField(null=True, blank=True)
    interrupted = models.PositiveSmallIntegerField(
        default=0, help_text="Attempts cut off before their answer was recorded."
    )

    class Meta:
        ordering = ["message", "channel", "target", "id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} → {self.target} ({self.state})"


class SlackThread(models.Model):
    """The release's first Slack message in a channel: updates thread under it.

    The row is created by the one delivery that wins the insert (``owner``); it posts the
    root message and records its ``ts``; the others wait for the ``ts``.
    """

    release = models.ForeignKey("deployments.Release", on_delete=models.CASCADE)
    channel = models.CharField(max_length=100)
    owner = models.ForeignKey(Delivery, null=True, on_delete=models.SET_NULL, related_name="+")
    ts = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "channel"], name="slack_thread_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.ts or '(not posted yet)'}"


class StatusIncident(models.Model):
    """The status page's maintenance entry for a release (created once, then updated)."""

    release = models.OneToOneField("deployments.Release", on_delete=models.CASCADE)
    owner = models.ForeignKey(Delivery, null=True, on_delete=models.SET_NULL, related_name="+")
    incident_id = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.incident_id or "(not created yet)"


class Subscriber(models.Model):
    """Someone who asked for a release's emails (and can leave with one link)."""

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="subscribers"
    )
    email = models.EmailField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "email"], name="subscriber_unique")
        ]

    def __str__(self) -> str:
        return self.email


class SlackRequest(models.Model):
    """A verified slash command or button press from Slack, and what became of it.

    ``trigger_id`` is unique per invocation and the same when Slack re-sends it, so the
    row is written once and the work is done once; the answer goes to ``response_url``
    after the request was acknowledged.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    trigger_id = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20)  # "command" or "action"
    slack_user = models.CharField(max_length=100)
    slack_name = models.CharField(max_length=100, blank=True)
    text = models.CharField(max_length=500, blank=True, help_text="The command or action.")
    response_url = models.URLField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    answer = models.TextField(blank=True)
    received_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    answered = models.BooleanField(default=False, help_text="The answer reached Slack.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["state", "received_at"], name="slack_request_state")]

    def __str__(self) -> str:
        return f"{self.kind} {self.text[:40]} ({self.state})"


class SlackRefusal(models.Model):
    """A request to the Slack endpoints that was refused: forged, stale or replayed.

    What was sent is not stored, only its length and SHA-256 (to match it against
    Slack's or a proxy's logs)."""

    at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    path = models.CharField(max_length=100)
    source = models.CharField(max_length=64, blank=True)
    body_length = models.PositiveIntegerField(default=0)
    body_sha256 = models.CharField(max_length=64, blank=True)
    request_ts = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.reason}"


from notifications.escalation_models import *  # noqa: E402, F403  (escalation, issue 21)
from notifications.status_models import *  # noqa: E402, F403  (the public status page)
