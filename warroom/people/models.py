"""People, the roles a release needs, and who holds them (primary and backups)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from warroom.validation import TextChecked

#: what people write in a seat they have not filled yet (the importer knows more, in eight
#: languages; these are the ones typed by hand in the people and roles editors)
NOBODY_YET = frozenset(
    {"tbd", "tba", "tbc", "n/a", "na", "none", "nobody", "unknown", "unassigned", "vacant"}
)


class Person(TextChecked):
    """Someone on a go-live: a team member, a stakeholder, or a contact from the runbook.

    ``user`` is set when the person can log in. Placeholders from a runbook
    ("[TBD]", "____") are kept verbatim in ``name`` so they stay visibly unfilled.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    slack_handle = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_placeholder(self) -> bool:
        """A name that holds a seat open: blank, a "[bracketed]" or "<angled>" stand-in,
        a line to write on ("____"), or a word people type for "nobody yet" ("TBD")."""
        text = self.name.strip()
        return (
            not text
            or text[0] in "[<"
            or set(text) <= set("_- .?")
            or text.casefold().strip(".!?") in NOBODY_YET
        )


class Role(TextChecked):
    """A role on one release, e.g. "DBA", with its duty."""

    class Kind(models.TextChoices):
        TEAM = "team", "Team"
        STAKEHOLDER = "stakeholder", "Stakeholder"

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="roles"
    )
    name = models.CharField(max_length=120)
    duty = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TEAM)
    is_release_manager = models.BooleanField(
        default=False, help_text="Holders may change every item and edit the plan."
    )
    is_declared = models.BooleanField(
        default=True, help_text="In the runbook's team table (not only named by an item)."
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["release", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "name"], name="role_unique_name_per_release")
        ]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """A person holding a role on a release, as primary or backup."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", "Primary"
        BACKUP = "backup", "Backup"

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRIMARY)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["role", "kind", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["role", "person"], name="assignment_unique_person_role")
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.role} ({self.kind})"


class Notice(models.Model):
    """Something a person is told in the app ("You were added to Orbit Payments as DBA"),
    shown on their home page until they mark it read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    release = models.ForeignKey(
        "deployments.Release", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(max_length=400)
    at = models.DateTimeField()
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "seen_at"], name="notice_user_unseen")]

    def __str__(self) -> str:
        return self.text
