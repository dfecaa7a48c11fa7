"""Database work from async code (websocket consumers), run side by side.

Channels' ``database_sync_to_async`` runs everything on Django's one shared thread,
so a thousand viewers reconnecting at once (a server restart) would be admitted one
after another. Admissions only read: they run here on a pool of threads as large as
the process's database connection pool, each call opening and closing (returning to
the pool) its own connection.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async

_executor = ThreadPoolExecutor(
    max_workers=int(os.environ.get("DB_POOL_SIZE", 16)), thread_name_prefix="warroom-db"
)


def db_parallel(fn):
    """``fn`` as an awaitable that runs on the pool (old connections closed around it)."""
    return database_sync_to_async(fn, thread_sensitive=False, executor=_executor)
