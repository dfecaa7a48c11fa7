"""Websocket admissions return their database connections to the pool.

Django keeps a connection per context; Channels closed old connections outside the
context a call ran in, so every socket admitted on a pool thread kept a PostgreSQL
connection checked out until all of the process's pool was pinned (and requests then
waited for one). ``asyncdb.db_parallel`` closes them in the call's own context.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from tests.core.test_audit_flood import anonymous_attempt
from tests.factories import team_release


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_refused_sockets_leave_no_connection_checked_out():
    if connection.vendor != "postgresql" or connection.pool is None:
        pytest.skip("the connection pool is PostgreSQL's")
    team = await database_sync_to_async(team_release)()

    def checked_out() -> int:
        stats = connection.pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = await database_sync_to_async(checked_out)()
    await asyncio.gather(*[anonymous_attempt(team.release.pk, "198.51.100.9") for _ in range(15)])
    # The refusals' audit rows go out on the publisher's thread, which holds a connection
    # for a moment: wait for it; 15 sockets used to keep 15 for good.
    after = await database_sync_to_async(checked_out)()
    for _ in range(50):
        if after <= before:
            break
        await asyncio.sleep(0.1)
        after = await database_sync_to_async(checked_out)()
    assert after <= before
