"""Pages: constant queries, escaping, who sees what, the demo."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists import services
from tests.factories import crowd_release, team_release

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, resp.content[:500]
    return len(ctx.captured_queries)


def test_the_board_runs_the_same_queries_for_3_items_as_for_300(client):
    small, small_team = crowd_release(items=3, users=2)
    big, big_team = crowd_release(items=300, users=2)
    for n, item in enumerate(big.checklists.get().items.all()[:40]):
        services.item_set_status(item=item, status="done" if n % 2 else "na", user=big_team[0])
    client.force_login(small_team[0])
    small_q = count_queries(client, f"/releases/{small.pk}/board/")
    client.force_login(big_team[0])
    big_q = count_queries(client, f"/releases/{big.pk}/board/")
    assert big_q == small_q
    assert count_queries(client, f"/board/{big.board_token}/") == count_queries(
        client, f"/board/{small.board_token}/"
    )


def test_the_war_room_runs_the_same_queries_for_3_items_as_for_300(client):
    small, small_team = crowd_release(items=3, users=2)
    big, big_team = crowd_release(items=300, users=2)
    client.force_login(small_team[0])
    small_q = count_queries(client, f"/releases/{small.pk}/")
    client.force_login(big_team[0])
    assert count_queries(client, f"/releases/{big.pk}/") == small_q


def test_item_text_and_notes_are_escaped_everywhere(client):
    team = team_release()
    item = team.item("DBA")
    services.item_set_status(
        item=item, status="blocked", note="<script>alert(1)</script>", user=team["dba"]
    )
    client.force_login(team["rm"])
    for url in (
        f"/releases/{team.release.pk}/",
        f"/releases/{team.release.pk}/board/",
        f"/board/{team.release.board_token}/",
        f"/releases/{team.release.pk}/sync?variant=warroom",
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
        in client.get(f"/releases/{team.release.pk}/").content.decode()
    )


def test_the_war_room_shows_each_viewer_only_the_controls_they_may_use(client):
    team = team_release()
    client.force_login(team["dba"])
    css = client.get(f"/releases/{team.release.pk}/").context["controls_css"]
    dba_role = team.item("DBA").owner_role_id
    assert f".item.owner-{dba_role} .controls" in css
    assert ".item .controls" not in css  # not every item
    client.force_login(team["rm"])
    assert ".item .controls" in client.get(f"/releases/{team.release.pk}/").context["controls_css"]
    client.force_login(team["pm"])  # a stakeholder: no team items, no decisions
    css = client.get(f"/releases/{team.release.pk}/").context["controls_css"]
    assert ".item .controls" not in css and ".owner-none" not in css and ".decide" not in css


def test_an_outsider_gets_403_on_the_war_room_and_it_is_audited(client):
    from warroom.audit import AuditEvent

    team = team_release()
    client.force_login(team["outsider"])
    resp = client.get(f"/releases/{team.release.pk}/")
    assert resp.status_code == 403
    assert b"not on this release" in resp.content
    assert AuditEvent.objects.filter(release=team.release, kind="access.denied").count() == 1


def test_ticking_in_the_browser_answers_with_the_new_row(client):
    team = team_release()
    item = team.item("DBA")
    client.force_login(team["dba"])
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status",
        {"status": "blocked"},
        headers={"HX-Request": "true", "HX-Prompt": "replica lag"},
    )
    assert resp.status_code == 200
    assert f'id="item-{item.pk}"' in resp.content.decode()
    assert "replica lag" in resp.content.decode()
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status",
        {"status": "bogus"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 400 and b"status" in resp.content
    client.force_login(team["qa"])
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status",
        {"status": "done"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 403 and b"owner role" in resp.content


def test_rotating_the_board_link_retires_the_old_one(client):
    team = team_release()
    old = team.release.board_token
    client.force_login(team["rm"])
    resp = client.post(f"/releases/{team.release.pk}/board/rotate")
    assert resp.status_code == 200
    team.release.refresh_from_db()
    assert team.release.board_token != old
    assert client.get(f"/board/{old}/").status_code == 404
    assert client.get(f"/board/{team.release.board_token}/").status_code == 200
    client.force_login(team["dba"])
    assert client.post(f"/releases/{team.release.pk}/board/rotate").status_code == 403


def test_the_release_list_groups_upcoming_in_progress_and_done(client):
    from datetime import timedelta

    from warroom import clock

    upcoming = team_release(go_live_at=clock.now() + timedelta(days=3))
    client.force_login(upcoming["rm"])
    body = client.get("/").content.decode()
    assert "Upcoming" in body and "Orbit Payments" in body and "data-countdown" in body


def test_load_demo_creates_the_demo_from_our_own_runbook_with_logins(capsys):
    from django.core.management import call_command

    from checklists.models import Checklist
    from deployments.models import Release

    call_command("load_demo")
    out = capsys.readouterr().out
    release = Release.objects.get(source_name="demo-go-live.md")
    assert "password for all" in out and "priya" in out
    phases = list(release.phases.values_list("name", flat=True))
    assert len(phases) >= 5
    dues = set(
        Checklist.objects.filter(release=release, kind="pre_deployment").values_list(
            "due_offset", flat=True
        )
    )
    assert {timedelta_days(-7), timedelta_days(-3), timedelta_days(-1)} <= dues
    assert release.gates.count() >= 2
    call_command("load_demo")  # recreated, not duplicated
    assert Release.objects.filter(source_name="demo-go-live.md").count() == 1


def timedelta_days(n):
    from datetime import timedelta

    return timedelta(days=n)


def test_every_model_has_an_admin_page_that_opens(client, django_user_model):
    from django.apps import apps
    from django.contrib import admin

    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"warroom", "people", "deployments", "checklists", "notifications"}
    ]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert missing == []
    team_release()
    client.force_login(django_user_model.objects.get(username="admin"))
    for model in ours:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url


def test_moving_t0_changes_the_t_offsets_shown_on_cached_item_rows(client):
    """Rows are cached by what they show; the T-offset of "done by … at T-…" depends on T0."""
    from datetime import timedelta

    from deployments import services as release_services

    team = team_release()
    item = team.item("DBA")
    services.item_set_status(item=item, status="done", user=team["dba"])
    client.force_login(team["rm"])
    url = f"/releases/{team.release.pk}/"
    before = client.get(url).content.decode()
    assert "T-01:00" in before or "T-00:59" in before
    release_services.release_edit(
        release=team.release,
        user=team["rm"],
        go_live_at=team.release.go_live_at + timedelta(hours=3),
    )
    after = client.get(url).content.decode()
    row = after[after.index(f'id="item-{item.pk}"') :]
    row = row[: row.index("</li>")]
    assert "T-04:00" in row or "T-03:59" in row


def test_the_rollback_countdown_starts_from_the_configured_decision_time(client, settings):
    from checklists.services import rollback_raise

    settings.ROLLBACK_DECISION_SECONDS = 120
    team = team_release()
    rollback_raise(release=team.release, reason="error rate 3% for 6 minutes", user=team["rm"])
    client.force_login(team["rm"])
    war_room = client.get(f"/releases/{team.release.pk}/").content.decode()
    board = client.get(f"/board/{team.release.board_token}/").content.decode()
    for page in (war_room, board):
        assert 'data-countdown-style="mmss">2:00<' in page or 'mmss">1:59<' in page
        # No countdown shows the old hard-coded 5:00 (wall-clock times may contain "5:00").
        assert 'mmss">5:00<' not in page and 'mmss">4:59<' not in page


def test_pages_carry_their_sequence_and_when_the_clock_next_changes_them(client):
    from datetime import timedelta

    team = team_release()
    client.force_login(team["rm"])
    page = client.get(f"/releases/{team.release.pk}/").content.decode()
    marker = page[page.index('<span id="live-seq"') :].split(">")[0]
    # T0 is an hour away: the next change by the clock alone is the Go/No-Go at T-30m.
    gate_at = (team.release.go_live_at - timedelta(minutes=30)).isoformat()
    assert f'data-seq="{team.release.last_seq}"' in marker
    assert f'data-refresh-at="{gate_at}"' in marker


def test_a_second_visit_to_the_war_room_reads_only_who_asks_and_their_standing(
    client, django_assert_num_queries
):
    """The body comes from the cache: session, user, release, standing, person — and no
    query per item, step, issue or gate."""
    release, team = crowd_release(items=300, users=2)
    client.force_login(team[0])
    client.get(f"/releases/{release.pk}/")
    with django_assert_num_queries(5):
        assert client.get(f"/releases/{release.pk}/").status_code == 200


def test_a_team_opening_the_war_room_at_once_renders_its_body_once():
    """Each request has its own thread: those arriving while the body renders wait for it."""
    import threading

    from deployments import pages

    release = team_release().release
    renders: list[int] = []
    entered, go_on = threading.Event(), threading.Event()

    def render(now):
        renders.append(1)
        entered.set()
        go_on.wait(10)
        return "<p>body</p>", None

    answers: list[str] = []
    start = threading.Barrier(9)

    def visit():
        start.wait(10)
        answers.append(pages._cached(release, "team-at-once", render))

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for t in threads:
        t.start()
    start.wait(10)
    assert entered.wait(10)
    go_on.wait(0.3)  # give the others time to ask while the first renders
    go_on.set()
    for t in threads:
        t.join(10)
    assert answers == ["<p>body</p>"] * 8
    assert len(renders) == 1


def test_a_repeat_visit_to_the_board_reads_who_asks_and_renders_no_template(client):
    """The whole board page comes from the cache: session, user, release and standing
    (signed in; the person is never read) or the link's release alone — and not one
    template rendered."""
    from django.test.signals import template_rendered

    from deployments import pages

    release, team = crowd_release(items=300, users=2)
    client.force_login(team[0])
    urls = {f"/releases/{release.pk}/board/": 4, f"/board/{release.board_token}/": 1}
    first = {url: client.get(url).content.decode() for url in urls}
    rendered: list[str] = []

    def note(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(note)
    try:
        for url, queries in urls.items():
            assert count_queries(client, url) == queries
            again = client.get(url).content.decode()
            # Per request: the server's clock and the visitor's CSRF token, never the marks.
            assert pages.NOW_MARK not in again and pages.CSRF_MARK not in again
            assert 'name="server-now" content="20' in again
            assert re.search(r'"X-CSRFToken": "[A-Za-z0-9]{64}"', again)  # masked per response
            assert again.split("<main", 1)[1] == first[url].split("<main", 1)[1]
    finally:
        template_rendered.disconnect(note)
    assert rendered == []
    # The two ways in are cached apart: each carries its own live URL.
    assert f"/ws/board/{release.board_token}" in first[f"/board/{release.board_token}/"]
    assert "variant=board" in first[f"/releases/{release.pk}/board/"]


def test_an_event_changes_what_the_next_board_visit_shows(client):
    from deployments import services as release_services

    team = team_release()
    client.force_login(team["rm"])
    urls = [f"/releases/{team.release.pk}/board/", f"/board/{team.release.board_token}/"]
    for url in urls:
        assert "Canary at 10%" not in client.get(url).content.decode()
    release_services.release_pin_status(release=team.release, user=team["rm"], text="Canary at 10%")
    team.release.refresh_from_db()
    for url in urls:
        page = client.get(url).content.decode()
        assert "Canary at 10%" in page
        assert f'data-seq="{team.release.last_seq}"' in page
        assert f"after={team.release.last_seq}" in page
