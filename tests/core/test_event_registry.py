"""Event kinds are declared once, in the app that owns them; subscribers run in the writer's
transaction or after it commits; the live path renders off the writer's thread."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import threading
from pathlib import Path

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from checklists import services
from warroom import events, live, sqlbatch
from warroom.audit import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def test_a_kind_is_declared_once():
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        events.declare("item.status", describe=lambda d, who: "again")


@pytest.mark.django_db
def test_recording_an_undeclared_kind_fails_loudly_and_writes_nothing(team):
    before = team.release.last_seq
    with pytest.raises(ImproperlyConfigured, match="not declared"):
        events.record(team.release, "item.tickled", data={})
    team.release.refresh_from_db()
    assert team.release.last_seq == before


def test_each_app_owns_its_kinds():
    owners = {name: kind.owner for name, kind in events.declared().items()}
    assert owners["item.status"] == "checklists"
    assert owners["decision.recorded"] == "checklists"
    assert owners["release.edited"] == "deployments"
    assert owners["access.denied"] == "warroom"


def _recorded_kinds() -> set[str]:
    """Every kind passed as a literal to ``events.record`` in the project's own code."""
    found = set()
    for package in ("warroom", "deployments", "checklists", "notifications"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", "") == "record"
                    and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                ):
                    found.add(node.args[1].value)
    return found


def test_every_kind_the_code_records_is_declared():
    recorded = _recorded_kinds()
    assert {"item.status", "access.denied", "release.created"} <= recorded
    assert recorded <= set(events.declared())


@pytest.mark.parametrize("name", sorted(events.declared()))
def test_every_kind_reads_as_a_sentence_even_without_data(name):
    line = events.kind_of(name).describe({}, "Rita")
    assert line.strip() and "None" not in line and "{" not in line


@pytest.mark.django_db
def test_an_in_transaction_subscriber_failing_rolls_the_whole_change_back(team):
    item = team.item("DBA")

    def refuse(event):
        raise RuntimeError("outbox unavailable")

    events.subscribe("item.status")(refuse)
    try:
        with pytest.raises(RuntimeError):
            services.item_set_status(item=item, status="done", user=team["dba"])
    finally:
        events._in_transaction["item.status"].remove(refuse)
    item.refresh_from_db()
    assert item.status == "todo"
    assert not AuditEvent.objects.filter(release=team.release, kind="item.status").exists()


@pytest.mark.django_db
def test_in_transaction_subscribers_see_the_event_before_commit(team):
    seen = []
    events.subscribe("item.status")(lambda e: seen.append((e.seq, transaction.get_autocommit())))
    try:
        services.item_set_status(item=team.item("DBA"), status="done", user=team["dba"])
    finally:
        events._in_transaction["item.status"].pop()
    team.release.refresh_from_db()
    assert seen == [(team.release.last_seq, False)]


@pytest.mark.django_db(transaction=True)
def test_a_failing_after_commit_subscriber_never_undoes_the_change(monkeypatch):
    from tests.factories import team_release

    team = team_release()
    calls = []

    def broken(event):
        calls.append(event.kind)
        raise RuntimeError("webhook down")

    events.subscribe("item.status", after_commit=True)(broken)
    try:
        services.item_set_status(item=team.item("DBA"), status="done", user=team["dba"])
    finally:
        events._after_commit["item.status"].remove(broken)
    assert calls == ["item.status"]
    assert team.item("DBA").status == "done"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_fragments_are_rendered_on_the_publisher_thread_not_the_writers(monkeypatch):
    from tests.factories import team_release

    team = team_release()
    rendered_on: list[str] = []
    real = live._fragments

    class Spy:
        def event(self, event, kind):
            rendered_on.append(threading.current_thread().name)
            return real.event(event, kind)

        def presence(self, names):
            return real.presence(names)

    monkeypatch.setattr(live, "_fragments", Spy())
    watching = redis.Redis.from_url(settings.REDIS_URL)
    watching.set(live.watch_key(team.release.pk), 1, ex=60)  # a war room is open somewhere
    services.item_set_status(item=team.item("DBA"), status="done", user=team["dba"])
    assert live.publisher.flush(10)
    assert rendered_on == ["warroom-publisher"]
    assert threading.current_thread().name not in rendered_on

    # With no page open anywhere, nothing is rendered (JSON viewers need no fragments).
    watching.delete(live.watch_key(team.release.pk))
    services.item_set_status(item=team.item("DBA"), status="todo", user=team["dba"])
    assert live.publisher.flush(10)
    assert rendered_on == ["warroom-publisher"]


def _status_entry(item, status: str) -> tuple[str, dict]:
    data = {"item": item.pk, "checklist": item.checklist_id, "status": status, "from": "todo"}
    return "item.status", {**data, "note": "", "note_id": None, "reason": "", "text": item.text}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_committed_batch_goes_out_as_one_message_with_fragments_only_where_pages_are_open():
    """Two events recorded together (a step's transition) leave as one JSON message, sent
    before anything else; the fragments follow as a second message, rendered only while
    some page of the release is open and otherwise placeholders that keep the sequence."""
    from tests.factories import team_release

    team = team_release()
    release, item = team.release, team.item("DBA")
    watching = redis.Redis.from_url(settings.REDIS_URL)
    watching.delete(live.watch_key(release.pk))

    async def received_after(record) -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(live.group_name(release.pk), channel)
        try:
            await sync_to_async(record)()
            assert await sync_to_async(live.publisher.flush)(10)
            got = []
            with contextlib.suppress(TimeoutError):
                while True:
                    got.append(await asyncio.wait_for(layer.receive(channel), 0.5))
            return got
        finally:
            await layer.group_discard(live.group_name(release.pk), channel)

    def record_two() -> None:
        events.record_many(release, [_status_entry(item, "done"), _status_entry(item, "todo")])

    first = release.last_seq + 1
    json_batch, html_batch = asyncio.run(received_after(record_two))
    assert (json_batch["type"], json_batch["stream"]) == (live.BATCH, live.JSON)
    assert [m["seq"] for m in json_batch["events"]] == [first, first + 1]
    # Nobody has a page open: the fragments stream keeps its sequence, nothing rendered.
    assert html_batch["events"] == [live.html_placeholder(first), live.html_placeholder(first + 1)]

    watching.set(live.watch_key(release.pk), 1, ex=60)  # a war room is open somewhere
    try:
        json_batch, html_batch = asyncio.run(received_after(record_two))
    finally:
        watching.delete(live.watch_key(release.pk))
    assert [m["seq"] for m in json_batch["events"]] == [first + 2, first + 3]
    assert (html_batch["stream"], [m["seq"] for m in html_batch["events"]]) == (
        live.HTML,
        [first + 2, first + 3],
    )
    assert all(m.get("warroom") for m in html_batch["events"])


@pytest.mark.django_db
def test_one_event_on_each_of_several_releases_is_written_in_one_go(django_assert_num_queries):
    from tests.factories import team_release
    from warroom.audit import verify_chain

    a, b = team_release().release, team_release().release
    heads = {a.pk: a.last_seq, b.pk: b.last_seq}
    seen: list[list[tuple[int, int, bool]]] = []

    def watch(batch):
        seen.append([(e.release_id, e.seq, AuditEvent.release.is_cached(e)) for e in batch])

    events.subscribe_batch("comms.update_sent")(watch)
    try:
        # The releases locked, the events inserted, the heads moved: one statement each
        # (and the savepoint the test's own transaction asks for, set and released); on
        # PostgreSQL the insert and the heads' update go in one round trip. The comms
        # rules are not read: this process learnt, recording the releases' creation,
        # that none of their rules (there are none) reacts to anything.
        with django_assert_num_queries(4 if sqlbatch.one_trip() else 5):
            made = events.record_each(
                [
                    (b, "comms.update_sent", {"message": 1}),
                    (a, "comms.update_sent", {"message": 2}),
                    (b, "comms.update_sent", {"message": 3}),
                ],
                actor_label="comms",
            )
    finally:
        events._in_transaction_batch["comms.update_sent"].remove(watch)
    assert [(e.release_id, e.seq, e.data["message"]) for e in made] == [
        (b.pk, heads[b.pk] + 1, 1),
        (a.pk, heads[a.pk] + 1, 2),
        (b.pk, heads[b.pk] + 2, 3),
    ]
    assert seen == [[(e.release_id, e.seq, True) for e in made]]
    for release, moved in ((a, 1), (b, 2)):
        assert release.last_seq == heads[release.pk] + moved
        release.refresh_from_db()
        assert release.last_seq == heads[release.pk] + moved
        assert verify_chain(release.pk) is None
    stored = AuditEvent.objects.filter(pk__in=[e.pk for e in made])
    assert set(stored.values_list("actor_label", flat=True)) == {"comms"}


def _admin_entry(what: str) -> tuple[str, dict]:
    return "admin.changed", {"model": "plan", "object": what, "action": "changed"}


@pytest.mark.django_db
def test_events_of_several_locked_releases_are_written_together_each_on_its_own_chain():
    """``record_locked_across``: the events of many releases (their rows locked and read
    by the caller) in one insert and one update of the heads; each release's events get
    its next numbers in order and extend its hash chain; the batch subscribers see them
    all at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import team_release
    from warroom.audit import release_model, verify_chain

    first, second = team_release().release, team_release().release
    heads = {first.pk: first.last_seq, second.pk: second.last_seq}
    batches: list[list[tuple[int, int]]] = []
    events.subscribe_batch("admin.changed")(
        lambda got: batches.append([(e.release_id, e.seq) for e in got])
    )
    try:
        with transaction.atomic():
            locked = {
                r.pk: r
                for r in release_model()
                .objects.select_for_update()
                .filter(pk__in=[first.pk, second.pk])
                .order_by("pk")
            }
            a, b = locked[first.pk], locked[second.pk]
            with CaptureQueriesContext(connection) as queries:
                made = events.record_locked_across(
                    [(a, *_admin_entry("a1")), (b, *_admin_entry("b1")), (a, *_admin_entry("a2"))],
                    actor_label="escalation",
                )
    finally:
        events._in_transaction_batch["admin.changed"].pop()
    # One statement each, the two sent in one round trip on PostgreSQL.
    sent = [s for q in queries.captured_queries for s in q["sql"].split(";\n")]
    written = [s for s in sent if "INSERT" in s.upper()]
    updated = [s for s in sent if s.upper().startswith("UPDATE")]
    assert len([s for s in written if "warroom_auditevent" in s]) == 1
    assert len([s for s in updated if "deployments_release" in s]) == 1
    expected = [
        (first.pk, heads[first.pk] + 1),
        (second.pk, heads[second.pk] + 1),
        (first.pk, heads[first.pk] + 2),
    ]
    assert [(e.release_id, e.seq) for e in made] == expected
    assert batches == [expected]
    assert [e.data["object"] for e in made] == ["a1", "b1", "a2"]
    assert {e.actor_label for e in made} == {"escalation"}
    for release, seq in ((first, heads[first.pk] + 2), (second, heads[second.pk] + 1)):
        release.refresh_from_db()
        last = AuditEvent.objects.get(release=release, seq=seq)
        assert (release.last_seq, release.last_hash) == (seq, last.hash)
        assert verify_chain(release.pk) is None


@pytest.mark.django_db(transaction=True)
def test_events_across_releases_need_the_callers_transaction_and_declared_kinds(team):
    from warroom.audit import release_model

    before = team.release.last_seq
    with pytest.raises(ImproperlyConfigured, match="not declared"), transaction.atomic():
        events.record_locked_across([(team.release, "item.tickled", {})])
    with transaction.atomic():
        release = release_model().objects.select_for_update().get(pk=team.release.pk)
    with pytest.raises(RuntimeError, match="caller's transaction"):
        events.record_locked_across([(release, *_admin_entry("x"))])
    team.release.refresh_from_db()
    assert team.release.last_seq == before
    assert not AuditEvent.objects.filter(release=team.release, seq__gt=before).exists()
