"""What the runbook says about communication and escalation.

Today these rows are imported, shown and exported; the communications issue
adds Message + Delivery (the outbox) and transports that act on them.
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

    class Meta:
        ordering = ["release", "order", "id"]

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


from notifications.escalation_models import *  # noqa: E402, F403  (escalation, issue 21)
