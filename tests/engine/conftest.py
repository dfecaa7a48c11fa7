"""Fixtures for the engine: a local service under deployment, and a queue the tests drain."""

from __future__ import annotations

import os

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


class Prometheus:
    """The real Prometheus server (Debian's ``prometheus``), scraping ``exporter`` every
    second, on a free port, with its data under the test's tmp directory."""

    def __init__(self, tmp_path, exporter) -> None:
        import shutil
        import subprocess

        from tests.conftest import free_port

        binary = shutil.which("prometheus")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("Prometheus is not installed: CI installs Debian's prometheus first")
            pytest.skip("Prometheus is not installed (make test installs Debian's prometheus)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: app\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{exporter.port}']\n"
        )
        self.log = tmp_path / "prometheus.log"
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    def value(self, query: str):
        from deployments.executors.prometheus import query_value

        return query_value(self.url, query, 5)[0]

    def wait_for(self, query: str, predicate, timeout: float = 20):
        """Until Prometheus has scraped a sample of ``query`` for which ``predicate`` holds."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.value(query)
            if v is not None and predicate(v):
                return v
            time.sleep(0.25)
        raise AssertionError(f"{query} never met the condition (last {self.value(query)})")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()


@pytest.fixture
def exporter():
    from tests.engine.fakes import Exporter

    e = Exporter()
    yield e
    e.close()


@pytest.fixture
def prometheus(tmp_path, exporter, settings):
    p = Prometheus(tmp_path, exporter)
    settings.PROMETHEUS_URL = p.url
    yield p
    p.stop()
