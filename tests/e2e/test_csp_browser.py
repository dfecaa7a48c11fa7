"""Under the Content-Security-Policy the pages still work, and the browser reports no
violation: war room, board, secret-link board, import (with a preview), admin; a tick
goes live; each viewer sees their own controls; a script opens the event stream with its
token as a subprotocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import (
    LIVE_MS,
    WALL,
    anonymous,
    in_thread,
    login,
    shot,
    wait_live,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO = Path(__file__).resolve().parents[2] / "deployments/runbooks/examples/demo-go-live.md"

# Collects what the browser refused, before any page script runs (init scripts are not
# subject to the page's policy).
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}: ${e.sample}`);
});
"""


def csp_context(contexts, **kw):
    ctx = contexts(**kw)
    ctx.add_init_script(COLLECT_VIOLATIONS)
    return ctx


def violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_the_pages_work_under_the_policy_without_a_single_violation(live_team, contexts):
    team, server = live_team, live_team.server
    release = team.release
    item, qa_item = team.item("DBA"), team.item("QA Lead")
    warroom = f"/releases/{release.pk}/"

    rm = login(csp_context(contexts), server, "rm", warroom)
    dba = login(csp_context(contexts), server, "dba", warroom)
    board_link = f"{server.url}/board/{release.board_token}/"
    board = anonymous(csp_context(contexts, viewport=WALL), board_link)
    pages = [rm, dba, board]
    for page in pages:
        wait_live(page)
        policy = page.context.request.get(page.url).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    # The collector works: on a page of its own, an inline style is refused and reported.
    probe = anonymous(csp_context(contexts), f"{server.url}/login/")
    probe.evaluate("document.head.appendChild(document.createElement('style')).textContent='b{}'")
    wait_until(probe, lambda: violations(probe), timeout=2000, what="a reported violation")
    assert violations(probe)[0].startswith("style-src-elem blocked inline")

    # Controls come from each viewer's own stylesheet: the DBA may tick DBA items only.
    assert dba.locator(f"#item-{item.pk} .controls").is_visible()
    assert not dba.locator(f"#item-{qa_item.pk} .controls").is_visible()
    assert rm.locator(f"#item-{qa_item.pk} .controls").is_visible()
    assert not board.locator(".controls").first.is_visible()

    # Progress is drawn (a native <progress>, no inline width).
    bar = rm.locator("#summary progress.bar")
    before = int(bar.get_attribute("value"))
    assert bar.bounding_box()["width"] > 100

    # A tick goes live to the other war room and the board.
    with dba.expect_response(lambda r: r.url.endswith(f"/items/{item.pk}/status")) as resp:
        dba.locator(f"#tick-{item.pk}").check()
    assert resp.value.ok, resp.value.text()
    rm.locator(f"#item-{item.pk}.status-done").wait_for(timeout=LIVE_MS)
    wait_until(rm, lambda: int(bar.get_attribute("value")) > before, what="the bar grows")
    board.locator("#board-summary .events").get_by_text("Verify backup 1").wait_for(timeout=LIVE_MS)
    shot(rm, "csp-warroom.png")
    shot(board, "csp-board.png")

    # A script that cannot set headers opens the event stream with its token as a
    # subprotocol; the server answers "warroom", or the browser would drop the socket.
    token = in_thread(team.token, "dba")
    protocol = dba.evaluate(
        """([path, token]) => new Promise((resolve, reject) => {
            const url = location.origin.replace("http", "ws") + path;
            const ws = new WebSocket(url, ["warroom", "warroom.token." + token]);
            ws.onopen = () => { resolve(ws.protocol); ws.close(); };
            ws.onerror = () => reject(new Error("socket refused"));
        })""",
        [f"/ws/releases/{release.pk}/events", token],
    )
    assert protocol == "warroom"

    # The import page, and its preview of a real runbook.
    rm.goto(f"{server.url}/import/")
    rm.fill("textarea[name=markdown]", DEMO.read_text())
    with rm.expect_navigation():
        rm.click("button[value=preview]")
    rm.get_by_text("Create release").wait_for()
    shot(rm, "csp-import-preview.png")

    for page in pages:
        assert violations(page) == [], (page.watch.name, violations(page))
        assert not page.watch.errors, (page.watch.name, page.watch.errors)


def test_the_admin_works_under_the_policy(live_team, contexts):
    team, server = live_team, live_team.server
    admin = login(csp_context(contexts), server, "admin", "/admin/")
    for path in (
        "/admin/",
        "/admin/deployments/release/",
        f"/admin/deployments/release/{team.release.pk}/change/",
        "/admin/auth/user/add/",
    ):
        admin.goto(server.url + path)
        admin.wait_for_load_state("load")
        assert violations(admin) == [], (path, violations(admin))
    assert not admin.watch.errors, admin.watch.errors
