"""Fault scenarios with real processes: a Redis of our own to stop, uvicorn to kill."""

from __future__ import annotations

import httpx
import pytest

from bench.faultkit import RedisServer


@pytest.fixture
def own_redis(tmp_path):
    """A private redis-server on a free port, stopped (and started again) by the test."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


class Ticker:
    """Ticks open items of a release through the HTTP API, as people in the room do."""

    def __init__(self, team, base: str, count: int):
        from checklists.models import ChecklistItem

        self.release = team.release
        self.items = list(
            ChecklistItem.objects.filter(checklist__release=self.release, status="todo")
            .order_by("id")
            .values_list("pk", flat=True)[:count]
        )
        assert len(self.items) == count, f"only {len(self.items)} open items"
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {team.token('rm')}"}, timeout=10
        )
        self.statuses: list[int] = []

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            item = self.items.pop(0)
            r = self.http.post(
                f"/api/releases/{self.release.pk}/items/{item}", json={"status": "done"}
            )
            self.statuses.append(r.status_code)

    def head(self) -> int:
        self.release.refresh_from_db()
        return self.release.last_seq
