"""Core models: the audit trail and API tokens. People live in ``warroom.people``."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from warroom.audit import AuditEvent

__all__ = ["ApiToken", "AuditEvent", "IdempotentAnswer", "RefusalTally"]


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str = "") -> tuple[ApiToken, str]:
        """Create a token for ``user``; return the row and the secret (shown once)."""
        token = "wr_" + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user, name=name, digest=cls.digest_of(token), prefix=token[:8]
        )
        return row, token


class IdempotentAnswer(models.Model):
    """The answer to a state-changing API request sent with an ``Idempotency-Key``,
    kept per user so a repeat of the request gets it again instead of a second change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_user_and_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


class RefusalTally(models.Model):
    """Anonymous refused attempts on a release, counted per source address and window.

    The first attempt of a window is recorded in the release's audit log; the rest only
    raise ``count`` here, so a flood of attempts writes one audit row per source and
    window, never one per attempt.
    """

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="refusal_tallies"
    )
    source = models.CharField(max_length=64, help_text="The client's address.")
    action = models.CharField(max_length=32)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-window_start", "release", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "source", "action", "window_start"],
                name="refusal_tally_unique_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} refused {self.action} x{self.count}"
