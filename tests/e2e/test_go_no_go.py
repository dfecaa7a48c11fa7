"""A full go/no-go in the browser: sign-offs, the go/no-go checklist, the VP's GO, live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from checklists.models import ChecklistItem
from tests.e2e.conftest import LIVE_MS, WALL, login, shot, wait_live
from warroom.people.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIGNERS = {"dba": "DBA", "qa": "QA Lead", "sec": "Security Engineer"}


def test_three_sign_offs_and_two_ticks_unlock_go_and_the_vp_s_go_reaches_everyone(
    live_team, contexts
):
    team, server = live_team, live_team.server
    release = team.release
    gate = team.gate("go_no_go")
    gate_sel = f"#gate-{gate.pk}"
    roles = {u: Role.objects.get(release=release, name=name) for u, name in SIGNERS.items()}
    gate_items = list(
        ChecklistItem.objects.filter(
            checklist__release=release, owner_role__name="Release Manager"
        ).order_by("id")
    )
    assert [i.text for i in gate_items] == [
        "All pre-deployment checks passed",
        "Rollback plan ready",
    ]
    warroom = f"/releases/{release.pk}/"

    vp = login(contexts(), server, "vp", warroom)
    rm = login(contexts(), server, "rm", warroom)
    signers = {u: login(contexts(), server, u, warroom) for u in SIGNERS}
    board = login(contexts(viewport=WALL), server, "pm", f"/releases/{release.pk}/board/")
    pages = [vp, rm, *signers.values(), board]
    for page in pages:
        wait_live(page)

    # Given nothing is signed or ticked, GO is disabled and the VP is told why.
    go = vp.locator(f"{gate_sel} button.go")
    assert go.is_visible() and go.is_disabled()
    blockers = vp.locator(f"{gate_sel} .blockers li").all_inner_texts()
    assert "2 go/no-go items unchecked" in blockers
    assert any("DBA, QA Lead, Security Engineer" in b for b in blockers), blockers
    assert "sign-off missing" in go.get_attribute("title")
    # Only the decision authority sees the decision form; each signer only their own row.
    assert vp.locator(f"{gate_sel} form.decide").is_visible()
    assert rm.locator(f"{gate_sel} form.decide").is_visible()
    for u, page in signers.items():
        assert not page.locator(f"{gate_sel} form.decide").is_visible()
        for other, role in roles.items():
            controls = page.locator(f"{gate_sel} .signoff-role-{role.pk} button.approve")
            assert controls.is_visible() == (other == u), (u, other)
    assert board.locator("button, form").count() == 0
    board_tile = board.locator("#board-summary .gate-tile", has_text="Go/No-Go")
    assert "Awaiting decision" in board_tile.inner_text()
    shot(vp.locator(gate_sel), "gate-before.png")

    # When the DBA, QA and Security approve (each with a comment in the inline field)...
    for n, (u, page) in enumerate(signers.items(), start=1):
        page.fill(f"#gate-{gate.pk}-comment-{roles[u].pk}", f"{SIGNERS[u]} checked at T-45")
        with page.expect_response(lambda r: r.url.endswith(f"/gates/{gate.pk}/signoff")) as r:
            page.locator(f"{gate_sel} .signoff-role-{roles[u].pk} button.approve").click()
        assert r.value.ok, r.value.text()
        assert page.watch.dialogs == []
        # ...each approval reaches the VP's screen within a second.
        vp.locator(f"{gate_sel} tr.verdict-approve").nth(n - 1).wait_for(timeout=LIVE_MS)
    expect(board.locator("#board-summary")).to_contain_text("3/3 sign-offs", timeout=LIVE_MS)
    # Sign-offs alone do not unlock GO: the go/no-go items are still open.
    assert go.is_disabled()
    assert vp.locator(f"{gate_sel} .blockers li").all_inner_texts() == [
        "2 go/no-go items unchecked"
    ]

    # And when the RM ticks both go/no-go items...
    for item in gate_items:
        with rm.expect_response(lambda r, i=item: r.url.endswith(f"/items/{i.pk}/status")) as r:
            rm.locator(f"#tick-{item.pk}").check()
        assert r.value.ok, r.value.text()

    # ...GO is enabled on the VP's screen, live, and nothing stands in the way.
    expect(vp.locator(f"{gate_sel} button.go")).to_be_enabled(timeout=LIVE_MS)
    assert vp.locator(f"{gate_sel} .blockers").inner_text().strip() == (
        "Nothing stands between the team and GO."
    )

    # Then the VP records GO with a rationale: "Release Manager + VP Engineering" decide,
    # so it is a proposal until the RM confirms it.
    vp.fill(f"{gate_sel} textarea[name=rationale]", "All sign-offs in, backups verified.")
    with vp.expect_response(lambda r: r.url.endswith(f"/gates/{gate.pk}/decide")) as r:
        go.click()
    assert r.value.ok, r.value.text()
    proposal = rm.locator(f"{gate_sel} .proposal-proposed")
    proposal.wait_for(timeout=LIVE_MS)
    assert "awaiting Release Manager" in proposal.inner_text()
    expect(board_tile).to_contain_text("GO proposed", timeout=LIVE_MS)
    assert rm.locator(f"{gate_sel} .outcome-badge").count() == 0
    # The VP, having proposed, sees no second answer to give; the RM sees Confirm.
    assert not vp.locator(f"{gate_sel} form.vote").is_visible()
    with rm.expect_response(lambda r: "/vote" in r.url) as r:
        rm.locator(f"{gate_sel} form.vote button.go").click()
    assert r.value.ok, r.value.text()
    vp.locator(f"{gate_sel}.outcome-go .outcome-badge").wait_for(timeout=LIVE_MS)

    # The GO reaches the RM and the stakeholder board without a reload.
    rm.locator(f"{gate_sel}.outcome-go .outcome-badge").wait_for(timeout=LIVE_MS)
    decision = rm.locator(f"{gate_sel} .decision").inner_text()
    assert "GO by Victor President" in decision
    assert "All sign-offs in, backups verified." in decision
    board.locator("#board-summary .gate-tile.outcome-go", has_text="Go/No-Go").wait_for(
        timeout=LIVE_MS
    )
    assert "GO" in board_tile.locator(".value").inner_text()
    expect(rm.locator("#event-list .event").first).to_contain_text("decided GO", timeout=LIVE_MS)
    for page in (vp, rm, board):
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1

    shot(vp.locator(gate_sel), "gate-after.png")
    shot(board, "board-go.png")
    for page in pages:
        assert not page.watch.errors, (page.watch.name, page.watch.errors)
        assert page.watch.dialogs == []
