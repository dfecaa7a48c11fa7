"""The built-in public status page: one per product, its components and their states,
scheduled-maintenance entries with their updates, and the people who subscribed.

A release is one maintenance on its product's page: scheduled when the release is made,
in progress when its window opens, completed when it closes; its components go
Operational → Scheduled Maintenance → Maintenance in Progress (→ Degraded) → Operational.
"""

from __future__ import annotations

from django.db import models


class StatusPage(models.Model):
    """A product's public status page, at ``/status/<slug>/`` (no login)."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StatusComponent(models.Model):
    class State(models.TextChoices):
        OPERATIONAL = "operational", "Operational"
        SCHEDULED = "scheduled_maintenance", "Scheduled Maintenance"
        IN_PROGRESS = "maintenance_in_progress", "Maintenance in Progress"
        DEGRADED = "degraded", "Degraded"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=30, choices=State.choices, default=State.OPERATIONAL)
    order = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["page", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "name"], name="status_component_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.get_state_display()}"


class Maintenance(models.Model):
    """A scheduled maintenance: one release's window on its product's page."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="maintenances")
    release = models.OneToOneField(
        "deployments.Release", on_delete=models.CASCADE, related_name="maintenance"
    )
    title = models.CharField(max_length=300)
    state = models.CharField(max_length=12, choices=State.choices, default=State.SCHEDULED)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    components = models.ManyToManyField(StatusComponent, related_name="maintenances")
    degraded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.title


class MaintenanceUpdate(models.Model):
    """One line of a maintenance's story, newest shown first."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RESCHEDULED = "rescheduled", "Date changed"
        STARTED = "started", "In progress"
        DEGRADED = "degraded", "Degraded"
        COMPLETED = "completed", "Completed"

    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField()
    body = models.TextField()

    class Meta:
        ordering = ["maintenance", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:40]}"


class StatusSubscriber(models.Model):
    """Someone told by email when maintenance is scheduled, starts, moves or completes."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="subscribers")
    email = models.EmailField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["page", "email"], name="status_subscriber_unique")
        ]

    def __str__(self) -> str:
        return self.email
