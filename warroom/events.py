"""Every change is an event.

:func:`record` appends an AuditEvent to the release's hash chain in the caller's
transaction, runs the kind's in-transaction subscribers there, and once the
transaction commits runs the after-commit subscribers — the first of them
hands the event to the live path (:mod:`warroom.live`).

Each app declares the event kinds it owns in its own ``events.py`` with
:func:`declare`: how the event reads on the timeline, which live regions it
touches and whether the board shows it. Other apps react to a kind with
:func:`subscribe` — e.g. the comms outbox writes its Message rows inside the
writer's transaction. Recording an undeclared kind is a programming error and
fails loudly.

The sequence number is allocated under a lock on the release row, so events of
one release are numbered 1, 2, 3 ... without gaps or duplicates; the unique
constraint on (release, seq) makes any mistake fail loudly.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from warroom import clock, sqlbatch
from warroom.audit import GENESIS, AuditEvent, canonical_json, release_model

logger = logging.getLogger(__name__)

Describe = Callable[[Mapping, str], str]
Subscriber = Callable[[AuditEvent], None]
BatchSubscriber = Callable[[list[AuditEvent]], None]
ALL = "*"


@dataclass(frozen=True)
class EventKind:
    """What a kind of event means to people and to the live pages.

    ``describe(data, who)`` is the timeline line; ``regions`` names the live regions
    of the war room and board it changes (their renderers are registered with
    :mod:`warroom.live`); ``on_board`` says whether the board's "latest" list shows
    it (refused attempts, say, stay off the wall screen); ``milestone`` marks the
    events that make the story of the night (phases, decisions, rollbacks).
    """

    name: str
    describe: Describe
    regions: frozenset[str] = frozenset()
    on_board: bool = True
    milestone: bool = False
    owner: str = ""


_kinds: dict[str, EventKind] = {}
_in_transaction: dict[str, list[Subscriber]] = defaultdict(list)
_after_commit: dict[str, list[Subscriber]] = defaultdict(list)
_in_transaction_batch: dict[str, list[BatchSubscriber]] = defaultdict(list)
_after_commit_batch: dict[str, list[BatchSubscriber]] = defaultdict(list)


def declare(
    name: str,
    *,
    describe: Describe,
    regions: Iterable[str] = (),
    on_board: bool = True,
    milestone: bool = False,
    owner: str = "",
) -> EventKind:
    """Declare an event kind once, in the app that owns it."""
    if name in _kinds:
        raise ImproperlyConfigured(f"event kind {name!r} is declared twice")
    kind = EventKind(name, describe, frozenset(regions), on_board, milestone, owner)
    _kinds[name] = kind
    return kind


def subscribe(*names: str, after_commit: bool = False) -> Callable[[Subscriber], Subscriber]:
    """Register a function to run for events of ``names`` (``"*"`` for every kind).

    In-transaction subscribers run inside the writer's transaction, after the
    event row is written: an exception there rolls the whole change back.
    After-commit subscribers run once the transaction has committed; a failure
    there is logged and never undoes the change.
    """

    def register(fn: Subscriber) -> Subscriber:
        table = _after_commit if after_commit else _in_transaction
        for name in names:
            if fn not in table[name]:
                table[name].append(fn)
        return fn

    return register


def subscribe_batch(
    *names: str, after_commit: bool = False
) -> Callable[[BatchSubscriber], BatchSubscriber]:
    """Like :func:`subscribe`, but the function gets the events of one :func:`record_many`
    call together (in order; a single :func:`record` gives it one), so work it does per
    release — reading its rules, publishing to viewers — is done once per batch. After
    commit, batch subscribers run before the per-event ones."""

    def register(fn: BatchSubscriber) -> BatchSubscriber:
        table = _after_commit_batch if after_commit else _in_transaction_batch
        for name in names:
            if fn not in table[name]:
                table[name].append(fn)
        return fn

    return register


def kind_of(name: str) -> EventKind:
    """The declaration of ``name``; an event stored under a kind nobody declares any
    more still reads as something (its name)."""
    found = _kinds.get(name)
    if found is None:
        return EventKind(name, lambda data, who: f"{who}: {name}")
    return found


def declared() -> dict[str, EventKind]:
    """Every declared kind, by name (read-only use)."""
    return dict(_kinds)


def describe(event: AuditEvent) -> str:
    """The line a person reads in the timeline."""
    return kind_of(event.kind).describe(event.data or {}, event.actor_label or "system")


def actor_label_for(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    person = getattr(user, "person", None)  # missing relation raises AttributeError
    return person.name if person else (user.get_full_name() or user.get_username())


def record(
    release,
    kind: str | EventKind,
    *,
    actor=None,
    actor_label: str | None = None,
    data: dict | None = None,
    locked: bool = False,
) -> AuditEvent:
    """Append an event to ``release``'s audit chain; publish it after commit.

    Opens (or joins) a transaction. ``actor`` is a user or None for the system;
    ``actor_label`` overrides the name shown (e.g. "worker", "board link").
    ``locked``: the caller's transaction already holds the release row's lock and read
    ``release.last_seq``/``last_hash`` under it (a hot path saves the re-read and the
    savepoint; a stale head still fails loudly on the unique (release, seq)).
    Raises ImproperlyConfigured for a kind no app declared.
    """
    return record_many(
        release, [(kind, data)], actor=actor, actor_label=actor_label, locked=locked
    )[0]


def record_many(
    release,
    entries: Iterable[tuple[str | EventKind, dict | None]],
    *,
    actor=None,
    actor_label: str | None = None,
    locked: bool = False,
    along: Sequence[sqlbatch.Statement] = (),
) -> list[AuditEvent]:
    """Append several events (``(kind, data)`` each, in order) to ``release``'s chain in
    one go: one lock of the release row, then one statement that inserts them and moves
    its head (two on SQLite) — what a
    worker that fires many things at once (escalation's tick) needs. Each event's
    subscribers run as with :func:`record`, in order, once all are written. ``locked`` as
    for :func:`record`; each event then carries the caller's release row
    (``event.release``, no query), read under the lock and so current for subscribers.
    ``along``: the caller's own statements of the same change, run first and sent in the
    same round trip as the events' insert (PostgreSQL)."""
    items = [(k.name if isinstance(k, EventKind) else k, d) for k, d in entries]
    for kind, _ in items:
        if kind not in _kinds:
            raise ImproperlyConfigured(f"event kind {kind!r} is not declared by any app")
    if not items:
        return []
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = (
        actor_label if actor_label is not None else (actor_label_for(user) if user else "system")
    )
    if locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record(locked=True) needs the caller's transaction")
    # No savepoint: a failure inside marks the caller's transaction for rollback, so
    # nothing of it is ever committed without its events (and a savepoint costs two
    # round trips on PostgreSQL).
    with transaction.atomic(savepoint=False):
        last_seq, last_hash = _head(release, locked)
        at = clock.now().astimezone(UTC)
        made = []
        for kind, data in items:
            # Normalise data to what the JSON column gives back: the hash is reproducible.
            event = AuditEvent(
                release_id=release.pk,
                seq=last_seq + 1,
                kind=kind,
                at=at,
                actor=user,
                actor_label=label[: AuditEvent.ACTOR_LABEL_MAX],
                data=json.loads(canonical_json(data or {})),
                prev_hash=last_hash or GENESIS,
            )
            if locked:
                event.release = release
            event.hash = event.compute_hash()
            last_seq, last_hash = event.seq, event.hash
            made.append(event)
        _append(release, made, along)
        release.last_seq, release.last_hash = last_seq, last_hash
        _run_subscribers(made)
    return made


def _append(release, made: list[AuditEvent], along: Sequence[sqlbatch.Statement]) -> None:
    """Insert the events and move the release's head to the last of them: one statement
    on PostgreSQL (the head's UPDATE rides in a WITH), sent in the same round trip as the
    caller's ``along`` statements."""
    head = made[-1]
    move = sqlbatch.Statement(
        _head_sql(sqlbatch.connection.vendor), [head.seq, head.hash, release.pk]
    )
    rows = sqlbatch.insert(AuditEvent, made, returning=True)
    if sqlbatch.one_trip():
        both = sqlbatch.Statement(
            f"WITH head AS ({move.sql}) {rows.sql}", [*move.params, *rows.params]
        )
        results = sqlbatch.run([*along, both])
    else:
        results = sqlbatch.run([*along, rows, move])[: len(along) + 1]
    for event, (pk,) in zip(made, results[len(along)].rows, strict=True):
        sqlbatch.saved(event, pk)


def _run_subscribers(made: list[AuditEvent]) -> None:
    """The in-transaction subscribers of events just written; the after-commit ones are
    queued for the commit."""
    for event in made:
        for subscriber in (*_in_transaction[event.kind], *_in_transaction[ALL]):
            subscriber(event)
    _run_batch_subscribers(made, _in_transaction_batch)
    transaction.on_commit(functools.partial(_committed, made))


def _head(release, locked: bool) -> tuple[int, str]:
    """The release's chain head: as the caller read it under its lock, else read locked."""
    if locked:
        return release.last_seq, release.last_hash
    rows = sqlbatch.run([_lock_statement(release.pk, "last_seq", "last_hash")])[0].rows
    if not rows:
        raise release_model().DoesNotExist(f"release {release.pk} does not exist")
    seq, head = rows[0]
    return seq, head


def _lock_statement(release_id: int, *names: str) -> sqlbatch.Statement:
    return sqlbatch.Statement(_lock_sql(sqlbatch.connection.vendor, names), [release_id])


@functools.cache
def _lock_sql(vendor: str, names: tuple[str, ...]) -> str:
    q = sqlbatch.q
    meta = release_model()._meta
    cols = ", ".join(q(n) for n in names)
    return (
        f"SELECT {cols} FROM {q(meta.db_table)} WHERE {q(meta.pk.column)} = %s"
        f"{sqlbatch.for_update()}"
    )


@functools.cache
def _head_sql(vendor: str) -> str:
    q = sqlbatch.q
    meta = release_model()._meta
    return (
        f"UPDATE {q(meta.db_table)} SET {q('last_seq')} = %s, {q('last_hash')} = %s "
        f"WHERE {q(meta.pk.column)} = %s"
    )


def _batches(
    made: list[AuditEvent], table: dict[str, list[BatchSubscriber]]
) -> dict[BatchSubscriber, list[AuditEvent]]:
    batched: dict[BatchSubscriber, list[AuditEvent]] = {}
    for event in made:
        # A function subscribed to the kind and to every kind gets the event once.
        for subscriber in dict.fromkeys((*table[event.kind], *table[ALL])):
            batched.setdefault(subscriber, []).append(event)
    return batched


def _run_batch_subscribers(made: list[AuditEvent], table: dict[str, list[BatchSubscriber]]) -> None:
    for subscriber, its_events in _batches(made, table).items():
        subscriber(its_events)


def lock_head(release) -> None:
    """Take the release's row lock now (serialises writers that read-then-write)."""
    if not sqlbatch.run([_lock_statement(release.pk, release_model()._meta.pk.column)])[0].rows:
        raise release_model().DoesNotExist(f"release {release.pk} does not exist")


def _committed(made: list[AuditEvent]) -> None:
    """After commit: the batch subscribers (the live path is the first of them), then the
    per-event ones. None of them may undo or hide a committed change."""
    calls: list[tuple[Callable[[Any], None], Any, AuditEvent]] = [
        (subscriber, its_events, its_events[0])
        for subscriber, its_events in _batches(made, _after_commit_batch).items()
    ]
    calls += [
        (subscriber, event, event)
        for event in made
        for subscriber in (*_after_commit[event.kind], *_after_commit[ALL])
    ]
    for subscriber, argument, event in calls:
        try:
            subscriber(argument)
        except Exception:
            logger.exception(
                "after-commit subscriber %r failed on %s/%s",
                subscriber,
                event.release_id,
                event.seq,
            )


# --- the core's own kinds ---------------------------------------------------------
declare(
    "access.denied",
    describe=lambda d, who: (
        f"{who} was refused {d.get('action', '')}: {d.get('reason', '')}"
        + (
            f" (from {d.get('source', '')}; further attempts from there in this window are "
            "counted, not listed)"
            if d.get("counted")
            else ""
        )
    ),
    on_board=False,
    owner="warroom",
)


def _describe_admin(d: Mapping, who: str) -> str:
    fields = ", ".join(sorted(d.get("fields") or {}))
    verb = d.get("action", "changed")
    return f"{who} {verb} {d.get('model', '')} “{d.get('object', '')}” in the admin" + (
        f" ({fields})" if fields else ""
    )


declare(
    "admin.changed",
    describe=_describe_admin,
    regions={"all"},
    owner="warroom",
)


def record_each(
    entries: list[tuple[Any, str | EventKind, dict | None]],
    *,
    actor_label: str = "system",
) -> list[AuditEvent]:
    """One event (``(release, kind, data)`` each) on each of several releases' chains, in
    one go — what a worker that finishes many releases' work at once needs (the comms
    workers' "update sent"): the releases' rows locked by one query (in id order, so two
    such callers never deadlock, see :func:`lock_releases`), then
    :func:`record_locked_across`. Opens (or joins) a transaction; each given release row
    learns its new head. A release named twice gets its events in order."""
    if not entries:
        return []
    with transaction.atomic():
        lock = lock_releases({r.pk for r, _, _ in entries})
        locked = releases_locked(sqlbatch.run([lock])[0])
        made = record_locked_across(
            [(locked[r.pk], kind, data) for r, kind, data in entries], actor_label=actor_label
        )
    for given, _, _ in entries:
        given.last_seq, given.last_hash = locked[given.pk].last_seq, locked[given.pk].last_hash
    return made


def lock_releases(release_ids: Iterable[int]) -> sqlbatch.Statement:
    """The statement that locks the releases' rows in id order (two callers locking some
    of the same releases never deadlock) and reads them whole, for
    :func:`releases_locked` — to run in the caller's transaction, alone or with its own
    statements in the same round trip."""
    ids = sorted(set(release_ids))
    return sqlbatch.Statement(
        _lock_many_sql(sqlbatch.connection.vendor).replace("{ids}", ", ".join(["%s"] * len(ids))),
        ids,
    )


def releases_locked(result: sqlbatch.Result) -> dict[int, Any]:
    """The release rows :func:`lock_releases` read, by id."""
    model = release_model()
    rows = (sqlbatch.instance(model, row) for row in result.rows)
    return {r.pk: r for r in rows}


@functools.cache
def _lock_many_sql(vendor: str) -> str:
    q = sqlbatch.q
    meta = release_model()._meta
    pk = q(meta.pk.column)
    return (
        f"SELECT {sqlbatch.columns(release_model())} FROM {q(meta.db_table)}"
        f" WHERE {pk} IN ({{ids}}) ORDER BY {pk}{sqlbatch.for_update()}"
    )


#: Events per INSERT statement (well inside both backends' limits on parameters).
INSERT_ROWS = 1000


def record_locked_across(
    entries: Iterable[tuple[Any, str | EventKind, dict | None]],
    *,
    actor=None,
    actor_label: str | None = None,
) -> list[AuditEvent]:
    """Append events of several releases in one go: ``(release, kind, data)`` each, in
    order. What a writer holding many releases' row locks at once needs (escalation's
    tick fires a chunk of releases per transaction): one insert for every event and one
    UPDATE of every head, where :func:`record_many` takes both per release.

    As with ``record_many(..., locked=True)``: the caller's transaction holds each
    release row's lock and read its ``last_seq``/``last_hash`` under it (a stale head
    still fails loudly on the unique (release, seq)); each event carries its release row.
    The releases' heads move on in memory as the events are built, so a caller whose
    transaction fails reads its rows again. Subscribers run as with :func:`record_many`,
    once every event is written, all events in one batch."""
    items = [(r, k.name if isinstance(k, EventKind) else k, d) for r, k, d in entries]
    for _, kind, _ in items:
        if kind not in _kinds:
            raise ImproperlyConfigured(f"event kind {kind!r} is not declared by any app")
    if not items:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_locked_across needs the caller's transaction")
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = (
        actor_label if actor_label is not None else (actor_label_for(user) if user else "system")
    )
    at = clock.now().astimezone(UTC)
    made = []
    heads: dict[int, Any] = {}
    for release, kind, data in items:
        event = AuditEvent(
            release_id=release.pk,
            seq=release.last_seq + 1,
            kind=kind,
            at=at,
            actor=user,
            actor_label=label[: AuditEvent.ACTOR_LABEL_MAX],
            data=json.loads(canonical_json(data or {})),
            prev_hash=release.last_hash or GENESIS,
        )
        event.release = release
        event.hash = event.compute_hash()
        release.last_seq, release.last_hash = event.seq, event.hash
        heads[release.pk] = release
        made.append(event)
    # The events' insert and the heads' UPDATE, written out (one round trip on
    # PostgreSQL): what the ORM's bulk_create and bulk_update took milliseconds to build.
    move = sqlbatch.update_each(
        release_model(),
        {
            "last_seq": {pk: r.last_seq for pk, r in heads.items()},
            "last_hash": {pk: r.last_hash for pk, r in heads.items()},
        },
    )
    inserts = [
        sqlbatch.insert(AuditEvent, made[i : i + INSERT_ROWS], returning=True)
        for i in range(0, len(made), INSERT_ROWS)
    ]
    results = sqlbatch.run([*inserts, move])
    pks = [pk for result in results[:-1] for (pk,) in result.rows]
    for event, pk in zip(made, pks, strict=True):
        sqlbatch.saved(event, pk)
    _run_subscribers(made)
    return made
