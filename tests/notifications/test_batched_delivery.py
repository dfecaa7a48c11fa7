"""A worker's batch of deliveries: claimed in one statement, each message composed once
for all its channels, each channel's deliveries over one connection, marked sent in one
commit — and a delivery claimed once whoever else tries (real SMTP, Slack-API and
Statuspage-API servers on loopback)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists.models import Gate
from notifications import delivery, outbox, render
from notifications.models import Delivery, Message
from notifications.queue import comms_queue
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from tests.notifications.test_email_and_page import smtp  # noqa: F401  (a fixture)
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db
EVERYWHERE = [
    ("Progress", None, timedelta(minutes=15), "", ["slack", "email", "status_page"], "Everyone")
]


def test_a_batch_composes_each_update_once_and_sends_each_lane_over_one_connection(
    smtp,  # noqa: F811
    slack,
    statuspage,
    monkeypatch,
):
    t0 = clock.now().replace(microsecond=0) + H
    releases = [make(go_live_at=t0, rules=EVERYWHERE).release for _ in range(2)]
    composed: list[list[int]] = []
    real = render.status_updates

    def counting(releases, now=None):
        composed.append(sorted(r.pk for r in releases))
        return real(releases, now)

    monkeypatch.setattr(render, "status_updates", counting)
    due = t0 + timedelta(minutes=15)
    with clock.frozen_at(due):
        assert outbox.write_due(due) == 2
        ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
        emails = Delivery.objects.filter(channel="email").count()
        assert emails >= 4  # everyone on each release: several emails per batch
        outcome = delivery.attempt_many(ids)
        assert delivery.attempt_many(ids) == {pk: "not due" for pk in ids}  # claimed once
    assert outcome == {pk: "sent" for pk in ids}
    assert composed == [sorted(r.pk for r in releases)]  # once per message, read together
    assert len(smtp.mails) == emails and len(smtp.peers) == 2  # its two lanes, one each
    assert len(slack.messages) == 2 and len(statuspage.incidents) == 2
    # Each message's first arrival is on its release's timeline, once.
    assert AuditEvent.objects.filter(kind="comms.update_sent").count() == 2
    assert Message.objects.filter(sent_at=None).count() == 0
    assert set(Delivery.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_an_update_written_ahead_waits_in_the_queue_for_its_moment(
    smtp,  # noqa: F811
    slack,
    statuspage,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """A wake-up writes a moment's updates ahead of it: each delivery is due at its
    message's time and handed to the workers with a countdown to it; a worker taking the
    batch early (its clock ahead) sends nothing and puts it back until then."""
    from notifications import queue

    t0 = clock.now().replace(microsecond=0) + H
    release = make(go_live_at=t0, rules=EVERYWHERE).release
    due = t0 + timedelta(minutes=15)
    handed: list[tuple[list[int], float | None]] = []
    monkeypatch.setattr(
        queue, "_queue", lambda task, args, q, countdown=None, **o: handed.extend(
            (ids, countdown) for ids in args
        ),
    )  # fmt: skip
    early = due - timedelta(seconds=5)
    with clock.frozen_at(early), django_capture_on_commit_callbacks(execute=True):
        assert outbox.write_due_at(due) == 1
    message = Message.objects.get(release=release)
    assert (message.due_at, message.created_at) == (due, early)
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    assert set(Delivery.objects.values_list("next_attempt_at", flat=True)) == {due}
    assert [(sorted(i), c) for i, c in handed] == [(ids, 5.0)]
    handed.clear()
    with clock.frozen_at(early + timedelta(seconds=3)):  # Celery's timer ran ahead
        assert delivery.attempt_many(ids) == {pk: "not due" for pk in ids}
    assert [(sorted(i), c) for i, c in handed] == [(ids, 2.0)]  # back until its moment
    assert not slack.messages and not smtp.mails
    with clock.frozen_at(due):
        assert delivery.attempt_many(ids) == {pk: "sent" for pk in ids}
    assert set(Delivery.objects.values_list("sent_at", flat=True)) == {due}


@pytest.mark.parametrize("count", [1, 3])
def test_a_batch_costs_the_same_statements_for_one_release_or_many(
    smtp,  # noqa: F811
    slack,
    statuspage,
    count,
):
    """A worker's batch of status updates (releases without gates, as the bench's) in the
    same 24 statements whatever its size, in 11 round trips on PostgreSQL (SQLite runs
    each statement alone): the claim; the deliveries with their messages, and their
    releases; the status facts (phases, open issues, checklists, their progress,
    rollback calls, gates); the messages fixed; the Slack buttons; the threads inserted
    where missing and read; the incidents likewise; the threads' first posts and the
    incidents' ids (one each); then in one transaction (a savepoint here) the deliveries
    marked sent, the messages stamped and the releases locked, and their events and
    heads."""
    t0 = clock.now().replace(microsecond=0) + H
    releases = [make(go_live_at=t0, rules=EVERYWHERE).release for _ in range(count)]
    Gate.objects.filter(release__in=releases).delete()  # each gated release reads its gates
    due = t0 + timedelta(minutes=15)
    with clock.frozen_at(due):
        assert outbox.write_due(due) == count
        ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as seen:
            outcome = delivery.attempt_many(ids)
    assert outcome == {pk: "sent" for pk in ids}
    # PostgreSQL: the 11 round trips, and the savepoint's two statements (the test's own
    # transaction makes the batch's last transaction a savepoint).
    expected = 13 if connection.vendor == "postgresql" else 24
    sql = "\n".join(q["sql"] for q in seen.captured_queries)
    assert len(seen.captured_queries) == expected, sql
    assert len(slack.messages) == count and len(statuspage.incidents) == count


def test_a_claim_takes_only_what_is_due_and_not_leased(smtp):  # noqa: F811
    now = clock.now().replace(microsecond=0)
    release = make(go_live_at=now + H, rules=[]).release
    with clock.frozen_at(now):  # written at ``now`` however long the setup took
        outbox.write(
            release, rule=None, key="t:1", cause="test", due_at=now, title="One", text="x",
            audience="Everyone", channels=["email"],
        )  # fmt: skip
    a, b, *rest = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=b.pk).update(next_attempt_at=now + H)  # waits for a retry
    at = now + timedelta(seconds=1)
    first = delivery.claim_many([a.pk, b.pk, *(d.pk for d in rest)], at)
    assert first == [a.pk, *(d.pk for d in rest)]
    assert delivery.claim_many([a.pk, b.pk], at) == []  # leased to the first claimer
    later = at + timedelta(seconds=61)  # the lease ran out: its worker died
    assert delivery.claim_many([a.pk], later) == [a.pk]
    a.refresh_from_db()
    assert (a.state, a.attempts) == ("sending", 2)


def test_deliveries_have_their_own_queue(settings):
    settings.COMMS_QUEUE = ""
    settings.CELERY_TASK_DEFAULT_QUEUE = "warroom"
    assert comms_queue() == "warroom.comms"
    settings.COMMS_QUEUE = "mail-room"
    assert comms_queue() == "mail-room"
