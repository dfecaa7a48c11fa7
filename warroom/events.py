"""Every change is an event: :func:`record` writes the AuditEvent in the caller's
transaction and, once that commits, broadcasts it to the release's viewers.

The sequence number is allocated under a lock on the release row, so events of
one release are numbered 1, 2, 3 ... without gaps or duplicates; the unique
constraint on (release, seq) makes any mistake fail loudly.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC

from django.db import transaction

from warroom import clock
from warroom.audit import GENESIS, AuditEvent, canonical_json

logger = logging.getLogger(__name__)


def actor_label_for(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    person = getattr(user, "person", None)  # missing relation raises AttributeError
    return person.name if person else (user.get_full_name() or user.get_username())


def record(
    release, kind: str, *, actor=None, actor_label: str | None = None, data: dict | None = None
) -> AuditEvent:
    """Append an event to ``release``'s audit chain; broadcast it after commit.

    Opens (or joins) a transaction. ``actor`` is a user or None for the system;
    ``actor_label`` overrides the name shown (e.g. "worker", "board link").
    """
    from deployments.models import Release

    # Normalise data to what the JSON column gives back, so the hash is reproducible.
    payload = json.loads(canonical_json(data or {}))
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = (
        actor_label if actor_label is not None else (actor_label_for(user) if user else "system")
    )
    with transaction.atomic():
        last_seq, last_hash = (
            Release.objects.select_for_update()
            .values_list("last_seq", "last_hash")
            .get(pk=release.pk)
        )
        event = AuditEvent(
            release_id=release.pk,
            seq=last_seq + 1,
            kind=kind,
            at=clock.now().astimezone(UTC),
            actor=user,
            actor_label=label[:200],
            data=payload,
            prev_hash=last_hash or GENESIS,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        Release.objects.filter(pk=release.pk).update(last_seq=event.seq, last_hash=event.hash)
        release.last_seq, release.last_hash = event.seq, event.hash
        transaction.on_commit(lambda: _broadcast(event))
    return event


def lock_head(release) -> None:
    """Take the release's row lock now (serialises writers that read-then-write)."""
    from deployments.models import Release

    Release.objects.select_for_update().filter(pk=release.pk).values_list("pk").get()


def _broadcast(event: AuditEvent) -> None:
    from warroom import live

    try:
        live.publish(event)
    except Exception:  # a broadcast failure must never undo or hide a committed change
        logger.exception(
            "broadcast of event %s/%s failed; viewers will catch up on replay",
            event.release_id,
            event.seq,
        )
