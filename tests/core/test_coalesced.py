"""``asyncdb.coalesced``: callers asking at the same time share one run; nobody gets an
answer from a run that started before they asked. ``asyncdb.batched``: the same, each
caller asking about its own item and getting its own answer."""

from __future__ import annotations

import asyncio
import threading

import pytest

from warroom.asyncdb import batched, coalesced, coalesced_on_loop

# The pool's threads close stale connections around each run (as Channels does), and a
# thread may hold one from an earlier test: database access must be allowed there.
pytestmark = pytest.mark.django_db(transaction=True)


class Source:
    """A query stand-in that counts its runs and can be held open."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> int:
        self.runs += 1
        run = self.runs
        self.started.set()
        assert self.release.wait(10)
        return run


async def test_fifty_callers_at_once_cost_two_runs():
    # The first caller's run starts at once; the 49 who asked after it share the next.
    source = Source()
    source.release.set()
    answers = await asyncio.gather(*(coalesced("k1", source) for _ in range(50)))
    assert source.runs == 2
    assert answers == [1] + [2] * 49


async def test_a_caller_arriving_during_a_run_waits_for_the_next_one():
    source = Source()
    first = asyncio.ensure_future(coalesced("k2", source))
    await asyncio.to_thread(source.started.wait, 10)
    # Run 1 is under way: these asked after it started, so they must not get its answer.
    late = [asyncio.ensure_future(coalesced("k2", source)) for _ in range(20)]
    await asyncio.sleep(0.05)
    source.release.set()
    assert await first == 1
    assert await asyncio.gather(*late) == [2] * 20
    assert source.runs == 2


async def test_every_caller_of_a_failed_run_gets_the_error_and_the_next_run_is_fresh():
    calls = []

    def failing():
        calls.append(1)
        raise LookupError("database went away")

    results = await asyncio.gather(
        *(coalesced("k3", failing) for _ in range(5)), return_exceptions=True
    )
    assert len(calls) == 2
    assert all(isinstance(r, LookupError) for r in results)
    assert await coalesced("k3", lambda: "back") == "back"


async def test_different_keys_run_separately():
    answers = await asyncio.gather(*(coalesced(k, lambda k=k: k.upper()) for k in "ab"))
    assert answers == ["A", "B"]


async def test_fifty_viewers_with_their_own_tokens_cost_two_runs_and_get_their_own_answers():
    runs: list[list[int]] = []

    def lookup(items):
        runs.append(sorted(items))
        return {i: f"user {i}" for i in items if i % 7}  # multiples of 7: unknown

    answers = await asyncio.gather(*(batched("b1", i, lookup) for i in range(50)))
    assert answers == [f"user {i}" if i % 7 else None for i in range(50)]
    # The first caller's run starts at once; the other 49 asked before the next one.
    assert runs == [[0], list(range(1, 50))]


async def test_a_batch_asked_about_the_same_item_twice_looks_it_up_once():
    runs: list[list[str]] = []

    def lookup(items):
        runs.append(list(items))
        return {i: i.upper() for i in items}

    answers = await asyncio.gather(*(batched("b2", k, lookup) for k in "abab"))
    assert answers == ["A", "B", "A", "B"]
    assert runs == [["a"], ["b", "a"]]


async def test_every_caller_of_a_failed_batch_gets_the_error():
    def failing(items):
        raise LookupError("database went away")

    results = await asyncio.gather(
        *(batched("b3", i, failing) for i in range(4)), return_exceptions=True
    )
    assert all(isinstance(r, LookupError) for r in results)
    assert await batched("b3", 1, lambda items: {1: "back"}) == "back"


async def test_readers_on_the_loop_share_one_read():
    reads = []

    async def read():
        reads.append(1)
        await asyncio.sleep(0)
        return len(reads)

    answers = await asyncio.gather(*(coalesced_on_loop("l1", read) for _ in range(30)))
    assert len(reads) == 2
    assert answers == [1] + [2] * 29
