"""A write sent again with its Idempotency-Key gets the first answer and changes nothing
(real uvicorn: the retry of a client that lost the answer, and copies racing)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.factories import team_release
from warroom.audit import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def events(release) -> int:
    return AuditEvent.objects.filter(release=release).count()


def test_a_repeated_write_is_answered_from_memory_and_applied_once(server_factory):
    team = team_release()
    release = team.release
    server = server_factory()
    rm = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {team.token('rm')}"}, timeout=20
    )
    item = team.item("DBA").pk
    url = f"/api/releases/{release.pk}/items/{item}"
    before = events(release)

    first = rm.post(url, json={"status": "done"}, headers={"Idempotency-Key": "tick-1"})
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    # Someone unticks it; then the lost request is sent again: it must not tick it again.
    assert rm.post(url, json={"status": "todo"}).status_code == 200
    again = rm.post(url, json={"status": "done"}, headers={"Idempotency-Key": "tick-1"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert events(release) == before + 2
    assert rm.get(f"/api/releases/{release.pk}").status_code == 200

    # The same key for another request is refused, naming the header.
    other = rm.post(url, json={"status": "na"}, headers={"Idempotency-Key": "tick-1"})
    assert other.status_code == 422
    assert other.json()["errors"] == [
        {"field": "Idempotency-Key", "message": "was already used for a different request"}
    ]
    bad = rm.post(url, json={"status": "na"}, headers={"Idempotency-Key": "x" * 256})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "Idempotency-Key"
    # Keys belong to their user: the same key from someone else is a request of its own.
    pm = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {team.token('pm')}"}, timeout=20
    )
    other_item = team.item("DBA", status="todo").pk
    mine = pm.post(
        f"/api/releases/{release.pk}/items/{other_item}",
        json={"status": "blocked", "note": "waiting for the vendor"},
        headers={"Idempotency-Key": "tick-1"},
    )
    assert mine.status_code in (200, 403)
    assert "Idempotent-Replayed" not in mine.headers
    # Errors the client made are remembered too (a repeat gets the same 4xx).
    missing = rm.post(
        f"/api/releases/{release.pk}/items/999999",
        json={"status": "done"},
        headers={"Idempotency-Key": "nope"},
    )
    assert missing.status_code == 404
    repeat = rm.post(
        f"/api/releases/{release.pk}/items/999999",
        json={"status": "done"},
        headers={"Idempotency-Key": "nope"},
    )
    assert (repeat.status_code, repeat.headers["Idempotent-Replayed"]) == (404, "true")


def test_copies_of_one_request_racing_apply_once(server_factory):
    team = team_release()
    release = team.release
    server = server_factory()
    headers = {"Authorization": f"Bearer {team.token('rm')}", "Idempotency-Key": "block-7"}
    item = team.item("DBA").pk
    before = events(release)

    def send(_: int) -> httpx.Response:
        # Eight copies of one request (one item, one note), as retries from a flaky network.
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
            return c.post(
                f"/api/releases/{release.pk}/items/{item}",
                json={"status": "blocked", "note": "the load balancer is not draining"},
            )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.content for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert events(release) == before + 1
