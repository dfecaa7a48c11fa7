"""The database drops connections under a running server (real uvicorn).

PostgreSQL terminates every connection of the pool (as a restart or a failover does):
the next requests are answered on fresh connections — none fails, nothing is half
written. A database that is not there at all gets JSON 503 + Retry-After from the API.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import team_release
from tests.faults.conftest import Ticker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


# The server under test names its connections (libpq reads PGAPPNAME), so only they are
# terminated: the test process's own pooled connections must outlive this test.
SERVER_APP = "warroom-blink-server"


def terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [SERVER_APP],
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL terminates backends")
def test_terminated_connections_cost_no_request(server_factory):
    team = team_release(items_per_list=25)
    server = server_factory(extra_env={"PGAPPNAME": SERVER_APP})
    ticker = Ticker(team, server.url, 70)
    reader = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {team.token('pm')}"}, timeout=15
    )
    path = f"/api/releases/{team.release.pk}"
    with ThreadPoolExecutor(8) as pool:  # grow the server's pool to several connections
        assert set(pool.map(lambda _: reader.get(path).status_code, range(40))) == {200}
    ticker.tick(5)
    first = ticker.head() - 4

    assert terminate_other_connections() >= 2
    t0 = time.monotonic()
    statuses = [reader.get(path).status_code]
    first_answer = time.monotonic() - t0
    ticker.tick()
    for _ in range(29):
        statuses.append(reader.get(path).status_code)
        ticker.tick()
    with ThreadPoolExecutor(8) as pool:
        statuses += list(pool.map(lambda _: reader.get(path).status_code, range(30)))
        pool.map(lambda _: ticker.tick(), range(35))

    assert statuses == [200] * 60
    assert ticker.statuses == [200] * 70
    assert first_answer < 5, f"the first request after the blink took {first_answer:.1f} s"
    # Nothing half-written: 70 ticks, 70 events, an intact chain.
    assert ticker.head() == first + 69
    call_command("verify_audit", release=team.release.pk)


def test_the_api_answers_json_503_when_the_database_is_away(server_factory):
    server = server_factory(
        extra_env={"DATABASE_URL": "sqlite:////nonexistent-warroom-dir/warroom.sqlite3"}
    )
    r = httpx.get(server.url + "/api/releases/1", headers={"Authorization": "Bearer x"}, timeout=10)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["detail"].startswith(
        "A service Warroom needs is unavailable (OperationalError)"
    )
    page = httpx.get(server.url + "/", timeout=10)
    assert page.status_code in (302, 503)  # the login redirect needs no database
