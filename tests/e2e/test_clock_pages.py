"""Pages keep up with the clock: a wall board left open across a phase boundary, an
alert bar nobody can miss, without a reload. Real uvicorn, Celery worker and beat share
one clock (kept in Redis), moved by the test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, WALL, anonymous, in_thread, login, shot, wait_live
from warroom import clock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def night(browser, server_factory, celery_factory, monkeypatch):
    """A team release (T0 in an hour, the T-1 Day list done), its stack on a shared clock."""
    from checklists import services
    from tests.factories import team_release

    monkeypatch.setenv("WARROOM_SHARED_CLOCK", "1")
    clock.travel(timedelta(0))

    def setup():
        team = team_release()
        for user in team.users.values():
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        for item in team.release.checklists.get(name="T-1 Day").items.all():
            services.item_set_status(item=item, status="done", user=team["qa"])
        return team

    team = in_thread(setup)
    env = {"DJANGO_ALLOW_ASYNC_UNSAFE": "", "WARROOM_SHARED_CLOCK": "1"}
    team.server = server_factory("web", extra_env=env)
    celery_factory("worker")
    celery_factory("beat")
    yield team
    clock.travel(timedelta(0))


def test_a_wall_board_left_open_across_a_phase_boundary_follows_the_clock(night, contexts):
    board = anonymous(
        contexts(viewport=WALL), f"{night.server.url}/board/{night.release.board_token}/"
    )
    wait_live(board)
    phase = board.locator("#board-summary .phase-name")
    rag = board.locator("#board-summary .rag-tile .value")
    expect(phase).to_have_text("Pre-Deployment")
    expect(rag).to_have_text("GREEN")
    # T0 passes: Pre-Deployment ends with Environment verification open.
    clock.travel(timedelta(minutes=61))
    expect(phase).to_have_text("Deployment Execution", timeout=15_000)
    expect(rag).to_have_text("YELLOW", timeout=5_000)
    expect(board.locator("#board-summary .rag-tile .reasons")).to_contain_text("overdue")
    expect(board.locator("#board-summary .milestones")).to_contain_text("Deployment Execution")
    assert board.evaluate("performance.getEntriesByType('navigation').length") == 1
    shot(board, "board-after-t0.png")
    assert not board.watch.errors, board.watch.errors


def test_a_raised_rollback_trigger_shows_on_a_page_scrolled_to_the_bottom(night, contexts):
    from checklists import services

    rm = login(contexts(), night.server, "rm", f"/releases/{night.release.pk}/")
    wait_live(rm)
    rm.mouse.wheel(0, 20_000)
    rm.wait_for_timeout(300)
    assert rm.evaluate("window.scrollY") > 500
    in_thread(
        services.rollback_raise,
        release=night.release,
        reason="error rate 3.1% for 6 minutes",
        user=night["devops"],
    )
    bar = rm.locator("#alerts.active")
    expect(bar).to_be_visible(timeout=5_000)
    expect(bar).to_contain_text("error rate 3.1% for 6 minutes")
    assert bar.bounding_box()["y"] >= 0 and bar.bounding_box()["y"] < 200  # in view, on top
    expect(rm).to_have_title("⚠ " + rm.title().removeprefix("⚠ "))
    assert rm.title().startswith("⚠")
    shot(rm, "alert-bar-scrolled.png")
    assert not rm.watch.errors, rm.watch.errors
