"""The war room is live: a tick in one browser shows in every other one without a reload."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    LIVE_MS,
    SCREENSHOTS,
    WALL,
    anonymous,
    login,
    percent,
    shot,
    wait_live,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

XSS = "<script>alert(1)</script>"


def summary_percent(page) -> int:
    return percent(page.locator("#summary .progress .figure").inner_text())


def board_percent(page) -> int:
    tile = page.locator("#board-summary .progress-tile")
    return percent(tile.locator(".value").inner_text())


def test_the_dba_ticks_an_item_and_the_rm_and_the_boards_see_it_within_a_second(
    live_team, contexts
):
    team, server = live_team, live_team.server
    release = team.release
    item = team.item("DBA")
    warroom = f"/releases/{release.pk}/"

    # The RM sits in Berlin, the DBA in New York: each sees their own local time.
    rm = login(contexts(timezone_id="Europe/Berlin", locale="en-GB"), server, "rm", warroom)
    dba = login(contexts(timezone_id="America/New_York", locale="en-US"), server, "dba", warroom)
    pm_board = login(contexts(viewport=WALL), server, "pm", f"/releases/{release.pk}/board/")
    link_board = anonymous(contexts(viewport=WALL), f"{server.url}/board/{release.board_token}/")
    pages = [rm, dba, pm_board, link_board]
    for page in pages:
        wait_live(page)

    # Given both are in the war room, the roll call lists both, on both screens.
    for page in (rm, dba):
        rollcall = page.locator("#rollcall")
        rollcall.get_by_text("Rita Manager").wait_for()
        rollcall.get_by_text("Dana Admin").wait_for()
        assert "2" in rollcall.locator(".count").inner_text()

    # Controls: the DBA may tick DBA items only; the RM may change any item.
    assert dba.locator(f"#item-{item.pk} .controls").is_visible()
    qa_item = team.item("QA Lead")
    assert not dba.locator(f"#item-{qa_item.pk} .controls").is_visible()
    assert rm.locator(f"#item-{qa_item.pk} .controls").is_visible()
    # The board shows no controls and no login chrome.
    assert link_board.locator("button").count() == 0

    before = summary_percent(rm)
    board_before = board_percent(link_board)
    assert rm.locator(f"#item-{item.pk}").get_attribute("class").count("status-todo")

    # When the DBA ticks "Verify backup 1"...
    with dba.expect_response(lambda r: r.url.endswith(f"/items/{item.pk}/status")) as resp:
        dba.locator(f"#tick-{item.pk}").check()
    assert resp.value.ok, resp.value.text()

    # ...the RM sees it done within a second, without a reload.
    rm.locator(f"#item-{item.pk}.status-done").wait_for(timeout=LIVE_MS)
    assert "Dana Admin" in rm.locator(f"#item-{item.pk} .changed").inner_text()
    wait_until(rm, lambda: summary_percent(rm) > before, what="the RM's progress rises")
    assert summary_percent(rm) > before
    assert rm.locator("#event-list .event").first.inner_text().count("Verify backup 1")
    # Both boards follow, the secret-link one too.
    for board in (pm_board, link_board):
        wait_until(board, lambda b=board: board_percent(b) > board_before, what="board progress")
        assert board.locator("#board-summary .events").get_by_text("Verify backup 1").count()

    # Times are local (24-hour, zone named), also in fragments that arrived live.
    for page, zone, label in ((rm, "Europe/Berlin", "CET"), (dba, "America/New_York", "EST")):
        t0 = release.go_live_at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        assert f"{t0} {label}" in page.locator(".release-head time").first.inner_text()
        assert f" {label}" in page.locator("[data-clock] .local").inner_text()
        stale = page.locator("time", has_text="UTC")
        assert stale.count() == 0, stale.all_inner_texts()
        assert page.locator("[data-clock] .toffset").inner_text().startswith("T-00:5")

    # The T-1 Day checklist is a day past due with nothing ticked: it says so.
    overdue = rm.locator(".checklist:has(.progress.overdue)")
    assert overdue.count() == 1 and "T-1 Day" in overdue.locator("h3").inner_text()

    # Nobody reloaded: the DOM the page loaded with is still there.
    assert rm.evaluate("performance.getEntriesByType('navigation').length") == 1

    shot(rm, "warroom.png")
    rm.screenshot(path=str(SCREENSHOTS / "warroom-full.png"), full_page=True)
    dba.screenshot(path=str(SCREENSHOTS / "warroom-dba.png"), full_page=True)
    shot(pm_board, "board.png")
    shot(link_board, "board-link.png")

    for page in pages:
        assert not page.watch.errors, (page.watch.name, page.watch.errors)


def test_a_script_in_a_block_reason_shows_as_text_and_never_runs(live_team, contexts):
    team, server = live_team, live_team.server
    release = team.release
    item = team.item("DBA")
    warroom = f"/releases/{release.pk}/"

    rm = login(contexts(), server, "rm", warroom)
    dba = login(contexts(), server, "dba", warroom)
    board = anonymous(contexts(viewport=WALL), f"{server.url}/board/{release.board_token}/")
    for page in (rm, dba, board):
        wait_live(page)

    dba.locator(f"#item-{item.pk}-block > summary").click()
    dba.fill(f"#item-{item.pk}-reason", XSS)
    with dba.expect_response(lambda r: r.url.endswith(f"/items/{item.pk}/status")) as resp:
        dba.locator(f"#item-{item.pk}-block button").click()
    assert resp.value.ok, resp.value.text()
    assert dba.watch.dialogs == []

    for page in (dba, rm):
        note = page.locator(f"#item-{item.pk}.status-blocked .blocked-reason")
        note.wait_for(timeout=LIVE_MS)
        assert note.inner_text().startswith(f"Blocked: {XSS} — Dana Admin")
        # The event line travels on the websocket, after the POST's own answer (DBA).
        last_event = page.locator("#event-list .event").first
        expect(last_event).to_have_text(re.compile(re.escape(XSS) + "$"), timeout=LIVE_MS)
        assert (
            page.locator("#summary").get_by_text("1 blocked").count()
            or page.locator(f"#checklist-{item.checklist_id}-progress .blocked").inner_text()
            == "1 blocked"
        )
    board.locator("#board-summary .events").get_by_text(XSS).wait_for(timeout=LIVE_MS)

    # Reloaded, the server-rendered page escapes it the same way.
    rm.reload()
    reason = rm.locator(f"#item-{item.pk} .blocked-reason").inner_text()
    assert reason.startswith(f"Blocked: {XSS} — Dana Admin")
    board.reload()
    board.locator("#board-summary .events").get_by_text(XSS).wait_for()

    for page in (rm, dba, board):
        assert page.locator("script", has_text="alert(1)").count() == 0
        assert not [d for d in page.watch.dialogs if d.startswith("alert")], page.watch.dialogs
        assert not page.watch.errors, (page.watch.name, page.watch.errors)
    shot(rm, "warroom-blocked.png")
