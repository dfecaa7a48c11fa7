"""Releases on a T-minus clock: phases, steps (room for the execution engine),
rollback criteria and war-room issues.

Times inside a release are stored as offsets from T0 (``go_live_at``), so moving
T0 moves every phase, checklist due time and gate with it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property

from warroom import clock
from warroom.validation import TextChecked


def new_board_token() -> str:
    return secrets.token_urlsafe(24)


def new_comms_stamp() -> str:
    """A fresh stamp for :attr:`Release.comms_stamp` (random: a release id SQLite hands
    out again never meets an old release's stamp in a process's cache)."""
    return secrets.token_hex(8)


# Far enough from datetime's limits that T0 plus any runbook offset (years, at most)
# stays computable.
SAFE_FROM = datetime(1000, 1, 1, tzinfo=UTC)
SAFE_UNTIL = datetime(9000, 1, 1, tzinfo=UTC)


class Release(TextChecked):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        ROLLED_BACK = "rolled_back", "Rolled back"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    version = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    go_live_at = models.DateTimeField(help_text="T0, in UTC.")
    window_start = models.DurationField(null=True, blank=True, help_text="Offset from T0.")
    window_end = models.DurationField(null=True, blank=True, help_text="Offset from T0.")
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="The runbook's own time zone, for display."
    )
    board_token = models.CharField(max_length=64, unique=True, default=new_board_token)
    notes = models.JSONField(
        default=list, blank=True, help_text="Runbook sections the model has no place for."
    )
    contacts = models.ManyToManyField(
        "people.Person",
        blank=True,
        through="ReleaseContact",
        related_name="releases",
        help_text="The runbook's contact list, in its order.",
    )

    source_name = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The clock's time (a rehearsal or a test may have moved it), not the machine's.
    created_at = models.DateTimeField(default=clock.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The release manager's pinned status line on the board ("next update at 23:45").
    status_line = models.CharField(max_length=280, blank=True)
    status_line_by = models.CharField(max_length=200, blank=True)
    status_line_at = models.DateTimeField(null=True, blank=True)
    next_update_at = models.DateTimeField(null=True, blank=True)
    # The execution engine: when the rollback plan started (once per release), and the
    # closing action's note (who closed it is on the audit timeline).
    rollback_started_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)
    # While set, no further step starts (a running one finishes); the request that
    # paused it is an EngineRequest.
    paused_at = models.DateTimeField(null=True, blank=True)
    # Response-time targets per issue severity, in seconds, where they differ from
    # RESPONSE_TARGETS (P1 15 min, P2 30 min, P3 2 h, P4 24 h).
    response_targets = models.JSONField(default=dict, blank=True)
    # The head of the audit chain, kept here so recording an event takes one row lock.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Changes whenever the release's comms rules change (the notifications app sets it in
    # the transaction that changes them): a writer that read this row under its lock
    # knows, without reading the rules, whether the event kinds they react to are the
    # ones its process has cached.
    comms_stamp = models.CharField(max_length=16, default=new_comms_stamp, editable=False)

    class Meta:
        ordering = ["go_live_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        """A go-live time stored far outside any sane window (written before the API
        refused it, or behind its back) is read as the nearest time every page can
        still compute phases and due times from, so no page fails on it."""
        release = super().from_db(db, field_names, values, **kwargs)
        go_live_at = release.__dict__.get("go_live_at")
        if go_live_at is not None and not SAFE_FROM <= go_live_at <= SAFE_UNTIL:
            release.go_live_at = min(max(go_live_at, SAFE_FROM), SAFE_UNTIL)
        return release

    def at(self, offset: timedelta | None) -> datetime | None:
        """Absolute time of an offset from T0."""
        return None if offset is None else self.go_live_at + offset

    def offset_of(self, moment: datetime) -> timedelta:
        return moment - self.go_live_at

    @cached_property
    def items_url(self) -> str:
        """``/releases/<id>/items/`` — item URLs are built from it without a reverse each."""
        return reverse("item-status", args=[self.pk, 0]).removesuffix("0/status")

    @property
    def window_starts_at(self) -> datetime | None:
        return self.at(self.window_start)

    @property
    def window_ends_at(self) -> datetime | None:
        return self.at(self.window_end)

    @property
    def is_closed(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.ROLLED_BACK, self.Status.CANCELLED}


class ReleaseContact(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["release", "order", "id"]

    def __str__(self) -> str:
        return f"{self.person} on {self.release}"


class Phase(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=255)
    start_offset = models.DurationField(null=True, blank=True, help_text="Offset from T0.")
    duration = models.DurationField(null=True, blank=True)
    description = models.TextField(blank=True)
    participants = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release", "order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def end_offset(self) -> timedelta | None:
        if self.start_offset is None or self.duration is None:
            return None
        return self.start_offset + self.duration


class Step(models.Model):
    """One action in a phase, of a kind the execution engine knows (``deployments.executors``)
    with that kind's validated config; ``is_rollback`` steps form the rollback plan."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=32, default="manual")
    title = models.CharField(max_length=255)
    owner_role = models.ForeignKey(
        "people.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="steps"
    )
    config = models.JSONField(default=dict, blank=True)
    requires_confirmation = models.BooleanField(default=False)
    timeout = models.DurationField(null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    retry_delay = models.DurationField(null=True, blank=True)
    is_rollback = models.BooleanField(default=False)
    # Always a dry run: it says what it would do without contacting the system (a step
    # against a system this environment cannot reach, e.g. the demo's Kubernetes).
    dry_run = models.BooleanField(default=False)

    class Meta:
        ordering = ["phase", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def plan_position(self) -> tuple[int, int, int, int]:
        """Where the step stands in the whole plan (its phase's order, then its own);
        needs ``phase`` loaded."""
        return (self.phase.order, self.phase_id, self.order, self.pk)


class StepRun(models.Model):
    """An attempt at a step; the engine holds a lease (owner + heartbeat) while it runs."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", "Awaiting confirmation"
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        ROLLED_BACK = "rolled_back", "Rolled back"

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="runs")
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    dry_run = models.BooleanField(default=False)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Times another worker took the step over after its lease ran out.
    takeovers = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True, help_text="A retry's delay.")
    requested_by = models.CharField(max_length=200, blank=True)
    confirmed_by = models.CharField(max_length=200, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["step", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["step", "attempt"], name="steprun_unique_attempt")
        ]

    def __str__(self) -> str:
        return f"{self.step} attempt {self.attempt}: {self.status}"


class EngineRequest(models.Model):
    """A person's pause, resume or abort of the engine's run of a release: who asked,
    when and why, and when the engine acted on it (``acted_at``)."""

    class Action(models.TextChoices):
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        ABORT = "abort", "Abort"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="engine_requests")
    action = models.CharField(max_length=10, choices=Action.choices)
    requested_by = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    note = models.TextField(blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What the engine did about it.")

    class Meta:
        ordering = ["release", "requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.requested_by}"


class PipelineToken(models.Model):
    """A CI/CD pipeline's bearer token, good for one release only: it may report the
    release's pipeline steps and nothing else. Only its SHA-256 is stored; the secret is
    shown once, to the release manager who made it."""

    PREFIX = "wrp_"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="pipeline_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)
    # Uses after revocation: the first is audited, the rest counted here.
    refused_uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["release", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def label(self) -> str:
        """How the pipeline appears on the timeline."""
        return f"pipeline {self.name} ({self.prefix}…)"


class RollbackCriterion(models.Model):
    """An "error rate > 1% for 5 minutes" rule: a metric, a comparison, a threshold, a duration."""

    class Severity(models.TextChoices):
        IMMEDIATE = "immediate", "Immediate rollback"
        REVIEW = "review", "Review"
        INVESTIGATE = "investigate", "Investigate"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="rollback_criteria")
    order = models.PositiveIntegerField(default=0)
    metric = models.CharField(max_length=200)
    op = models.CharField(max_length=2, default=">", help_text="> >= < <= == !=")
    threshold = models.FloatField()
    unit = models.CharField(max_length=20, blank=True)
    for_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds the condition must hold; empty: at once."
    )
    # A breach of an automatic criterion starts the rollback plan without a decision.
    automatic = models.BooleanField(
        default=False, help_text="The runbook says to roll back without asking anyone."
    )
    severity = models.CharField(max_length=20, choices=Severity.choices, default=Severity.IMMEDIATE)
    query = models.TextField(blank=True, help_text="PromQL, filled in before use.")
    text = models.TextField(blank=True, help_text="The runbook's own words.")
    enabled = models.BooleanField(default=True)
    # What the watcher saw last (each tick from T0 to the end of the window).
    consecutive_breaches = models.PositiveIntegerField(default=0)
    breach_started_at = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release", "order", "id"]
        verbose_name_plural = "rollback criteria"

    def __str__(self) -> str:
        return self.text or f"{self.metric} {self.op} {self.threshold}{self.unit}"


class RollbackStep(models.Model):
    """A step of the rollback plan: run only when the release rolls back, so it never counts
    toward the release's progress."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="rollback_steps")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    order = models.PositiveIntegerField(default=0)
    text = models.TextField()
    owner_role = models.ForeignKey(
        "people.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verification = models.TextField(blank=True)

    class Meta:
        ordering = ["release", "order", "id"]

    def __str__(self) -> str:
        return self.text


class WarIssueQuerySet(models.QuerySet):
    def blocking_go(self) -> models.QuerySet:
        """Open critical issues: each one stands between the team and GO."""
        return self.filter(status=WarIssue.Status.OPEN, severity=WarIssue.Severity.CRITICAL)


# How soon an issue of each severity must be answered (acknowledged); a release may
# set its own in ``Release.response_targets`` (seconds by severity).
RESPONSE_TARGETS = {
    "critical": timedelta(minutes=15),
    "high": timedelta(minutes=30),
    "medium": timedelta(hours=2),
    "low": timedelta(hours=24),
}
PRIORITY = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}


class WarIssue(models.Model):
    """Something going wrong during the go-live ("ISSUE DETECTED"). Open critical issues
    block GO; each severity has a response-time target (P1 15 min … P4 24 h)."""

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical (P1)"
        HIGH = "high", "High (P2)"
        MEDIUM = "medium", "Medium (P3)"
        LOW = "low", "Low (P4)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="issues")
    title = models.CharField(max_length=255)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    component = models.CharField(max_length=200, blank=True)
    impact = models.TextField(blank=True)
    error = models.TextField(blank=True)
    investigator = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(
        max_length=200, blank=True, help_text="Who or what reported it (a person, a metric gate)."
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    respond_by = models.DateTimeField(
        null=True, blank=True, help_text="The severity's response-time target, from opening."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolution = models.TextField(blank=True)

    objects = WarIssueQuerySet.as_manager()

    class Meta:
        ordering = ["release", "-opened_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def priority(self) -> str:
        return PRIORITY.get(self.severity, "")

    def response_breached(self, now: datetime) -> bool:
        """Not answered within the target: acknowledged late, or still unanswered past it."""
        if self.respond_by is None:
            return False
        answered = self.acknowledged_at or self.resolved_at
        return (answered or now) > self.respond_by


class ClockWatch(models.Model):
    """What the tick's clock job last found for a release, shared by every process that
    runs the tick: the release's state then (T0 and its last event) and its next moment.
    A process that has not looked at the release itself reads this instead of working
    the release's moments out again (see :mod:`deployments.clockwork`)."""

    release = models.OneToOneField(
        Release, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    go_live_at = models.DateTimeField()
    last_seq = models.PositiveBigIntegerField()
    next_at = models.DateTimeField(null=True, blank=True)
    looked_at = models.FloatField(help_text="When (epoch seconds) the tick looked.")

    def __str__(self) -> str:
        return f"release {self.release_id}: next moment {self.next_at or 'none'}"


class ClockMark(models.Model):
    """A moment on the release's clock that has been dealt with (a phase started, a
    checklist fell due): written once, so the periodic tick records each event once,
    whatever restarts or how many workers run it."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="clock_marks")
    key = models.CharField(max_length=120)
    at = models.DateTimeField(help_text="The moment on the plan.")
    seen_at = models.DateTimeField(help_text="When the tick dealt with it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="clockmark_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.at:%Y-%m-%d %H:%M}"
