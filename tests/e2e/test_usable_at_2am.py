"""The war room at 2 a.m., as its people use it: a team member on a phone, the release
manager on a laptop with the keyboard only, the board on two wall screens and a phone.

The first three tests are the bugs that lost or hid data (each failed before the fix):
text typed on a phone stored URL-encoded, a later note overwriting the block reason, and
the filters that hid nothing.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from checklists.models import ChecklistItem, ItemNote, SignOff
from deployments.models import Release
from tests.e2e.conftest import (
    LAPTOP,
    LIVE_MS,
    PHONE_CONTEXT,
    SCREENSHOTS,
    WALL,
    WALL_SMALL,
    anonymous,
    in_thread,
    login,
    shot,
    wait_live,
    wait_until,
)
from warroom.people.models import Person, Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What an iPhone types by default: an em dash and curly apostrophes.
REASON = "Canary creds expired — Jonas\N{RIGHT SINGLE QUOTATION MARK}s rotating them"
COMMENT = "Backups verified — Marta\N{RIGHT SINGLE QUOTATION MARK}s restore test passed"


def status_posted(page, item_id):
    return page.expect_response(lambda r: r.url.endswith(f"/items/{item_id}/status"))


def block(page, item_id: int, reason: str) -> None:
    page.locator(f"#item-{item_id}-block > summary").click()
    page.fill(f"#item-{item_id}-reason", reason)
    with status_posted(page, item_id) as resp:
        page.locator(f"#item-{item_id}-block button").click()
    assert resp.value.ok, resp.value.text()


def add_note(page, item_id: int, text: str) -> None:
    page.locator(f"#item-{item_id}-note > summary").click()
    page.fill(f"#item-{item_id}-note-text", text)
    with status_posted(page, item_id) as resp:
        page.locator(f"#item-{item_id}-note button").click()
    assert resp.value.ok, resp.value.text()


def fresh(model, pk):
    return in_thread(lambda: model.objects.get(pk=pk))


# --- the three bugs ---------------------------------------------------------------------
def test_a_block_reason_and_a_sign_off_comment_typed_on_a_phone_are_stored_as_typed(
    live_team, contexts
):
    team, server = live_team, live_team.server
    item, gate = team.item("DBA"), team.gate()
    dba_role = in_thread(lambda: Role.objects.get(release=team.release, name="DBA"))
    phone = login(contexts(**PHONE_CONTEXT), server, "dba", f"/releases/{team.release.pk}/")
    wait_live(phone)

    block(phone, item.pk, REASON)
    expect(phone.locator(f"#item-{item.pk} .blocked-reason")).to_contain_text(REASON)
    assert fresh(ChecklistItem, item.pk).note == REASON

    phone.fill(f"#gate-{gate.pk}-comment-{dba_role.pk}", COMMENT)
    with phone.expect_response(lambda r: r.url.endswith(f"/gates/{gate.pk}/signoff")) as resp:
        phone.locator(f"#gate-{gate.pk}-signoff-{dba_role.pk} button.approve").click()
    assert resp.value.ok, resp.value.text()
    expect(phone.locator(f"#gate-{gate.pk} .comment")).to_have_text(f"“{COMMENT}”")
    signoff = in_thread(lambda: SignOff.objects.get(required__gate=gate))
    assert signoff.comment == COMMENT
    assert phone.watch.dialogs == [] and not phone.watch.errors


def test_a_later_note_appends_with_who_and_when_and_the_block_reason_stays(live_team, contexts):
    team, server = live_team, live_team.server
    item = team.item("DBA")
    warroom = f"/releases/{team.release.pk}/"
    dba = login(contexts(), server, "dba", warroom)
    rm = login(contexts(), server, "rm", warroom)
    for page in (dba, rm):
        wait_live(page)

    block(dba, item.pk, REASON)
    rm.locator(f"#item-{item.pk}.status-blocked").wait_for(timeout=LIVE_MS)
    add_note(rm, item.pk, "Jonas says 10 min")

    for page in (rm, dba):  # the RM's own answer, and the DBA's screen live
        row = page.locator(f"#item-{item.pk}")
        expect(row.locator(".notes .note")).to_have_count(1, timeout=LIVE_MS)
        assert row.locator(".blocked-reason").inner_text().startswith(f"Blocked: {REASON}")
        note = row.locator(".notes .note").inner_text()
        assert note.startswith("Jonas says 10 min — Rita Manager · ")
        assert "T-00:" in note  # when, as local time and T-offset
    assert fresh(ChecklistItem, item.pk).note == REASON
    texts = in_thread(lambda: list(ItemNote.objects.filter(item_id=item.pk).values_list("text")))
    assert texts == [(REASON,), ("Jonas says 10 min",)]
    shot(rm.locator(f"#item-{item.pk}"), "item-blocked-with-note.png")


def test_my_items_only_and_open_items_only_hide_the_rows_they_filter(live_team, contexts):
    team, server = live_team, live_team.server
    mine, theirs = team.item("DBA"), team.item("QA Lead")
    dba = login(contexts(), server, "dba", f"/releases/{team.release.pk}/")
    wait_live(dba)
    assert dba.locator(f"#item-{theirs.pk}").is_visible()

    dba.locator("#mine-only").check()
    expect(dba.locator(f"#item-{theirs.pk}")).to_be_hidden()
    expect(dba.locator(f"#item-{mine.pk}")).to_be_visible()

    dba.locator("#open-only").check()
    with status_posted(dba, mine.pk):
        dba.locator(f"#tick-{mine.pk}").check()
    # Ticked under "Open items only", the row leaves the list (and stays gone when the
    # websocket's copy of the row arrives).
    expect(dba.locator(f"#item-{mine.pk}")).to_be_hidden(timeout=LIVE_MS)
    dba.wait_for_timeout(300)
    expect(dba.locator(f"#item-{mine.pk}")).to_be_hidden()
    # The choice is remembered for this release.
    dba.reload()
    assert dba.locator("#mine-only").is_checked() and dba.locator("#open-only").is_checked()
    expect(dba.locator(f"#item-{theirs.pk}")).to_be_hidden()


# --- keyboard only ----------------------------------------------------------------------
def tab_to(page, selector: str, *, limit: int = 400) -> None:
    """Press Tab until ``selector`` has the focus (it must be reachable by keyboard)."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab")


def focus_is_visible(page) -> bool:
    return page.evaluate(
        """() => { const el = document.activeElement;
                   return el !== document.body && el.matches(':focus-visible')
                          && getComputedStyle(el).outlineStyle !== 'none'; }"""
    )


def test_keyboard_only_the_dba_ticks_blocks_notes_and_signs_off(live_team, contexts):
    team, server = live_team, live_team.server
    items = in_thread(
        lambda: list(
            ChecklistItem.objects.filter(
                checklist__release=team.release, owner_role__name="DBA"
            ).order_by("id")
        )
    )
    first, second, third = items[:3]
    gate = team.gate()
    dba_role = in_thread(lambda: Role.objects.get(release=team.release, name="DBA"))
    dba = login(contexts(viewport=LAPTOP), server, "dba", f"/releases/{team.release.pk}/")
    wait_live(dba)
    toast = dba.locator("#toast")

    # Tick: Tab to the box, Space. The focus stays on the new row's box, visibly.
    tab_to(dba, f"#tick-{first.pk}")
    with status_posted(dba, first.pk):
        dba.keyboard.press("Space")
    dba.locator(f"#item-{first.pk}.status-done").wait_for()
    wait_until(
        dba,
        lambda: dba.locator(f"#tick-{first.pk}").evaluate("el => el === document.activeElement"),
        what="focus back on the box",
    )
    assert dba.locator(f"#tick-{first.pk}").is_checked()
    # A live copy of the row may replace it a moment later: the focus comes back, visibly.
    wait_until(dba, lambda: focus_is_visible(dba), what="a visible focus")
    expect(toast).to_have_text("Done: Verify backup 1")
    assert toast.get_attribute("role") == "status"

    # Block with a reason: Tab to "Block…", Enter opens the field, type, Enter sends.
    tab_to(dba, f"#item-{second.pk}-block > summary")
    dba.keyboard.press("Enter")
    wait_until(
        dba,
        lambda: dba.locator(f"#item-{second.pk}-reason").evaluate(
            "el => el === document.activeElement"
        ),
        what="the reason field focused",
    )
    dba.keyboard.type("Replica lag 40 s")
    with status_posted(dba, second.pk):
        dba.keyboard.press("Enter")
    dba.locator(f"#item-{second.pk}.status-blocked").wait_for()
    expect(toast).to_have_text("Blocked: Verify backup 2. Reason: Replica lag 40 s")
    wait_until(
        dba,
        lambda: dba.evaluate(
            f"() => document.getElementById('item-{second.pk}').contains(document.activeElement)"
        ),
        what="focus kept in the blocked row",
    )
    wait_until(dba, lambda: focus_is_visible(dba), what="a visible focus")

    # A note and N/A, still without a mouse.
    tab_to(dba, f"#item-{third.pk}-note > summary")
    dba.keyboard.press("Enter")
    wait_until(
        dba,
        lambda: dba.locator(f"#item-{third.pk}-note-text").evaluate(
            "el => el === document.activeElement"
        ),
        what="the note field focused",
    )
    dba.keyboard.type("Restore test at T-20")
    with status_posted(dba, third.pk):
        dba.keyboard.press("Enter")
    expect(dba.locator(f"#item-{third.pk} .notes")).to_contain_text("Restore test at T-20")
    expect(toast).to_have_text("Note added to Verify backup 3")
    tab_to(dba, f"#item-{third.pk}-na")
    with status_posted(dba, third.pk):
        dba.keyboard.press("Enter")
    dba.locator(f"#item-{third.pk}.status-na").wait_for()

    # Reopen the ticked one: Space on its box again.
    tab_to(dba, f"#tick-{first.pk}")
    with status_posted(dba, first.pk):
        dba.keyboard.press("Space")
    dba.locator(f"#item-{first.pk}.status-todo").wait_for()

    # Sign off: Tab to the comment, type, Tab to Approve, Enter.
    tab_to(dba, f"#gate-{gate.pk}-comment-{dba_role.pk}")
    dba.keyboard.type(COMMENT)
    dba.keyboard.press("Tab")
    assert dba.evaluate("document.activeElement.textContent") == "Approve"
    with dba.expect_response(lambda r: r.url.endswith(f"/gates/{gate.pk}/signoff")):
        dba.keyboard.press("Enter")
    dba.locator(f"#gate-{gate.pk} tr.verdict-approve").wait_for()
    expect(toast).to_have_text("You approved the DBA sign-off for Go/No-Go")
    assert in_thread(lambda: SignOff.objects.get(required__gate=gate).comment) == COMMENT
    shot(dba, "keyboard-focus.png")
    assert not dba.watch.errors, dba.watch.errors


def test_keyboard_only_the_vp_decides(live_team, contexts):
    team, server = live_team, live_team.server
    gate = team.gate()
    vp = login(contexts(viewport=LAPTOP), server, "vp", f"/releases/{team.release.pk}/")
    wait_live(vp)
    tab_to(vp, f"#gate-{gate.pk} textarea[name=rationale]")
    vp.keyboard.type("Canary creds expired; new date after rotation")
    tab_to(vp, f"#gate-{gate.pk} button.nogo")  # GO is disabled: Tab passes it by
    with vp.expect_response(lambda r: r.url.endswith(f"/gates/{gate.pk}/decide")) as resp:
        vp.keyboard.press("Enter")
    assert resp.value.ok, resp.value.text()
    # "Release Manager + VP Engineering" decide: the VP's NO-GO waits for the RM.
    vp.locator(f"#gate-{gate.pk} .proposal-proposed").wait_for()
    expect(vp.locator("#toast")).to_have_text(
        "NO-GO proposed for Go/No-Go: awaiting Release Manager"
    )


# --- a phone ------------------------------------------------------------------------------
def test_on_a_phone_my_next_item_comes_first_and_nothing_pans_sideways(live_team, contexts):
    team, server = live_team, live_team.server
    release = team.release
    # Dana is also assigned a QA item of the T-1 Day list, a day overdue: due soonest.
    overdue = team.item("QA Lead", text="Regression suite green 2")

    def assign():
        dana = Person.objects.get(user__username="dba")
        ChecklistItem.objects.filter(pk=overdue.pk).update(assignee=dana)

    in_thread(assign)
    dba_items = in_thread(
        lambda: list(
            ChecklistItem.objects.filter(checklist__release=release, owner_role__name="DBA")
            .order_by("id")
            .values_list("pk", flat=True)
        )
    )
    phone = login(contexts(**PHONE_CONTEXT), server, "dba", f"/releases/{release.pk}/")
    wait_live(phone)
    mine = phone.locator("#my-next .next-item")
    mine.first.wait_for()

    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The first item in the main column is the viewer's next due item, then the rest of
    # theirs by due time, then the current phase.
    first = phone.locator("#main-column").locator(".next-item, .item").first
    assert first.get_attribute("data-item") == str(overdue.pk)
    assert "Overdue" in first.inner_text() and "due T-1d" in first.inner_text()
    assert [int(x) for x in mine.evaluate_all("els => els.map(e => e.dataset.item)")] == [
        overdue.pk,
        *dba_items,
    ]
    my_next_box = phone.locator("#my-next").bounding_box()
    current = phone.locator(".phase-group.current")
    assert "Pre-Deployment" in current.locator(".phase-title").inner_text()
    assert current.bounding_box()["y"] > my_next_box["y"]
    for other in phone.locator(".phase-group:not(.current)").all():
        if other.is_visible():
            assert other.bounding_box()["y"] > current.bounding_box()["y"]
    # A compact header: the T-clock on one line, RAG and progress beside each other.
    clock = phone.locator(".release-head .toffset")
    size = float(clock.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert clock.bounding_box()["height"] < 1.6 * size, "the T-clock wraps"
    rag, bar = phone.locator("#summary .rag"), phone.locator("#summary progress")
    assert abs(rag.bounding_box()["y"] - bar.bounding_box()["y"]) < 30
    # "My items only" is on by default on a phone: another role's rows are hidden.
    assert phone.locator("#mine-only").is_checked()
    expect(phone.locator(f"#item-{team.item('DevOps Lead').pk}")).to_be_hidden()
    # Touch targets of 44 px.
    target = phone.locator(f"#my-next .next-item[data-item='{dba_items[0]}'] .tick-target")
    box = target.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    for button in phone.locator(f"#item-{dba_items[0]} .controls > *").all():
        assert button.bounding_box()["height"] >= 44
    shot(phone, "phone.png")

    # One tap ticks it: the row is done, and "my next items" moves on.
    with status_posted(phone, dba_items[0]):
        target.tap()
    phone.locator(f"#item-{dba_items[0]}.status-done").wait_for()
    expect(phone.locator(f"#my-next .next-item[data-item='{dba_items[0]}']")).to_have_count(
        0, timeout=3000
    )
    expect(mine).to_have_count(len(dba_items))
    # Gates and the timeline are a tap away.
    phone.locator(f".jumpbar a[href='#gate-{team.gate().pk}']").tap()
    wait_until(
        phone,
        lambda: phone.locator(f"#gate-{team.gate().pk}").bounding_box()["y"] < 844,
        what="the gate in view",
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(SCREENSHOTS / "phone-full.png"), full_page=True)
    assert not phone.watch.errors, phone.watch.errors


def test_on_a_phone_at_night_the_war_room_is_dark(live_team, contexts):
    team, server = live_team, live_team.server
    ctx = contexts(**PHONE_CONTEXT, color_scheme="dark")
    phone = login(ctx, server, "dba", f"/releases/{team.release.pk}/")
    wait_live(phone)
    phone.locator("#my-next .next-item").first.wait_for()
    background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 16, 32)"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "phone-dark.png")
    laptop = login(
        contexts(viewport=LAPTOP, color_scheme="dark"),
        server,
        "rm",
        f"/releases/{team.release.pk}/",
    )
    wait_live(laptop)
    shot(laptop, "desktop-dark.png")


# --- a laptop -----------------------------------------------------------------------------
def test_on_a_laptop_done_lists_fold_the_jump_bar_jumps_and_gate_items_tick_in_the_panel(
    live_team, contexts
):
    team, server = live_team, live_team.server
    release = team.release
    gate = team.gate()
    qa_list = team.item("QA Lead").checklist_id

    def finish_qa_list():
        from checklists import services

        for item in ChecklistItem.objects.filter(checklist_id=qa_list):
            services.item_set_status(item=item, status="done", user=team["qa"])

    in_thread(finish_qa_list)
    rm = login(contexts(viewport=LAPTOP), server, "rm", f"/releases/{release.pk}/")
    wait_live(rm)

    # The current phase is in view on load (below the sticky summary and jump bar).
    current = rm.locator(".phase-group.current")
    assert "Pre-Deployment" in current.locator(".phase-title").inner_text()
    assert rm.evaluate("window.scrollY") > 0
    top = current.bounding_box()["y"]
    assert 0 <= top < 300, top
    # A done checklist is folded, with its count; Enter on its summary opens it.
    done = rm.locator(f"#checklist-{qa_list}")
    assert done.locator("details.fold").get_attribute("open") is None
    assert "Complete · 3 items" in done.locator("details.fold > summary").inner_text()
    assert not done.locator(".item").first.is_visible()
    done.locator("details.fold > summary").focus()
    rm.keyboard.press("Enter")
    expect(done.locator(".item").first).to_be_visible()
    # The jump bar goes to each gate.
    rm.locator(f".jumpbar a[href='#gate-{gate.pk}']").click()
    wait_until(
        rm,
        lambda: 0 <= rm.locator(f"#gate-{gate.pk}").bounding_box()["y"] < 400,
        what="the gate in view",
    )
    # A go/no-go item ticks inside its gate panel; the panel and the row both follow.
    gate_item = team.item("Release Manager", text="Rollback plan ready")
    with status_posted(rm, gate_item.pk):
        rm.locator(f"#gate-{gate.pk}-tick-{gate_item.pk}").check()
    expect(rm.locator(f"#gate-{gate.pk} .blockers")).to_contain_text("1 go/no-go item unchecked")
    rm.locator(f"#item-{gate_item.pk}.status-done").wait_for()
    # The ticked item left the panel; the focus moved to the next box in it.
    other = team.item("Release Manager", text="All pre-deployment checks passed")
    wait_until(
        rm,
        lambda: rm.locator(f"#gate-{gate.pk}-tick-{other.pk}").evaluate(
            "el => el === document.activeElement"
        ),
        what="focus on the next go/no-go box",
    )
    shot(rm, "desktop.png")
    shot(rm.locator(f"#gate-{gate.pk}"), "desktop-gate.png")
    assert not rm.watch.errors, rm.watch.errors


def test_the_release_manager_shows_copies_and_rotates_the_board_link(live_team, contexts):
    team, server = live_team, live_team.server
    release = team.release
    old = release.board_token
    ctx = contexts(permissions=["clipboard-read", "clipboard-write"])
    rm = login(ctx, server, "rm", f"/releases/{release.pk}/")
    dba = login(contexts(), server, "dba", f"/releases/{release.pk}/")
    assert not dba.locator("#share-board").is_visible()
    assert dba.request.get(f"{server.url}/releases/{release.pk}/board/share").status == 403

    rm.locator("#share-board > summary").click()
    field = rm.locator("#board-link-url")
    expect(field).to_have_value(f"{server.url}/board/{old}/")
    rm.locator("#share-body button.copy").click()
    expect(rm.locator("#toast")).to_have_text("Copied to the clipboard")
    assert rm.evaluate("navigator.clipboard.readText()") == f"{server.url}/board/{old}/"

    rm.locator("#share-body details.rotate > summary").click()
    with rm.expect_response(lambda r: r.url.endswith("/board/rotate")):
        rm.locator("#board-link-rotate").click()
    new = in_thread(lambda: Release.objects.get(pk=release.pk).board_token)
    assert new != old
    expect(rm.locator("#board-link-url")).to_have_value(f"{server.url}/board/{new}/")
    assert rm.request.get(f"{server.url}/board/{old}/").status == 404
    assert rm.request.get(f"{server.url}/board/{new}/").status == 200
    shot(rm.locator(".release-head"), "share-board.png")


# --- the board ----------------------------------------------------------------------------
def tiles_that_overflow(page) -> list[str]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#board-summary .tile')).filter(t => {
              const r = t.getBoundingClientRect();
              return t.scrollHeight > t.clientHeight + 1 || t.scrollWidth > t.clientWidth + 1
                  || r.bottom > innerHeight || r.right > innerWidth;
           }).map(t => t.getAttribute('aria-label'))"""
    )


def test_the_board_fits_one_screen_at_both_sizes_and_is_one_column_on_a_phone(live_team, contexts):
    team, server = live_team, live_team.server
    release = team.release

    def a_busy_night():
        from checklists import services

        decision = services.decision_record(
            gate=team.gate(),
            outcome="conditional_go",
            rationale="Canary creds expire at T+2h; rotate before the full rollout",
            mitigations=["Rotate the canary credentials before T+1:15", "Jonas on standby"],
            user=team["vp"],
            confirm_open=True,
        )
        services.decision_vote_record(decision=decision, verdict="confirm", user=team["rm"])
        services.rollback_raise(
            release=release, reason="Error rate 2.3% for 6 minutes on eu-west", user=team["rm"]
        )
        for item in ChecklistItem.objects.filter(checklist__release=release)[:10]:
            services.item_set_status(
                item=item, status="blocked", note="Waiting on the vendor", user=team["rm"]
            )

    in_thread(a_busy_night)
    url = f"{server.url}/board/{release.board_token}/"
    for size, name in ((WALL, "board-1920x1080.png"), (WALL_SMALL, "board-1366x768.png")):
        board = anonymous(contexts(viewport=size), url)
        wait_live(board)
        board.locator(".gate-tile.outcome-conditional_go").wait_for()
        assert board.evaluate("document.documentElement.scrollHeight") <= size["height"]
        assert board.evaluate("document.documentElement.scrollWidth") <= size["width"]
        assert tiles_that_overflow(board) == []
        assert board.locator(".events-tile .event:visible").count() >= 3
        shot(board, name)
        assert not board.watch.errors, board.watch.errors

    phone = anonymous(contexts(**PHONE_CONTEXT), url)
    wait_live(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = [t.bounding_box() for t in phone.locator("#board-summary .tile").all()]
    assert len({round(b["x"]) for b in boxes}) == 1, "one column"
    assert all(b["width"] > 300 for b in boxes)
    assert phone.evaluate(
        """() => Array.from(document.querySelectorAll('#board-summary .tile'))
                 .every(t => t.scrollWidth <= t.clientWidth + 1)"""
    )
    phone.screenshot(path=str(SCREENSHOTS / "board-phone.png"), full_page=True)
