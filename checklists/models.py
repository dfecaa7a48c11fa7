"""Checklists ticked by the team, gates with required sign-offs, and decisions.

Sign-offs and decisions are immutable: a change is a new row that supersedes the
old one (``supersedes``), so what was decided can always be shown as it was.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

from warroom.validation import (
    COMMENT_MAX,
    ITEM_TEXT_MAX,
    NOTE_MAX,
    RATIONALE_MAX,
    REASON_MAX,
    TextChecked,
)


class Checklist(models.Model):
    class Kind(models.TextChoices):
        PRE_DEPLOYMENT = "pre_deployment", "Pre-deployment"
        PHASE = "phase", "Phase"
        GO_NO_GO = "go_no_go", "Go / No-Go"
        POST_DEPLOYMENT = "post_deployment", "Post-deployment"

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="checklists"
    )
    phase = models.ForeignKey(
        "deployments.Phase",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="checklists",
    )
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PHASE)
    due_offset = models.DurationField(
        null=True, blank=True, help_text="When it must be complete, offset from T0."
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["release", "order", "id"]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(TextChecked):
    class Status(models.TextChoices):
        TODO = "todo", "To do"
        DONE = "done", "Done"
        BLOCKED = "blocked", "Blocked"
        NA = "na", "N/A"

    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    order = models.PositiveIntegerField(default=0)
    text = models.TextField(max_length=ITEM_TEXT_MAX)
    owner_role = models.ForeignKey(
        "people.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    assignee = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    verification = models.TextField(
        blank=True, max_length=ITEM_TEXT_MAX, help_text="Commands that prove it is done."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TODO)
    # The item's standing note: while blocked, the block reason (kept until unblocked);
    # otherwise the latest note. Every note is also kept, with who and when, as an ItemNote.
    note = models.TextField(blank=True, max_length=NOTE_MAX)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_label = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["checklist", "order", "id"]
        indexes = [models.Index(fields=["checklist", "status"])]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_closed(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.NA}

    @property
    def note_list(self) -> list[ItemNote]:
        """The item's notes, oldest first (prefetched by the selectors that show them)."""
        return list(self.notes.all())

    @property
    def block_note(self) -> ItemNote | None:
        """The note that gave the standing block reason (who blocked it, and when)."""
        if self.status != self.Status.BLOCKED:
            return None
        reasons = [n for n in self.note_list if n.status == self.Status.BLOCKED and n.changed]
        return reasons[-1] if reasons else None

    @property
    def history_notes(self) -> list[ItemNote]:
        """The notes the row lists under the item (the standing block reason shows apart)."""
        reason = self.block_note
        return [n for n in self.note_list if reason is None or n.pk != reason.pk]

    @property
    def render_key(self) -> str:
        """Changes whenever anything the item's row shows changes (the row cache key)."""
        role = self.owner_role if self.owner_role_id else None  # no query without one
        assignee = self.assignee if self.assignee_id else None
        parts = (
            self.pk,
            self.checklist_id,
            self.parent_id,
            self.status,
            self.note,
            self.text,
            self.verification,
            self.owner_role_id,
            role.name if role else "",
            self.assignee_id,
            assignee.name if assignee else "",
            self.changed_by_label,
            self.changed_at.isoformat() if self.changed_at else "",
            tuple(n.pk for n in self.note_list),
        )
        return hashlib.sha1(repr(parts).encode()).hexdigest()


class ItemNote(TextChecked):
    """A note on a checklist item, kept with who wrote it and when; notes only append.

    ``status`` is the item's status the note was given with; ``changed`` says whether
    that action changed the status (a block reason, a comment on a tick) or only added
    the note.
    """

    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(max_length=NOTE_MAX)
    status = models.CharField(max_length=10, choices=ChecklistItem.Status.choices)
    changed = models.BooleanField(default=False, help_text="The note came with a status change.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["item", "at", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class Gate(models.Model):
    """A decision point on the timeline: go/no-go, final approval."""

    class Kind(models.TextChoices):
        GO_NO_GO = "go_no_go", "Go / No-Go"
        FINAL_APPROVAL = "final_approval", "Final go-live approval"

    class Consensus(models.TextChoices):
        ALL = "all", "All required roles approve"
        QUORUM = "quorum", "A quorum of required roles approves"

    class DecisionRule(models.TextChoices):
        EACH = "each", "Each decision role confirms"
        ANY = "any", "Any one decision role decides"

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="gates"
    )
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GO_NO_GO)
    at_offset = models.DurationField(null=True, blank=True, help_text="Offset from T0.")
    decision_roles = models.ManyToManyField(
        "people.Role", blank=True, through="GateDecisionRole", related_name="gates_deciding"
    )
    consensus = models.CharField(max_length=10, choices=Consensus.choices, default=Consensus.ALL)
    decision_rule = models.CharField(
        max_length=10,
        choices=DecisionRule.choices,
        default=DecisionRule.EACH,
        help_text="With several decision roles: does each confirm, or does any one decide?",
    )
    quorum = models.PositiveSmallIntegerField(null=True, blank=True)
    checklist = models.OneToOneField(
        Checklist, null=True, blank=True, on_delete=models.SET_NULL, related_name="gate"
    )

    class Meta:
        ordering = ["release", "order", "id"]

    def __str__(self) -> str:
        return self.name


class GateDecisionRole(models.Model):
    """A role whose holders may decide at a gate ("Release Manager + VP Engineering")."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE)
    role = models.ForeignKey("people.Role", on_delete=models.CASCADE)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["gate", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["gate", "role"], name="gate_decision_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role} decides {self.gate}"


class RequiredSignOff(models.Model):
    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="required_signoffs")
    role = models.ForeignKey("people.Role", on_delete=models.CASCADE, related_name="+")
    criteria = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["gate", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["gate", "role"], name="required_signoff_unique_role")
        ]

    def __str__(self) -> str:
        return f"{self.role} — {self.gate}"


class ImmutableModel(TextChecked):
    """Rows that are never updated or deleted once written; new rows supersede them."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("force_insert", False):
            raise TypeError(f"{type(self).__name__} rows are immutable; record a new one")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are immutable; record a new one")


class SignOff(ImmutableModel):
    class Verdict(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    required = models.ForeignKey(RequiredSignOff, on_delete=models.CASCADE, related_name="signoffs")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="superseded_by"
    )

    class Meta:
        ordering = ["required", "at", "id"]
        constraints = [
            # One first sign-off per required role; later ones must supersede the latest.
            models.UniqueConstraint(
                fields=["required"],
                condition=models.Q(supersedes=None),
                name="signoff_one_root_per_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} {self.required} by {self.signer}"


class Decision(ImmutableModel):
    class Outcome(models.TextChoices):
        GO = "go", "GO"
        CONDITIONAL_GO = "conditional_go", "CONDITIONAL GO"
        NO_GO = "no_go", "NO-GO"

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField(max_length=RATIONALE_MAX)
    mitigations = models.JSONField(default=list, blank=True)
    new_date = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    snapshot = models.JSONField(default=dict)
    snapshot_hash = models.CharField(max_length=64)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="superseded_by"
    )

    class Meta:
        ordering = ["gate", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gate"],
                condition=models.Q(supersedes=None),
                name="decision_one_root_per_gate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.gate}"


class DecisionVote(ImmutableModel):
    """A decision role's answer to a proposed decision: confirm or object.

    A gate that names several decision roles ("Release Manager + VP Engineering")
    is decided when each has confirmed; one objection ends the proposal. The
    proposer's own confirmation is a vote too. One person answers for one role of a
    decision: a decision that needs two roles needs two people.
    """

    class Verdict(models.TextChoices):
        CONFIRM = "confirm", "Confirm"
        OBJECT = "object", "Object"

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    role = models.ForeignKey("people.Role", on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX)
    voted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    voter = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["decision", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "role"], name="vote_one_per_role"),
            models.UniqueConstraint(fields=["decision", "voter"], name="vote_one_role_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} {self.decision} for {self.role}"


class RollbackCall(TextChecked):
    """A raised rollback trigger and the clock on its decision ("decide within 5:00")."""

    class Choice(models.TextChoices):
        ROLL_BACK = "roll_back", "Roll back"
        FIX_FORWARD = "fix_forward", "Fix forward"
        CONTINUE = "continue", "Continue"

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="rollback_calls"
    )
    reason = models.TextField(max_length=REASON_MAX)
    criterion = models.ForeignKey(
        "deployments.RollbackCriterion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_by_label = models.CharField(max_length=200, blank=True)
    raised_at = models.DateTimeField()
    decide_by = models.DateTimeField()
    choice = models.CharField(max_length=20, choices=Choice.choices, blank=True)
    rationale = models.TextField(blank=True, max_length=RATIONALE_MAX)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release", "-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["release"],
                condition=models.Q(decided_at=None),
                name="rollbackcall_one_open_per_release",
            ),
        ]

    def __str__(self) -> str:
        return f"Rollback call: {self.reason[:60]}"
