"""Live fan-out: events go out once per process, not once per viewer.

``publish`` (called after commit) queues the committed batch of events for this
process's :class:`Publisher`, which sends their JSON in one message at once and then,
where a page of the release is open, their fragments, rendered once per event by the
app that owns the pages (:func:`use_fragments`), to the release's channel-layer group.
In each server process a :class:`Hub` holds one layer subscription per release that has
local viewers, and writes the ready text to each viewer's socket. Viewers drop what they
already have (by sequence number) and fetch what they missed, so nothing is lost across
reconnects.

Presence (the roll call) lives in Redis, so every process sees every viewer.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import contextvars
import json
import logging
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from warroom import events, revoke, wsframes
from warroom.asyncdb import batched_on_loop, coalesced_on_loop, per_loop
from warroom.audit import AuditEvent, events_after, release_model
from warroom.events import EventKind

logger = logging.getLogger(__name__)

PRESENCE_TTL = 90  # seconds a presence entry lives without a refresh
# Roll-call changes are coalesced: when a room of viewers connects at once (a server
# restart), each process announces and re-renders the roll call once per window,
# not once per viewer to every viewer (which grows with the square of the viewers).
PRESENCE_COALESCE = 0.5
PRESENCE_REFRESH = 30
# Access changes heard in the last seconds are applied to sockets joining now too: one
# may have been let in just before the change and joined just after it.
ACCESS_CHANGE_MEMORY = 10.0


def group_name(release_id: int) -> str:
    return f"release.{release_id}"


def watch_key(release_id: int) -> str:
    """Set in Redis while some process has viewers of the release's pages (war room, board)."""
    return f"warroom:watching:{release_id}"


# Two streams per event: the JSON (ready at once) and the htmx fragments (rendered
# from the database, which takes longer). JSON viewers never wait for the render.
JSON, HTML = "json", "html"
# Closes a viewer that fell too far behind: "try again later" (clients reconnect with ?after=).
CLOSE_RESYNC = 1013


class Fragments(Protocol):
    """What the live path needs from the app that owns the pages (it knows no templates)."""

    def event(self, event: AuditEvent, kind: EventKind) -> dict[str, str]:
        """The out-of-band fragments per variant ("warroom", "board") for ``event``."""

    def presence(self, names: list[str]) -> str:
        """The roll call fragment for the people connected now."""


_fragments: Fragments | None = None


def use_fragments(fragments: Fragments) -> None:
    """Called once by the app that renders the pages (in its ``AppConfig.ready``)."""
    global _fragments
    _fragments = fragments


def json_message(event: AuditEvent) -> dict:
    return {
        "type": "release.event",
        "stream": JSON,
        "seq": event.seq,
        "json": json.dumps(event.as_message(), separators=(",", ":")),
    }


def html_message(event: AuditEvent, kind: EventKind | None = None) -> dict:
    rendered = _fragments.event(event, kind or events.kind_of(event.kind)) if _fragments else {}
    return {"type": "release.event", "stream": HTML, "seq": event.seq, **rendered}


def html_placeholder(seq: int) -> dict:
    """Keeps the fragments stream's sequence where nobody has the pages open (no render)."""
    return {"type": "release.event", "stream": HTML, "seq": seq}


# One committed batch goes to a release's group as one message per stream: the events'
# messages in seq order, the JSON first. Where no page of the release is open anywhere,
# the fragments stream gets placeholders (sequence numbers, nothing rendered).
BATCH = "release.events"


def batch_message(stream: str, messages: list[dict]) -> dict:
    return {"type": BATCH, "stream": stream, "events": messages}


class Publisher:
    """Takes committed events off the writer's path.

    The request or task thread only hands each committed batch over (:meth:`submit`,
    one per transaction's :func:`events.record_many`): its JSON to the hubs of its own
    process, whose viewers need nothing more, and the batch to a queue. One thread per
    process takes what is queued (several batches when they pile up) and sends, per
    release, the JSON of every event in one message to the layer (other processes'
    viewers) — the releases' messages side by side — waits until its own process's hubs
    have handed the JSON out (rendering meanwhile would take turns at the interpreter
    lock with a hub writing to a thousand sockets), asks Redis once which releases have
    a page open and then sends each release's fragments — rendered once per event, only
    where pages are open; placeholders elsewhere — in one message. Events
    leave in the order they were queued. Nothing here may block an event loop: the
    thread owns its own loop for the channel layer's sends.
    """

    TAKE_AT_MOST = 200  # queued batches sent together
    LOCAL_WAIT = 0.25  # seconds to wait for this process's hubs to fan a batch out

    def __init__(self) -> None:
        self._redis: Any = None
        self._queue: queue.SimpleQueue[Handed | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._unfinished = 0

    def submit(self, batch: list[AuditEvent]) -> None:
        handed = Handed(batch)
        for release_id, its_events in _by_release(batch).items():
            messages = [json_message(e) for e in its_events]
            handed.json[release_id] = messages
            handed.local += _hand_to_local_hubs(release_id, JSON, messages)
        with self._idle:
            self._unfinished += 1
        self._queue.put(handed)
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="warroom-publisher", daemon=True
                    )
                    self._thread.start()

    def _pages_watched(self, release_ids: list[int]) -> dict[int, bool]:
        """For each release, does any process have its war room or board open? One round
        trip for them all. (When Redis cannot say, assume so: a needless render costs
        less than a stale page.)

        Asked after the events committed, so a page that opens later has set the mark
        before it read the release's head: what it does not replay is rendered for it."""
        if not release_ids:
            return {}
        try:
            if self._redis is None:
                import redis

                self._redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
            pipe = self._redis.pipeline(transaction=False)
            for release_id in release_ids:
                pipe.exists(watch_key(release_id))
            return {pk: bool(n) for pk, n in zip(release_ids, pipe.execute(), strict=True)}
        except Exception:
            return dict.fromkeys(release_ids, True)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event has gone out; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def _take(self) -> list[Handed] | None:
        """The next batch and those queued behind it; None when told to stop."""
        first = self._queue.get()
        if first is None:
            return None
        taken = [first]
        while len(taken) < self.TAKE_AT_MOST:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)
                break
            taken.append(more)
        return taken

    def _run(self) -> None:
        from django.db import close_old_connections

        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            taken = self._take()
            if taken is None:
                break
            by_release = _by_release([e for handed in taken for e in handed.batch])
            local = [f for handed in taken for f in handed.local]
            try:
                self._send(loop, layer, by_release, taken, local)
            finally:
                close_old_connections()
                with self._idle:
                    self._unfinished -= len(taken)
                    self._idle.notify_all()

    def _send(
        self,
        loop,
        layer,
        by_release: dict[int, list[AuditEvent]],
        taken: list[Handed],
        local: list[futures.Future],
    ) -> None:
        """Per release, the JSON of its events in one message — every release's at once —
        then, once this process's hubs have handed those out, its fragments (or
        placeholders where no page is open, asked of Redis once for them all), again all
        at once. A release whose JSON did not go out sends no fragments: its viewers
        catch up from the log (:meth:`Hub.catch_up`)."""
        json_messages = {
            release_id: batch_message(JSON, [m for h in taken for m in h.json.get(release_id, ())])
            for release_id in by_release
        }
        try:
            sent = self._send_each(loop, layer, by_release, json_messages)
        finally:
            futures.wait(local, self.LOCAL_WAIT)
        watched = self._pages_watched(sent)
        html_messages = {}
        for release_id in sent:
            its_events = by_release[release_id]
            try:
                if watched.get(release_id, True):
                    fragments = [html_message(e, events.kind_of(e.kind)) for e in its_events]
                else:
                    fragments = [html_placeholder(e.seq) for e in its_events]
                _hand_to_local_hubs(release_id, HTML, fragments)
            except Exception as exc:  # its viewers catch up from the log
                _failed(release_id, its_events, exc)
                continue
            html_messages[release_id] = batch_message(HTML, fragments)
        self._send_each(loop, layer, by_release, html_messages)

    @staticmethod
    def _send_each(loop, layer, by_release: dict, messages: dict[int, dict]) -> list[int]:
        """Each release's message to its group, side by side on the thread's loop; the
        releases whose message went out (a failure is logged and is that release's
        alone)."""

        async def send_all() -> list:
            sends = [layer.group_send(group_name(pk), m) for pk, m in messages.items()]
            return await asyncio.gather(*sends, return_exceptions=True)

        if not messages:
            return []
        sent = []
        for release_id, result in zip(messages, loop.run_until_complete(send_all()), strict=True):
            if isinstance(result, BaseException):
                _failed(release_id, by_release[release_id], result)
            else:
                sent.append(release_id)
        return sent


def _failed(release_id: int, its_events: list[AuditEvent], exc: BaseException) -> None:
    """A release's events that did not go out: its viewers catch up from the log
    (:meth:`Hub.catch_up`)."""
    logger.warning(
        "publishing %s/%s..%s failed: %s: %s",
        release_id,
        its_events[0].seq,
        its_events[-1].seq,
        type(exc).__name__,
        exc,
    )


@dataclass
class Handed:
    """A committed batch as the writer's thread handed it over: its events, their JSON
    messages by release, and what completes when this process's hubs have sent those."""

    batch: list[AuditEvent]
    json: dict[int, list[dict]] = field(default_factory=dict)
    local: list[futures.Future] = field(default_factory=list)


def _by_release(batch: list[AuditEvent]) -> dict[int, list[AuditEvent]]:
    by_release: dict[int, list[AuditEvent]] = {}
    for event in batch:
        by_release.setdefault(event.release_id, []).append(event)
    return by_release


publisher = Publisher()
atexit.register(publisher.flush, 5.0)


@events.subscribe_batch(events.ALL, after_commit=True)
def publish(batch: list[AuditEvent]) -> None:
    """Queue a committed batch for every process with viewers of its release."""
    publisher.submit(batch)


def _missing_messages(release_id: int, stream: str, first: int, last: int) -> list[dict]:
    rows = events_after(release_id, first - 1, upto=last)
    return [json_message(e) if stream == JSON else html_message(e) for e in rows]


def _head(release_id: int) -> int:
    Release = release_model()
    return Release.objects.filter(pk=release_id).values_list("last_seq", flat=True).first() or 0


class Sequencer:
    """Puts one release's events back in sequence order before viewers get them.

    Events commit in order (the release row lock) but their broadcasts race
    between threads and processes, so seq 41 can arrive before seq 40. Early
    arrivals wait here; a gap that stays open is filled from the audit log.
    """

    GAP_WAIT = 0.3  # seconds to wait for a late broadcast before reading the database

    def __init__(self, expected: int):
        self.expected = expected
        self.pending: dict[int, dict] = {}
        self.turn = asyncio.Lock()  # held while accepted messages go out (Hub._sequence)

    def accept(self, message: dict) -> list[dict]:
        """Messages now deliverable, in order (none when ``message`` is early or stale)."""
        seq = message["seq"]
        if seq >= self.expected:
            self.pending[seq] = message
        return self.ready()

    def ready(self) -> list[dict]:
        """The waiting messages that are next in order (after a skipped gap, too)."""
        ready = []
        while self.expected in self.pending:
            ready.append(self.pending.pop(self.expected))
            self.expected += 1
        return ready

    @property
    def gap(self) -> tuple[int, int] | None:
        """The missing range (first, last) while later events wait, else None."""
        if not self.pending:
            return None
        return self.expected, min(self.pending) - 1


class Viewer:
    """One websocket viewing one release, as the hub sees it.

    ``variant`` picks the text it receives ("json", "warroom" or "board");
    ``send`` is the connection's raw ASGI send. While it replays history it
    buffers live messages, then flushes those it lacks.

    Frames wait in a bounded queue that the viewer's own writer task drains, so a
    socket whose send buffer is full holds back nobody else. A viewer that falls
    ``LIVE_VIEWER_QUEUE`` frames behind loses them and is closed with 1013 (try again
    later): browsers and clients reconnect with ``?after=`` and resync from the log.
    """

    def __init__(
        self,
        send: Callable[[dict], Awaitable[None]],
        variant: str,
        last_seq: int = 0,
        presence_name: str = "",
        *,
        user_id: int | None = None,
        credential: str = "",
        still_allowed: Callable[[], Awaitable[bool]] | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
    ):
        self.send = send
        self.variant = variant
        self.last_seq = last_seq
        self.presence_name = presence_name
        # What ends its access (warroom.revoke): the digest of the credential it opened
        # with, the login it acts as, how to ask the policy again and how to close it.
        self.user_id = user_id
        self.credential = credential
        self.still_allowed = still_allowed
        self.close = close
        self.release_id: int | None = None
        self.presence_key = f"{uuid.uuid4().hex}|{presence_name}"
        self.stream = JSON if variant == "json" else HTML
        self.buffer: list[dict] | None = []  # None once live
        self.pending: collections.deque[dict] = collections.deque()
        self.writer: asyncio.Task | None = None
        self.overflowed = False
        self.limit: int = settings.LIVE_VIEWER_QUEUE
        # The same frame bytes for every viewer, written straight to the socket where the
        # server allows it (warroom.wsframes); else through ``send``.
        self.wire = wsframes.direct_writer(send)

    async def deliver(self, message: dict, frames: dict[Any, Any] | None = None) -> None:
        """Queue ``message`` unless already sent; ``frames`` caches the ASGI message per
        variant so a thousand viewers share one dict instead of building their own."""
        if self.buffer is not None:
            self.buffer.append(message)
            return
        seq = message.get("seq")
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        frame = frames.get(self.variant) if frames is not None else None
        if frame is None:
            text = message.get(self.variant)
            if not text:
                return
            frame = {"type": "websocket.send", "text": text}
            if frames is not None:
                frames[self.variant] = frame
        if not self._write_now(frame, frames):
            self.enqueue(frame)

    def _write_now(self, frame: dict, frames: dict[Any, Any] | None) -> bool:
        """Write ``frame`` straight to the socket when nothing is queued or in flight
        before it (so order holds), as bytes encoded once for every viewer sharing
        ``frames``; False when it has to go through the queue."""
        if self.wire is None or self.overflowed or self.pending:
            return False
        if self.writer is not None and not self.writer.done():
            return False
        wire = frames.get((self.variant, "wire")) if frames is not None else None
        if wire is None:
            wire = wsframes.encode_text(frame["text"])
            if frames is not None:
                frames[(self.variant, "wire")] = wire
        return self.wire.write(wire)

    def enqueue(self, frame: dict) -> None:
        if self.overflowed:
            return
        if len(self.pending) >= self.limit:
            self.overflowed = True
            self.pending.clear()
            self.pending.append({"type": "websocket.close", "code": CLOSE_RESYNC})
            logger.warning("a viewer fell %s messages behind; closing it to resync", self.limit)
        else:
            self.pending.append(frame)
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        while self.pending:
            frame = self.pending.popleft()
            try:
                await self.send(frame)
            except Exception:  # the socket is gone: its disconnect removes the viewer
                logger.debug("delivery to a viewer failed", exc_info=True)
                self.overflowed = True
                self.pending.clear()
                return

    async def drained(self) -> None:
        """Wait until the queued frames have been handed to the socket."""
        while self.writer is not None and not self.writer.done():
            await asyncio.shield(self.writer)

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.cancel()
        self.pending.clear()

    async def go_live(self, replayed_up_to: int) -> None:
        """Replay is done up to ``replayed_up_to``: flush buffered messages after it."""
        self.last_seq = max(self.last_seq, replayed_up_to)
        buffered, self.buffer = self.buffer or [], None
        for message in buffered:
            await self.deliver(message)


def layer_state_message(up: bool) -> dict:
    """Tells pages whether live updates flow ("live") or wait for the layer ("reconnecting…")."""
    text = f'<span id="live-state" data-live="{int(up)}" hidden hx-swap-oob="true"></span>'
    return {"type": "release.layer", "warroom": text, "board": text}


def _heads(release_ids: list[int]) -> dict[int, int]:
    Release = release_model()
    return dict(Release.objects.filter(pk__in=release_ids).values_list("pk", "last_seq"))


class Hub:
    """Per-process registry of local viewers, one layer subscription per release.

    A watchdog task pings the layer's Redis every ``PROBE_EVERY`` seconds: pages are
    told when it goes away and comes back, releases whose subscription failed are
    subscribed again, and each release's latest committed sequence number is compared
    with what this process has delivered (at once after the layer returns, then every
    ``CATCH_UP_EVERY`` seconds), so events whose broadcast was lost reach viewers
    without waiting for the next one.
    """

    PROBE_EVERY = 1.0
    CATCH_UP_EVERY = 3.0
    LAYER_TIMEOUT = 2.0

    def __init__(self) -> None:
        self.viewers: dict[int, set[Viewer]] = {}
        self.readers: dict[int, asyncio.Task] = {}
        self.channels: dict[int, str] = {}
        self.sequencers: dict[tuple[int, str], Sequencer] = {}
        self.gap_fills: dict[tuple[int, str], asyncio.Task] = {}
        self.layer_up = True
        self._lock = asyncio.Lock()
        self._presence_task: asyncio.Task | None = None
        self._watchdog: asyncio.Task | None = None
        self._announcing: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._presence_due: dict[int, asyncio.Task] = {}
        self._redis: Any = None
        self._access_reader: asyncio.Task | None = None
        self._access_channel: str | None = None
        self._access_lock = asyncio.Lock()
        self._recent_access_changes: collections.deque[tuple[float, dict]] = collections.deque()

    async def join(self, release_id: int, viewer: Viewer) -> None:
        if viewer.stream == HTML:
            await self._watch(release_id)
        viewer.release_id = release_id
        async with self._lock:
            viewers = self.viewers.setdefault(release_id, set())
            viewers.add(viewer)
            if (release_id, JSON) not in self.sequencers:
                # Subscribed first, then read the head: anything at or below it reaches
                # viewers through their replay, anything above it through the reader
                # (or, while the layer is away, through the watchdog's catch-up).
                await self._subscribe(release_id)
                head = await database_sync_to_async(_head)(release_id)
                for stream in (JSON, HTML):
                    self.sequencers[(release_id, stream)] = Sequencer(head + 1)
            subscribed = release_id in self.readers
        if not subscribed or not self.layer_up:
            await viewer.deliver(layer_state_message(False))
        if viewer.presence_name:
            await self._presence_add(release_id, viewer)
        await self.listen_for_access_changes()
        if self._recent_access_changes:
            await self._recheck_newcomer(viewer)
        if self._presence_task is None or self._presence_task.done():
            self._presence_task = asyncio.create_task(self._presence_refresh())
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch_layer())

    async def _subscribe(self, release_id: int) -> bool:
        """Subscribe the release's group once for this process; False while the layer is away."""
        if release_id in self.readers:
            return True
        layer = get_channel_layer()
        try:
            channel = self.channels.get(release_id)
            if channel is None:
                channel = str(await asyncio.wait_for(layer.new_channel(), self.LAYER_TIMEOUT))
                self.channels[release_id] = channel
            await asyncio.wait_for(
                layer.group_add(group_name(release_id), channel), self.LAYER_TIMEOUT
            )
        except Exception as exc:
            logger.warning("live: cannot subscribe release %s (%s)", release_id, exc)
            return False
        self.readers[release_id] = asyncio.create_task(self._read(release_id, channel))
        return True

    async def _watch(self, release_id: int) -> None:
        """Mark the release's pages as watched (before subscribing: see Publisher)."""
        with contextlib.suppress(Exception):
            # Viewers joining at the same moment share one write.
            await coalesced_on_loop(
                ("watch", release_id),
                lambda: asyncio.wait_for(
                    self._redis_client().set(watch_key(release_id), 1, ex=PRESENCE_TTL),
                    self.LAYER_TIMEOUT,
                ),
            )

    async def leave(self, release_id: int, viewer: Viewer) -> None:
        viewer.stop()
        async with self._lock:
            viewers = self.viewers.get(release_id, set())
            viewers.discard(viewer)
            if not viewers:
                self.viewers.pop(release_id, None)
                task = self.readers.pop(release_id, None)
                channel = self.channels.pop(release_id, None)
                fills = []
                for stream in (JSON, HTML):
                    self.sequencers.pop((release_id, stream), None)
                    fills.append(self.gap_fills.pop((release_id, stream), None))
                for t in (task, *fills):
                    if t:
                        t.cancel()
                if channel:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(
                            get_channel_layer().group_discard(group_name(release_id), channel),
                            self.LAYER_TIMEOUT,
                        )
        if viewer.presence_name:
            with contextlib.suppress(Exception):
                await self._presence_remove(release_id, viewer)

    @staticmethod
    async def _messages(channel: str, what: str):
        """What arrives on ``channel``, for ever; a failing read is logged and retried."""
        layer = get_channel_layer()
        while True:
            try:
                yield await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s reader failed (%s); retrying", what, exc)
                await asyncio.sleep(1)

    async def _read(self, release_id: int, channel: str) -> None:
        async for message in self._messages(channel, f"live (release {release_id})"):
            kind = message.get("type")
            if kind == "release.presence":
                self._presence_soon(release_id)
                continue
            if kind != BATCH:
                await self._sequence(release_id, message.get("stream", HTML), [message])
                continue
            events_in = message.get("events") or []
            await self._sequence(release_id, message.get("stream", HTML), events_in)

    # --- the layer's health, and catching up from the log --------------------------
    async def _probe(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._redis_client().ping(), self.LAYER_TIMEOUT))
        except Exception:
            return False

    async def _watch_layer(self) -> None:
        """While this process has viewers: probe the layer, re-subscribe, catch up."""
        since_catch_up = 0.0
        while self.viewers:
            await asyncio.sleep(self.PROBE_EVERY)
            since_catch_up += self.PROBE_EVERY
            up = await self._probe()
            for release_id in list(self.viewers) if up else ():
                if release_id in self.readers:
                    continue
                if not await self._subscribe(release_id):
                    up = False
                elif self.layer_up:  # no change of state will tell its pages: tell them now
                    await self._dispatch(release_id, [layer_state_message(True)], HTML)
                    since_catch_up = self.CATCH_UP_EVERY
            if up != self.layer_up:
                self.layer_up = up
                if up:
                    logger.warning("live: the channel layer is back; catching viewers up")
                else:
                    logger.warning(
                        "live: the channel layer is unreachable; viewers see reconnecting"
                    )
                for release_id in list(self.viewers):
                    await self._dispatch(release_id, [layer_state_message(up)], HTML)
                since_catch_up = self.CATCH_UP_EVERY  # catch up now
            if since_catch_up >= self.CATCH_UP_EVERY:
                since_catch_up = 0.0
                with contextlib.suppress(Exception):
                    await self.catch_up()

    async def catch_up(self) -> None:
        """Fill what each release's viewers lack up to its latest committed event."""
        release_ids = list(self.viewers)
        if not release_ids:
            return
        heads = await database_sync_to_async(_heads)(release_ids)
        for release_id, head in heads.items():
            watching = {v.stream for v in self.viewers.get(release_id, ())}
            for stream in (JSON, HTML):
                key = (release_id, stream)
                sequencer = self.sequencers.get(key)
                if sequencer is None or head < sequencer.expected or key in self.gap_fills:
                    continue
                if stream not in watching:  # nobody to fill for: move on, render nothing
                    sequencer.expected = head + 1
                    sequencer.pending = {s: m for s, m in sequencer.pending.items() if s > head}
                    continue
                self.gap_fills[key] = asyncio.create_task(
                    self._fill_gap(release_id, stream, upto=head)
                )

    async def _sequence(self, release_id: int, stream: str, messages: list[dict]) -> None:
        key = (release_id, stream)
        sequencer = self.sequencers.get(key)
        if sequencer is None:
            return
        # Batches reach this from several tasks (the layer's reader, this process's
        # publisher, gap fills) and a dispatch yields between the messages of a burst:
        # one at a time, so what is accepted later is never sent before what came first.
        async with sequencer.turn:
            ready = [m for message in messages for m in sequencer.accept(message)]
            ready += sequencer.ready()  # those a skipped gap held back
            await self._dispatch(release_id, ready, stream)
        if sequencer.gap and key not in self.gap_fills:
            self.gap_fills[key] = asyncio.create_task(self._fill_gap(release_id, stream))

    async def _fill_gap(self, release_id: int, stream: str, upto: int | None = None) -> None:
        """A broadcast is late or lost: after a short wait, read the missing events
        (those before the first early arrival, or up to ``upto``, the committed head).

        Should reading them fail, the gap is skipped rather than holding back every later
        event: htmx pages see the jump in sequence numbers and fetch the full state, JSON
        clients can ask for ``?after=``.
        """
        key = (release_id, stream)
        missing: list[dict] = []
        try:
            await asyncio.sleep(Sequencer.GAP_WAIT)
            sequencer = self.sequencers.get(key)
            gap = sequencer.gap if sequencer else None
            if sequencer is not None and upto is not None and upto >= sequencer.expected:
                gap = (sequencer.expected, max(upto, gap[1]) if gap else upto)
            if sequencer is None or gap is None:
                return
            logger.info(
                "release %s: %s events %s..%s arrived late or not at all; reading the log",
                release_id,
                stream,
                *gap,
            )
            try:
                missing = await database_sync_to_async(_missing_messages)(release_id, stream, *gap)
            except Exception:
                logger.warning(
                    "release %s: could not read events %s..%s; skipping them",
                    release_id,
                    *gap,
                    exc_info=True,
                )
                if upto is None:
                    sequencer.expected = gap[1] + 1
        finally:
            self.gap_fills.pop(key, None)
        await self._sequence(release_id, stream, missing)

    async def _dispatch(
        self, release_id: int, messages: list[dict], stream: str | None = None
    ) -> None:
        viewers = [
            v for v in self.viewers.get(release_id, ()) if stream is None or v.stream == stream
        ]
        for n, message in enumerate(messages):
            if n:  # a burst (a gap filled from the log): let the writers drain in between,
                await asyncio.sleep(0)  # so only a viewer that is really stuck falls behind
            frames: dict[Any, Any] = {}
            for viewer in viewers:
                try:
                    await viewer.deliver(message, frames)
                except Exception:  # one broken socket must not stop the others
                    logger.debug("delivery to a viewer failed", exc_info=True)

    # --- access that ends (warroom.revoke) ----------------------------------------
    async def listen_for_access_changes(self) -> None:
        """One subscription per process to the group that says whose access ended.

        Consumers call this before they admit a socket, so a change made while the
        socket is being let in is heard too (and applied when it joins: see ``join``)."""
        if self._access_reader is not None and not self._access_reader.done():
            return
        async with self._access_lock:
            if self._access_reader is not None and not self._access_reader.done():
                return
            layer = get_channel_layer()
            self._access_channel = await layer.new_channel()
            await layer.group_add(revoke.ACCESS_GROUP, self._access_channel)
            self._access_reader = asyncio.create_task(self._read_access(self._access_channel))

    async def _read_access(self, channel: str) -> None:
        async for message in self._messages(channel, "access change"):
            if message.get("type") == revoke.MESSAGE_TYPE:
                now = time.monotonic()
                self._recent_access_changes.append((now, message))
                while self._recent_access_changes[0][0] < now - ACCESS_CHANGE_MEMORY:
                    self._recent_access_changes.popleft()
                viewers = [v for vs in self.viewers.values() for v in vs]
                self._background(self._apply_access_change(message, viewers))

    async def _apply_access_change(self, message: dict, viewers: list[Viewer]) -> None:
        """Close those of ``viewers`` whose credential ended, or whose person the policy
        now refuses."""
        credential, user_id = message.get("credential"), message.get("user_id")
        release_id = message.get("release_id")
        for viewer in viewers:
            if release_id is not None and viewer.release_id != release_id:
                continue
            ended = bool(credential) and viewer.credential == credential
            if not ended and (user_id is None or viewer.user_id != user_id):
                continue
            if viewer.close is None:
                continue
            try:
                if ended or (viewer.still_allowed is not None and not await viewer.still_allowed()):
                    await viewer.close()
            except Exception:  # one socket must not keep the others open
                logger.exception("closing a socket whose access ended failed")

    async def _recheck_newcomer(self, viewer: Viewer) -> None:
        """Apply the access changes heard while ``viewer`` was being let in."""
        cutoff = time.monotonic() - ACCESS_CHANGE_MEMORY
        for at, message in list(self._recent_access_changes):
            if at >= cutoff:
                await self._apply_access_change(message, [viewer])

    # --- presence (roll call) ---------------------------------------------------
    def _redis_client(self):
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(settings.REDIS_URL)
        return self._redis

    @staticmethod
    def _presence_key(release_id: int) -> str:
        return f"warroom:presence:{release_id}"

    async def _presence_add(self, release_id: int, viewer: Viewer) -> None:
        # Viewers joining at the same moment are added by one command.
        async def add(keys: list[str]) -> None:
            now = time.time()
            await asyncio.wait_for(
                self._redis_client().zadd(self._presence_key(release_id), dict.fromkeys(keys, now)),
                self.LAYER_TIMEOUT,
            )

        with contextlib.suppress(Exception):  # Redis away: the refresh adds it back later
            await batched_on_loop(("presence-add", release_id), viewer.presence_key, add)
        self._announce(release_id)

    async def _presence_remove(self, release_id: int, viewer: Viewer) -> None:
        async def remove(keys: list[str]) -> None:
            await self._redis_client().zrem(self._presence_key(release_id), *keys)

        await batched_on_loop(("presence-remove", release_id), viewer.presence_key, remove)
        self._announce(release_id)

    def _announce(self, release_id: int) -> None:
        """Tell every process, shortly, that the roll call changed (once per window)."""
        if release_id in self._announcing:
            return
        self._announcing.add(release_id)

        async def announce_later() -> None:
            try:
                await asyncio.sleep(PRESENCE_COALESCE)
            finally:
                self._announcing.discard(release_id)
            with contextlib.suppress(Exception):  # the next change or refresh announces again
                await get_channel_layer().group_send(
                    group_name(release_id), {"type": "release.presence"}
                )

        self._background(announce_later())

    def take_local(
        self, release_id: int, stream: str, messages: list[dict], done: futures.Future
    ) -> None:
        """A batch this process committed (see :func:`_hand_to_local_hubs`); ``done``
        completes when the hub has handed it to its viewers."""

        async def hand() -> None:
            try:
                await self._sequence(release_id, stream, messages)
            except Exception:  # the copy from the layer, or the log, fills the gap
                logger.warning(
                    "handing release %s's events to viewers failed", release_id, exc_info=True
                )
            finally:
                done.set_result(None)

        self._background(hand())

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)  # held, so the loop does not drop it half-way
        task.add_done_callback(self._tasks.discard)

    def _presence_soon(self, release_id: int) -> None:
        """Render and send the roll call to local viewers shortly (changes in between join)."""
        if release_id in self._presence_due:
            return

        async def send_later() -> None:
            try:
                await asyncio.sleep(PRESENCE_COALESCE)
                await self._dispatch(release_id, [await self.presence_message(release_id)])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.debug("roll call update for release %s failed", release_id, exc_info=True)
            finally:
                self._presence_due.pop(release_id, None)

        self._presence_due[release_id] = asyncio.create_task(send_later())

    async def present(self, release_id: int) -> list[str]:
        """Names of the people connected to ``release_id`` now, in any process."""
        r = self._redis_client()
        key = self._presence_key(release_id)
        await r.zremrangebyscore(key, 0, time.time() - PRESENCE_TTL)
        members = await r.zrange(key, 0, -1)
        names = {m.decode().split("|", 1)[1] for m in members}
        return sorted(n for n in names if n)

    async def presence_message(self, release_id: int) -> dict:
        """The roll call for the pages (empty while Redis cannot say who is there).

        Viewers joining at the same moment share one read and one rendering: a room
        reconnecting at once would otherwise read the whole roll call once per viewer.
        """
        return await coalesced_on_loop(
            ("presence", release_id), lambda: self._presence_message(release_id)
        )

    async def _presence_message(self, release_id: int) -> dict:
        try:
            names = await asyncio.wait_for(self.present(release_id), self.LAYER_TIMEOUT)
        except Exception:
            return {"type": "release.presence"}
        html = _fragments.presence(names) if _fragments else ""
        return {"type": "release.presence", "warroom": html}

    async def _presence_refresh(self) -> None:
        """Keep this process's viewers in the roll call and its watched pages marked;
        entries of dead processes expire."""
        while self.viewers:
            await asyncio.sleep(PRESENCE_REFRESH)
            r = self._redis_client()
            now = time.time()
            if self._access_channel is not None:  # group membership expires in the layer
                with contextlib.suppress(Exception):
                    await get_channel_layer().group_add(revoke.ACCESS_GROUP, self._access_channel)
            for release_id, viewers in list(self.viewers.items()):
                try:
                    entries = {v.presence_key: now for v in viewers if v.presence_name}
                    if entries:
                        await r.zadd(self._presence_key(release_id), entries)
                    if any(v.stream == HTML for v in viewers):
                        await r.set(watch_key(release_id), 1, ex=PRESENCE_TTL)
                except Exception:  # Redis away: the next round tries again
                    logger.debug("presence refresh failed", exc_info=True)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def _hand_to_local_hubs(release_id: int, stream: str, messages: list[dict]) -> list[futures.Future]:
    """Viewers of the release in this process get a batch from the writer's or the
    publisher's thread directly, without the round trip through Redis (the copy that
    comes back from the layer is then stale, and the sequencer drops it). Other
    processes' viewers, and ours whenever this hint misses a viewer that is just joining,
    get it from the layer. Returns what completes when each hub has handed the batch to
    its viewers."""
    try:
        hubs = list(_hubs.items())
    except RuntimeError:  # a hub was being added in another thread: the layer delivers
        return []
    handed = []
    for loop, its_hub in hubs:
        if release_id in its_hub.viewers and not loop.is_closed():
            done: futures.Future = futures.Future()
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                # In a context of its own: the writer's (asgiref's thread-sensitive marks
                # among it) must not follow the hub's tasks onto the loop.
                loop.call_soon_threadsafe(
                    its_hub.take_local, release_id, stream, messages, done,
                    context=contextvars.Context(),
                )  # fmt: skip
                handed.append(done)
    return handed


def hub() -> Hub:
    """The hub of the running event loop (one per process under uvicorn)."""
    return per_loop(_hubs, Hub)
