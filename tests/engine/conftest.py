"""Fixtures for the engine: a local service under deployment, and a queue the tests drain."""

from __future__ import annotations

import pytest

from tests.engine.fakes import Service


@pytest.fixture
def service():
    s = Service()
    yield s
    s.close()


class Queue:
    """The runs the engine sent to Celery, drained in-process by ``work()`` (the worker
    tests run real Celery processes instead)."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def __call__(self, run_id: int, delay: float = 0.0) -> None:
        self.sent.append(run_id)

    def work(self, owner: str = "worker-a", limit: int = 50) -> list[str]:
        from deployments import engine

        done = []
        while self.sent and limit:
            done.append(engine.execute(self.sent.pop(0), owner))
            limit -= 1
        return done


@pytest.fixture
def queue(monkeypatch):
    from deployments import engine

    q = Queue()
    monkeypatch.setattr(engine, "send", q)
    return q
