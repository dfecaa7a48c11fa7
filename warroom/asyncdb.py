"""Database work from async code (websocket consumers), run side by side.

Channels' ``database_sync_to_async`` runs everything on Django's one shared thread,
so a thousand viewers reconnecting at once (a server restart) would be admitted one
after another. Admissions only read: they run here on a pool of threads as large as
the process's database connection pool, each call opening and closing (returning to
the pool) its own connection.
"""

from __future__ import annotations

import asyncio
import functools
import os
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.db import close_old_connections

_executor = ThreadPoolExecutor(
    max_workers=int(os.environ.get("DB_POOL_SIZE", 16)), thread_name_prefix="warroom-db"
)


def db_parallel(fn):
    """``fn`` as an awaitable that runs on the pool (old connections closed around it).

    Channels closes old connections around the call, but outside the context the call
    runs in; Django keeps a connection per context, so the one ``fn`` opened would stay
    checked out of the pool. It is closed (returned to the pool) here, in ``fn``'s own
    context.
    """

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return database_sync_to_async(run, thread_sensitive=False, executor=_executor)


class _Batch:
    def __init__(self, fn) -> None:
        self.fn = fn
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()


_waiting: dict[object, _Batch] = {}
_running: set[object] = set()


async def coalesced(key, fn):
    """``await db_parallel(fn)()``, with every caller asking for ``key`` at the same
    time sharing one run.

    A thousand viewers reconnecting at once (a server restart) read the same release row
    and the same missed events: instead of a thousand identical queries queueing for the
    pool, callers wait for the next run of ``key``'s query. A run starts only after all
    its callers have asked (while one runs, newcomers wait for the one after), so nobody
    gets an answer older than their own request; nothing is kept once a run is over.
    Callers of one key must pass equivalent ``fn``s.
    """
    batch = _waiting.get(key)
    if batch is None:
        batch = _waiting[key] = _Batch(fn)
        if key not in _running:
            _start(key)
    return await asyncio.shield(batch.future)


def _start(key) -> None:
    batch = _waiting.pop(key)
    _running.add(key)
    task = asyncio.get_running_loop().create_task(_run(key, batch))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Task] = set()


async def _run(key, batch: _Batch) -> None:
    try:
        batch.future.set_result(await db_parallel(batch.fn)())
    except asyncio.CancelledError:
        batch.future.cancel()
        raise
    except Exception as exc:  # each caller re-raises it
        batch.future.set_exception(exc)
        batch.future.exception()
    finally:
        _running.discard(key)
        if key in _waiting:
            _start(key)
