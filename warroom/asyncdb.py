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
import weakref
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
    def __init__(self, run) -> None:
        self.run = run  # (batch) -> awaitable: the one query every caller shares
        self.items: dict = {}  # what batched() callers asked about, in order
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()


class _Batches:
    """Per event loop: the batch waiting to run for each key, and the keys running."""

    def __init__(self) -> None:
        self.waiting: dict[object, _Batch] = {}
        self.running: set[object] = set()
        self.tasks: set[asyncio.Task] = set()


def per_loop(registry: weakref.WeakKeyDictionary, make):
    """``registry``'s object for the running event loop, made by ``make()`` the first
    time (tests run many loops in one process; each gets its own)."""
    loop = asyncio.get_running_loop()
    found = registry.get(loop)
    if found is None:
        found = registry[loop] = make()
    return found


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batches] = weakref.WeakKeyDictionary()


def _batches() -> _Batches:
    return per_loop(_loops, _Batches)


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
    return await _join(key, lambda _batch: db_parallel(fn)())


async def coalesced_on_loop(key, fn):
    """As :func:`coalesced` for a coroutine function that runs on the event loop itself
    (a Redis read): callers asking for ``key`` at the same time share one ``await fn()``."""
    return await _join(key, lambda _batch: fn())


async def batched(key, item, fn):
    """``fn``'s answer for ``item``, with every caller asking under ``key`` at the same
    time sharing one run of ``fn(items)`` on the pool.

    Like :func:`coalesced`, but each caller asks about its own ``item`` (hashable): a
    run gets the distinct items of all callers that asked before it started, and
    ``fn(items)`` returns a dict item -> answer (a missing item's answer is None). A
    thousand viewers reconnecting with a thousand tokens cost a few queries, not a
    thousand. Callers of one key must pass equivalent ``fn``s.
    """
    batch = _batch(key, lambda b: db_parallel(fn)(list(b.items)))
    batch.items.setdefault(item, None)
    answers = await asyncio.shield(batch.future)
    return answers.get(item)


async def batched_on_loop(key, item, fn):
    """As :func:`batched` for a coroutine function ``fn(items)`` that runs on the event
    loop itself (one Redis command for everybody's entries)."""
    batch = _batch(key, lambda b: fn(list(b.items)))
    batch.items.setdefault(item, None)
    answers = await asyncio.shield(batch.future)
    return answers.get(item) if answers else None


def _batch(key, run) -> _Batch:
    batches = _batches()
    batch = batches.waiting.get(key)
    if batch is None:
        batch = batches.waiting[key] = _Batch(run)
        if key not in batches.running:
            _start(batches, key)
    return batch


async def _join(key, run):
    return await asyncio.shield(_batch(key, run).future)


def _start(batches: _Batches, key) -> None:
    batch = batches.waiting.pop(key)
    batches.running.add(key)
    task = asyncio.get_running_loop().create_task(_run(batches, key, batch))
    batches.tasks.add(task)
    task.add_done_callback(batches.tasks.discard)


async def _run(batches: _Batches, key, batch: _Batch) -> None:
    try:
        batch.future.set_result(await batch.run(batch))
    except asyncio.CancelledError:
        batch.future.cancel()
        raise
    except Exception as exc:  # each caller re-raises it
        batch.future.set_exception(exc)
        batch.future.exception()
    finally:
        batches.running.discard(key)
        if key in batches.waiting:
            _start(batches, key)
