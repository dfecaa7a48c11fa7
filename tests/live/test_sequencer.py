"""The hub's sequencer: racing broadcasts come out in order, duplicates are dropped."""

from warroom.live import Sequencer


def msg(seq):
    return {"seq": seq}


def test_events_arriving_out_of_order_are_released_in_order():
    s = Sequencer(expected=5)
    assert s.accept(msg(6)) == []
    assert s.gap == (5, 5)
    assert [m["seq"] for m in s.accept(msg(5))] == [5, 6]
    assert s.gap is None


def test_a_duplicate_or_stale_event_is_dropped():
    s = Sequencer(expected=3)
    assert [m["seq"] for m in s.accept(msg(3))] == [3]
    assert s.accept(msg(3)) == []
    assert s.accept(msg(1)) == []


def test_a_gap_reports_the_missing_range_until_it_is_filled():
    s = Sequencer(expected=10)
    s.accept(msg(13))
    s.accept(msg(12))
    assert s.gap == (10, 11)
    assert [m["seq"] for m in s.accept(msg(10))] == [10]
    assert s.gap == (11, 11)
    assert [m["seq"] for m in s.accept(msg(11))] == [11, 12, 13]


async def test_batches_from_racing_tasks_reach_a_viewer_in_order():
    """The layer's reader and this process's publisher hand the hub batches at once; a
    burst yields between its messages, and a later batch must not overtake it."""
    import asyncio

    from warroom.live import JSON, Hub, Viewer

    hub = Hub()
    got: list[int] = []

    async def send(frame):
        got.append(int(frame["text"]))

    viewer = Viewer(send, "json")
    viewer.buffer = None  # live, no replay
    hub.viewers[1] = {viewer}
    hub.sequencers[(1, JSON)] = Sequencer(expected=10)
    burst = [{"seq": n, "json": str(n)} for n in (10, 11, 12)]
    late = [{"seq": 13, "json": "13"}]
    await asyncio.gather(hub._sequence(1, JSON, burst), hub._sequence(1, JSON, late))
    await viewer.drained()
    assert got == [10, 11, 12, 13]


async def test_when_a_gap_cannot_be_read_the_events_after_it_still_go_out(monkeypatch):
    """A gap whose events the log cannot give (the database is away) is skipped; what
    arrived after it was waiting on the gap and goes out then, not never."""
    import asyncio

    from warroom import live
    from warroom.live import JSON, Hub, Viewer

    def database_away(*args):
        raise ConnectionError("database is away")

    monkeypatch.setattr(live, "_missing_messages", database_away)
    monkeypatch.setattr(Sequencer, "GAP_WAIT", 0.01)
    hub = Hub()
    got: list[int] = []

    async def send(frame):
        got.append(int(frame["text"]))

    viewer = Viewer(send, "json")
    viewer.buffer = None
    hub.viewers[1] = {viewer}
    hub.sequencers[(1, JSON)] = Sequencer(expected=10)
    await hub._sequence(1, JSON, [{"seq": 12, "json": "12"}, {"seq": 13, "json": "13"}])
    for _ in range(100):
        if not hub.gap_fills:
            break
        await asyncio.sleep(0.01)
    await viewer.drained()
    assert got == [12, 13]
    assert hub.sequencers[(1, JSON)].expected == 14
