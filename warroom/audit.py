"""AuditEvent: the append-only, hash-chained history of a release.

Each event carries the release's sequence number (1, 2, 3 ... no gaps) and the
SHA-256 of its content chained to the previous event's hash, so a row changed or
removed behind the application's back is found by :func:`verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GENESIS = "0" * 64


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # pragma: no cover - guard
        raise TypeError("audit events are append-only")

    def delete(self):  # pragma: no cover - guard
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="events"
    )
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=64)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    ACTOR_LABEL_MAX = 200

    class Meta:
        ordering = ["release", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["release", "seq"], name="audit_unique_seq_per_release")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")

    def compute_hash(self) -> str:
        return chain_hash(
            prev_hash=self.prev_hash,
            release_id=self.release_id,
            seq=self.seq,
            kind=self.kind,
            at=self.at.isoformat(),
            actor=self.actor_label,
            data=self.data,
        )

    def as_message(self) -> dict:
        """The wire shape of the JSON event stream."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "actor": self.actor_label,
            "data": self.data,
        }


def release_model() -> Any:
    """The model the audit chain hangs off (its head: ``last_seq``, ``last_hash``).

    The core names it only through the foreign key, so it never imports a feature app
    (and, not knowing its class, types it as Any).
    """
    return AuditEvent._meta.get_field("release").related_model


def events_after(release_id: int, after: int, *, upto: int | None = None, limit: int | None = None):
    """The release's events with ``after < seq`` (``<= upto``), oldest first.

    What a reconnecting viewer, the API and the hub's gap filling all read.
    """
    rows = AuditEvent.objects.filter(release_id=release_id, seq__gt=after)
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    rows = rows.order_by("seq")
    return rows[:limit] if limit is not None else rows


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)


def chain_hash(
    *, prev_hash: str, release_id: int, seq: int, kind: str, at: str, actor: str, data: dict
) -> str:
    body = canonical_json(
        {
            "prev": prev_hash,
            "release": release_id,
            "seq": seq,
            "kind": kind,
            "at": at,
            "actor": actor,
            "data": data,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class ChainProblem:
    seq: int
    message: str


def verify_chain(release_id: int) -> ChainProblem | None:
    """Recompute a release's chain; return the first problem, or None when intact."""
    Release = release_model()
    expected_prev = GENESIS
    expected_seq = 1
    rows = (
        AuditEvent.objects.filter(release_id=release_id)
        .order_by("seq")
        .values_list("seq", "kind", "at", "actor_label", "data", "prev_hash", "hash")
        .iterator(chunk_size=2000)
    )
    for seq, kind, at, actor, data, prev_hash, stored in rows:
        if seq != expected_seq:
            return ChainProblem(expected_seq, f"event {expected_seq} is missing (next is {seq})")
        if prev_hash != expected_prev:
            return ChainProblem(seq, f"event {seq} does not link to event {seq - 1}")
        actual = chain_hash(
            prev_hash=prev_hash,
            release_id=release_id,
            seq=seq,
            kind=kind,
            at=at.isoformat(),
            actor=actor,
            data=data,
        )
        if actual != stored:
            return ChainProblem(seq, f"event {seq} was changed after it was recorded")
        expected_prev = stored
        expected_seq += 1
    release = Release.objects.filter(pk=release_id).values("last_seq", "last_hash").first()
    if release and release["last_seq"] != expected_seq - 1:
        return ChainProblem(
            expected_seq, f"events {expected_seq}..{release['last_seq']} are missing"
        )
    if release and release["last_seq"] and release["last_hash"] != expected_prev:
        return ChainProblem(expected_seq - 1, f"event {expected_seq - 1} is not the chain's head")
    return None
