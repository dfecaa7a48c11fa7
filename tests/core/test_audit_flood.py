"""The audit log cannot be flooded: a refusal records the attempt, not what came with it
(bounded, hashed), and anonymous refusals are counted per source and window — one audit
row each, however many attempts."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from checklists import services as checklist_services
from deployments import services as release_services
from tests.factories import team_release
from warroom import events, policies
from warroom.asgi import application
from warroom.audit import AuditEvent
from warroom.models import RefusalTally
from warroom.people.models import Role

# At once, from two addresses: below the test process's 16 pooled PostgreSQL connections
# (more at once waits for the pool in tests, before and after this change alike).
N_MANY = 12
FIVE_MB = 5 * 1024 * 1024


def last_refusal(release) -> AuditEvent:
    return AuditEvent.objects.filter(release=release, kind="access.denied").order_by("-seq")[0]


@pytest.mark.django_db
def test_a_refused_rollback_with_a_5_mb_reason_records_its_length_and_hash_only():
    team = team_release()
    reason = "r" * FIVE_MB
    with pytest.raises(policies.Refused):  # a stakeholder may not raise a rollback
        checklist_services.rollback_raise(release=team.release, reason=reason, user=team["pm"])
    row = last_refusal(team.release)
    assert row.data["breach"] == {
        "length": FIVE_MB,
        "sha256": hashlib.sha256(reason.encode()).hexdigest(),
    }
    assert row.data["action"] == "raise_rollback"
    assert len(json.dumps(row.data)) < 600


@pytest.mark.django_db
def test_any_long_or_unstorable_value_of_a_refusal_is_replaced_by_its_fingerprint():
    team = team_release()
    role = Role.objects.get(release=team.release, name="DBA")
    with pytest.raises(policies.Refused):  # only the manager assigns people
        release_services.role_assign(
            role=role, username="u" * 100_000, kind="primary", user=team["qa"]
        )
    row = last_refusal(team.release)
    assert row.data["username"]["length"] == 100_000 and row.data["role"] == "DBA"
    data = policies.attempt_of({"note": "a\x00b", **{f"k{n}": n for n in range(20)}})
    assert data["note"]["length"] == 3  # a NUL would fail on PostgreSQL: hashed
    assert len(data) == policies.ATTEMPT_KEYS_MAX


async def anonymous_attempt(release_pk: int, source: str) -> int:
    comm = WebsocketCommunicator(
        application, f"/ws/releases/{release_pk}/live", headers=[(b"origin", b"http://localhost")]
    )
    comm.scope["client"] = (source, 40000)  # read when the application starts, below
    connected, code = await comm.connect(timeout=10)
    assert not connected
    return code


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anonymous_socket_attempts_are_one_row_per_source_and_window_with_a_count():
    team = await database_sync_to_async(team_release)()
    rows_before = await database_sync_to_async(
        AuditEvent.objects.filter(release=team.release).count
    )()
    # Many at once from one address, a few from another.
    codes = await asyncio.gather(
        *[anonymous_attempt(team.release.pk, "203.0.113.7") for _ in range(N_MANY)],
        *[anonymous_attempt(team.release.pk, "198.51.100.2") for _ in range(3)],
    )
    assert set(codes) == {4403}

    def recorded():
        rows = list(AuditEvent.objects.filter(release=team.release, seq__gt=rows_before))
        tallies = {t.source: t.count for t in RefusalTally.objects.filter(release=team.release)}
        return rows, tallies

    rows, tallies = await database_sync_to_async(recorded)()
    assert tallies == {"203.0.113.7": N_MANY, "198.51.100.2": 3}  # exact, under concurrency
    assert sorted(r.data["source"] for r in rows) == ["198.51.100.2", "203.0.113.7"]
    assert all(r.kind == "access.denied" and r.data["counted"] for r in rows)
    assert "further attempts from there in this window are counted" in (
        await database_sync_to_async(events.describe)(rows[0])
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_new_window_gets_a_new_row():
    team = await database_sync_to_async(team_release)()
    with override_settings(ANONYMOUS_REFUSAL_WINDOW_SECONDS=1):
        await anonymous_attempt(team.release.pk, "192.0.2.1")
        await asyncio.sleep(1.1)
        await anonymous_attempt(team.release.pk, "192.0.2.1")
    count = await database_sync_to_async(
        AuditEvent.objects.filter(release=team.release, kind="access.denied").count
    )()
    assert count == 2
