"""The baseline for ``bench.engine``: a bare Celery no-op task chain (each task sends the
next, as each finished step queues the next), loaded into the worker with ``--include``."""

from __future__ import annotations

import time

from celery import shared_task

DONE_KEY = "bench:engine:chain-done"


@shared_task(name="bench.noop_chain", ignore_result=True)
def noop_chain(remaining: int, queue: str) -> None:
    if remaining > 1:
        noop_chain.apply_async(args=[remaining - 1, queue], queue=queue)
        return
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).set(DONE_KEY, repr(time.time()))
