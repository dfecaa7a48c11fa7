"""A wave: many releases' levels falling due in one tick are fired a chunk of releases per
transaction, in bulk statements, and each chunk's PagerDuty triggers go out as soon as it
commits, while the next chunk is written; a chunk that fails is fired release by release."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments import issues
from notifications import escalation, pagerduty
from notifications.escalation_models import EscalationStep, Page, PagerDutyEvent
from tests.escalation.helpers import ROUTING_KEY, escalation_release
from warroom import clock
from warroom.audit import AuditEvent, verify_chain


def wave(releases: int, per_release: int = 2):
    """``releases`` releases routed to PagerDuty, ``per_release`` Critical issues each,
    all reported at one moment (level 1 falls due at once for all of them)."""
    teams = [escalation_release() for _ in range(releases)]
    for team in teams:
        escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
    start = clock.now()
    with clock.frozen_at(start):
        for team in teams:
            for n in range(per_release):
                issues.issue_report(
                    release=team.release, user=team["qa"], title=f"i{n}", severity="critical"
                )
    return teams, start


def statements(queries: CaptureQueriesContext, verb: str, table: str) -> int:
    """Statements of ``verb`` on ``table``, those sent together in one round trip
    (PostgreSQL) counted one by one."""
    return sum(
        1
        for q in queries.captured_queries
        for sql in q["sql"].split(";\n")
        if sql.upper().startswith(verb) and f" {table} " in sql.replace('"', "")
    )


@pytest.mark.django_db
def test_a_wave_is_written_a_chunk_of_releases_at_a_time_in_bulk_each_level_once(pd, monkeypatch):
    monkeypatch.setattr(escalation, "FIRE_CHUNK", 4)  # two releases of two levels a chunk
    teams, start = wave(4)
    with CaptureQueriesContext(connection) as queries:
        assert escalation.escalate_due(start + timedelta(seconds=1)) == 8
    # Two chunks: each writes its steps, events and pages in one statement apiece.
    assert statements(queries, "INSERT", "notifications_escalationstep") == 2
    assert statements(queries, "INSERT", "warroom_auditevent") == 2
    assert statements(queries, "INSERT", "notifications_page") == 2
    assert statements(queries, "INSERT", "notifications_pagerdutyevent") == 2
    assert statements(queries, "UPDATE", "deployments_release") == 2
    assert EscalationStep.objects.filter(level=1).count() == 8
    assert Page.objects.filter(step__level=1).count() == 8  # Devi Ops, once per issue
    triggers = Counter(t.dedup_key for t in pd.triggers())
    assert len(triggers) == 8 and set(triggers.values()) == {1}
    assert set(PagerDutyEvent.objects.values_list("state", "attempts")) == {("sent", 1)}
    for team in teams:
        escalated = AuditEvent.objects.filter(release=team.release, kind="issue.escalated")
        assert sorted(e.data["level"] for e in escalated) == [1, 1]
        assert verify_chain(team.release.pk) is None
    # Another tick finds nothing left to fire and sends nothing again.
    assert escalation.escalate_due(start + timedelta(seconds=2)) == 0
    assert len(pd.triggers()) == 8 and EscalationStep.objects.count() == 8


@pytest.mark.redis  # the pages are handed to the workers' queue as each chunk commits
@pytest.mark.django_db(transaction=True)
def test_each_chunks_triggers_go_to_pagerduty_once_committed_while_the_next_is_written(
    pd, monkeypatch
):
    monkeypatch.setattr(escalation, "FIRE_CHUNK", 2)  # one release of two levels a chunk
    teams, start = wave(3)
    heard_before: list[int] = []
    started: list[tuple[bool, int, set[str]]] = []
    write_fired = escalation._write_fired
    start_sending = pagerduty.Sending.start

    def writing(todo, *args, **kwargs):
        # PagerDuty hears of the chunks committed before this one while it is written.
        deadline = time.monotonic() + 10
        while len(pd.triggers()) < 2 * len(heard_before) and time.monotonic() < deadline:
            time.sleep(0.01)
        heard_before.append(len(pd.triggers()))
        return write_fired(todo, *args, **kwargs)

    def starting(self, rows):
        committed = set(
            PagerDutyEvent.objects.filter(pk__in=[r.pk for r in rows]).values_list(
                "claimed_by", flat=True
            )
        )
        started.append((connection.in_atomic_block, len(rows), committed))
        return start_sending(self, rows)

    monkeypatch.setattr(escalation, "_write_fired", writing)
    monkeypatch.setattr(pagerduty.Sending, "start", starting)
    assert escalation.escalate_due(start + timedelta(seconds=1)) == 6
    assert heard_before == [0, 2, 4]
    # Started outside any transaction, with rows committed already claimed by the tick.
    assert [(atomic, n) for atomic, n, _ in started] == [(False, 2)] * 3
    assert all(len(tokens) == 1 and "" not in tokens for _, _, tokens in started)
    assert Counter(t.dedup_key for t in pd.triggers()).most_common(1)[0][1] == 1
    assert len(pd.triggers()) == 6
    assert set(PagerDutyEvent.objects.values_list("state", "attempts", "lease_until")) == {
        ("sent", 1, None)
    }
    assert [verify_chain(t.release.pk) for t in teams] == [None] * 3


@pytest.mark.django_db
def test_a_pagerduty_server_in_its_own_process_counts_what_it_received(pd_process, monkeypatch):
    monkeypatch.setattr(escalation, "FIRE_CHUNK", 2)
    _, start = wave(3)
    assert escalation.escalate_due(start + timedelta(seconds=1)) == 6
    triggers = pd_process.triggers()
    assert len(triggers) == 6
    assert Counter(t.dedup_key for t in triggers).most_common(1)[0][1] == 1
    assert all(t.dedup_key.endswith("-L1") and t.routing_key == ROUTING_KEY for t in triggers)
    assert sorted(pd_process.alerts()) == sorted(t.dedup_key for t in triggers)
    assert pd_process.resolves() == []
    # A repeat of a trigger is counted by the server, and joins the open alert.
    PagerDutyEvent.objects.filter(dedup_key=triggers[0].dedup_key).update(
        state="pending", claimed_by="", lease_until=None
    )
    assert pagerduty.deliver_pending(budget_s=10) == 1
    assert Counter(t.dedup_key for t in pd_process.triggers())[triggers[0].dedup_key] == 2
    assert len(pd_process.alerts()) == 6


@pytest.mark.django_db
def test_a_chunk_that_fails_is_fired_release_by_release_and_the_failing_one_next_tick(
    pd, monkeypatch
):
    teams, start = wave(3)
    broken = teams[1].release.pk
    people = escalation.Directory.people

    def failing(self, release_id, due):
        if release_id == broken:
            raise RuntimeError("directory unavailable")
        return people(self, release_id, due)

    monkeypatch.setattr(escalation.Directory, "people", failing)
    assert escalation.escalate_due(start + timedelta(seconds=1)) == 4
    fired = Counter(
        EscalationStep.objects.values_list("escalation__release_id", flat=True).order_by()
    )
    assert fired == {teams[0].release.pk: 2, teams[2].release.pk: 2}
    assert not AuditEvent.objects.filter(release_id=broken, kind="issue.escalated").exists()
    assert not PagerDutyEvent.objects.filter(release_id=broken).exists()
    assert len(pd.triggers()) == 4
    monkeypatch.setattr(escalation.Directory, "people", people)
    assert escalation.escalate_due(start + timedelta(seconds=2)) == 2
    assert EscalationStep.objects.count() == 6 and Page.objects.count() == 6
    triggers = Counter(t.dedup_key for t in pd.triggers())
    assert len(triggers) == 6 and set(triggers.values()) == {1}
    for team in teams:
        assert verify_chain(team.release.pk) is None
