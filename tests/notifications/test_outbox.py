"""The outbox: messages written once, in their cause's transaction, at the right times."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from deployments.clockwork import record_due
from notifications import outbox
from notifications.models import CommsRule, Delivery, Message
from tests.notifications.plans import D, H, comms_release
from warroom import clock, events

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)


def run_ticks(release, moments, *, clock_every=None) -> None:
    """What beat's tick does at each moment: the clock's events, then the comms rules.
    ``clock_every`` runs the (costlier) clock events only on those boundaries."""
    for moment in moments:
        with clock.frozen_at(moment):
            if clock_every is None or (moment - release.go_live_at) % clock_every == timedelta(0):
                record_due(release, moment)
            outbox.write_due(moment)


def timeline(release):
    """Every delivery as (channel, rule name, due offset, created offset), in order."""
    t0 = release.go_live_at
    out = defaultdict(list)
    for d in Delivery.objects.filter(message__release=release).select_related("message__rule"):
        m = d.message
        out[d.channel].append((m.rule.name, m.due_at - t0, m.created_at - t0, d.target))
    for rows in out.values():
        rows.sort(key=lambda r: (r[2], r[0], r[3]))
    return out


def test_a_night_from_t_minus_7_days_to_t_plus_6_hours_sends_the_plan_in_order():
    start = clock.now().replace(microsecond=0)
    t0 = start + 8 * D
    with clock.frozen_at(start):
        team = comms_release(go_live_at=t0)
    release = team.release
    # Ticks every 30 minutes before the window, every minute in it (to T+7h).
    coarse = [start + n * 30 * MIN for n in range(int((8 * D - 2 * H) / (30 * MIN)))]
    fine = [t0 - 2 * H + n * MIN for n in range(9 * 60 + 1)]
    run_ticks(release, [m for m in coarse if m < t0 - 2 * H] + fine, clock_every=15 * MIN)

    per = timeline(release)
    slack = [(name, due) for name, due, _c, _t in per["slack"]]
    updates = [due for name, due in slack if name == "Progress"]
    # 15-minute updates: from 15 minutes after the window opens to its close, only inside.
    assert updates == [-2 * H + n * timedelta(minutes=15) for n in range(1, 33)]
    others = [(name, due) for name, due in slack if name != "Progress"]
    assert [n for n, _ in others] == [
        "Three days to go", "Tomorrow night", "Team on the bridge", "We have started", "All done"
    ]  # fmt: skip
    assert [d for _, d in others] == [-3 * D, -1 * D, -2 * H, timedelta(0), 2 * H]
    # Every message was written within one tick of its due time.
    for rows in per.values():
        for name, due, created, _target in rows:
            step = MIN if due >= -2 * H else 30 * MIN
            assert timedelta(0) <= created - due < step, (name, due, created)
    # Email goes to each person of the audience, once per message.
    emails = defaultdict(list)
    for name, _due, _c, target in per["email"]:
        emails[name].append(target)
    assert list(emails) == [
        "Heads-up a week out", "Three days to go", "Tomorrow night", "All done", "Morning summary"
    ]  # fmt: skip
    assert emails["Heads-up a week out"] == ["pm@orbit.example"]  # the stakeholder
    assert len(set(emails["All done"])) == len(emails["All done"])
    # The status page hears the start and the end.
    assert [name for name, *_ in per["status_page"]] == ["We have started", "All done"]
    # Nothing was written twice.
    keys = list(Delivery.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))


def test_catch_up_after_downtime_sends_the_latest_update_once():
    start = clock.now().replace(microsecond=0)
    t0 = start + 3 * H
    with clock.frozen_at(start):
        release = comms_release(go_live_at=t0, rules=[
            ("Progress", None, timedelta(minutes=15), "", ["slack"], "Stakeholders"),
        ]).release  # fmt: skip
    run_ticks(release, [t0 - 2 * H + timedelta(minutes=16)])  # the first update
    run_ticks(release, [t0 + timedelta(minutes=7)])  # down for 1h50: seven updates missed
    dues = list(Message.objects.filter(release=release).values_list("due_at", flat=True))
    assert [d - t0 for d in dues] == [-2 * H + timedelta(minutes=15), timedelta(0)]
    rule = CommsRule.objects.get(release=release)
    assert rule.next_due_at == t0 + timedelta(minutes=15)  # and carries on from there


def test_two_callers_claiming_one_due_rule_write_one_message():
    start = clock.now().replace(microsecond=0)
    t0 = start + 3 * H
    with clock.frozen_at(start):
        release = comms_release(go_live_at=t0).release
    rule = CommsRule.objects.get(release=release, name="Team on the bridge")
    stale = CommsRule.objects.get(pk=rule.pk)  # a second worker read it at the same time
    due = t0 - 2 * H
    assert rule.next_due_at == due
    with clock.frozen_at(due):
        assert outbox.fire(rule, due) == 1
        assert outbox.fire(stale, due) == 0  # lost the compare-and-set
        assert outbox.write_due(due) == 0
    assert Message.objects.filter(rule=rule).count() == 1


def test_an_event_writes_its_message_in_the_writers_transaction_and_once():
    now = clock.now()
    release = comms_release(go_live_at=now + H).release
    with pytest.raises(RuntimeError), __import__("django").db.transaction.atomic():
        events.record(release, "rollback.raised", data={"reason": "errors"})
        assert Message.objects.filter(release=release, cause="rollback.raised").count() == 1
        raise RuntimeError("the writer fails")
    assert not Message.objects.filter(release=release, cause="rollback.raised").exists()
    event = events.record(release, "rollback.raised", data={"reason": "errors"})
    message = Message.objects.get(release=release, cause="rollback.raised")
    assert sorted(message.deliveries.values_list("channel", flat=True).distinct()) == [
        "email", "slack"
    ]  # fmt: skip
    outbox.on_event(event)  # delivered again (a replay): nothing new
    assert Message.objects.filter(release=release, cause="rollback.raised").count() == 1


def test_an_event_no_rule_reacts_to_reads_no_rule_once_the_stamp_is_known():
    """A tick or a note on a release whose rules react to other things costs one small
    read of the release's comms stamp, not a read of its rules; a rule that reacts to it,
    added later, changes the stamp and is read and obeyed at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = clock.now()
    release = comms_release(go_live_at=now + H).release
    events.record(release, "item.status", data={"item": 1, "status": "done"})
    with CaptureQueriesContext(connection) as seen:
        events.record(release, "item.status", data={"item": 2, "status": "done"})
    rules_table = CommsRule._meta.db_table
    assert not [q for q in seen.captured_queries if rules_table in q["sql"]]
    assert not Message.objects.filter(release=release, cause="item.status").exists()

    CommsRule.objects.create(
        release=release, name="Ticks", event_kinds=["item.status"], channels=["slack"]
    )
    events.record(release, "item.status", data={"item": 3, "status": "done"})
    assert Message.objects.filter(release=release, cause="item.status").count() == 1


def test_moving_t0_moves_the_due_times_and_a_channel_nobody_serves_is_shown_failed():
    from deployments.services import release_edit

    now = clock.now().replace(microsecond=0)
    team = comms_release(go_live_at=now + 2 * D, rules=[
        ("Tomorrow night", -1 * D, None, "", ["email", "pager"], "All stakeholders"),
    ])  # fmt: skip
    rule = CommsRule.objects.get(release=team.release)
    assert rule.next_due_at == now + D
    release_edit(release=team.release, user=team["rm"], go_live_at=now + 3 * D)
    rule.refresh_from_db()
    assert rule.next_due_at == now + 2 * D
    run_ticks(team.release, [now + 2 * D])
    pager = Delivery.objects.get(channel="pager")
    assert pager.state == "failed" and "pager" in pager.last_error


EVERYWHERE = [
    ("Progress", None, timedelta(minutes=15), "", ["slack", "email", "status_page"], "Everyone")
]


def due_updates(count: int):
    """``count`` releases whose 15-minute update falls due at the same moment."""
    t0 = clock.now().replace(microsecond=0) + H
    releases = [comms_release(go_live_at=t0, rules=EVERYWHERE).release for _ in range(count)]
    return releases, t0 + timedelta(minutes=15)


@pytest.mark.parametrize("fault", ["the template", "the audience"])
def test_one_bad_rule_holds_none_of_the_others_back(
    fault, monkeypatch, django_capture_on_commit_callbacks
):
    """A rule whose message cannot be made (before the chunk's claim) or whose
    deliveries cannot be written (the chunk written in bulk fails, and again one rule
    at a time) is left due for the next tick; the others are written and handed over."""
    from notifications import audiences

    releases, due = due_updates(4)
    bad = releases[2]
    stored = CommsRule.objects.get(release=bad).next_due_at
    handed: list[int] = []
    monkeypatch.setattr(outbox, "hand_over", lambda ids: handed.extend(ids))
    if fault == "the template":
        real_make = outbox.new_message

        def making(release, rule, now, **given):
            if release.pk == bad.pk:
                raise ValueError("the template is broken")
            return real_make(release, rule, now, **given)

        monkeypatch.setattr(outbox, "new_message", making)
    else:
        real_targets = audiences.targets

        def targeting(release, channel, audience, known=None):
            if release.pk == bad.pk:
                raise ValueError("the audience is broken")
            return real_targets(release, channel, audience, known)

        monkeypatch.setattr(audiences, "targets", targeting)
    with clock.frozen_at(due), django_capture_on_commit_callbacks(execute=True):
        assert outbox.write_due(due) == 3
    assert sorted(Message.objects.values_list("release_id", flat=True)) == sorted(
        r.pk for r in releases if r is not bad
    )
    queued = Delivery.objects.filter(state="queued")
    assert sorted(handed) == sorted(queued.values_list("pk", flat=True))
    assert Delivery.objects.filter(channel="slack").count() == 3  # one per message
    assert CommsRule.objects.get(release=bad).next_due_at == stored  # still due: retried
    monkeypatch.undo()
    with clock.frozen_at(due), django_capture_on_commit_callbacks(execute=True):
        assert outbox.write_due(due) == 1  # the next tick, once the fault is gone
        assert outbox.write_due(due) == 0
    assert Message.objects.count() == 4
    keys = list(Delivery.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))


def test_the_tick_writes_a_chunk_of_due_rules_in_the_same_queries_for_one_or_many(
    django_assert_num_queries,
):
    """Reading the due rules; per chunk: the rows (locked), the compare-and-set claim,
    the keys written already, the email audiences (subscribers, people), the messages
    and their deliveries in one insert each — and the chunk's transaction and bulk
    savepoint (two SAVEPOINTs and two RELEASEs inside the test's transaction). (SQLite
    splits an insert of more than 999 parameters: ~70 deliveries.)"""
    few, due = due_updates(2)
    many = [comms_release(go_live_at=few[0].go_live_at, rules=EVERYWHERE).release for _ in range(5)]
    for releases in (few, many):
        CommsRule.objects.exclude(release__in=releases).update(enabled=False)
        CommsRule.objects.filter(release__in=releases).update(enabled=True)
        with clock.frozen_at(due), django_assert_num_queries(12):
            assert outbox.write_due(due) == len(releases)
        assert Message.objects.filter(release__in=releases).count() == len(releases)
    assert Delivery.objects.filter(channel="slack").count() == 7
