"""axe-core finds no serious or critical violation on any page people use at 2 a.m.:
login, releases, the war room (laptop and phone, light and dark), the board (logged in
and through its secret link), the import form and its preview. Each page is checked on
the demo go-live, as `make run` shows it, in Debian's Chromium under the real CSP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.axe import audit, blocking, by_impact, save_report, with_axe
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    LAPTOP,
    PHONE_CONTEXT,
    SCREENSHOTS,
    WALL,
    anonymous,
    in_thread,
    login,
    wait_live,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO = Path(__file__).resolve().parents[2] / "deployments/runbooks/examples/demo-go-live.md"


@pytest.fixture
def demo(browser, server_factory):
    """The demo go-live (`make run`'s), served by a real uvicorn process."""
    from django.core.management import call_command

    from deployments.models import Release

    def load():
        call_command("load_demo", quiet=True)
        return Release.objects.get(source_name="demo-go-live.md")

    release = in_thread(load)
    server = server_factory("web", extra_env={"DJANGO_ALLOW_ASYNC_UNSAFE": ""})
    return release, server


def check(page, name: str, report: dict) -> None:
    page.wait_for_load_state("load")
    found = audit(page)
    report[name] = {"by_impact": by_impact(found), "violations": found}
    page.screenshot(path=str(SCREENSHOTS / f"a11y-{name}.png"), full_page=False)


def test_no_serious_or_critical_violation_on_any_page(demo, contexts):
    release, server = demo
    warroom = f"/releases/{release.pk}/"
    report: dict = {}

    # Logged out: the login page, light and dark.
    check(anonymous(with_axe(contexts()), f"{server.url}/login/"), "login", report)
    dark_login = anonymous(with_axe(contexts(color_scheme="dark")), f"{server.url}/login/")
    check(dark_login, "login-dark", report)

    # The release manager on a laptop: releases, the war room (share panel open), import.
    for scheme in ("light", "dark"):
        rm = login(
            with_axe(contexts(viewport=LAPTOP, color_scheme=scheme)),
            server,
            "priya",
            "/",
            password=DEMO_PASSWORD,
        )
        suffix = "" if scheme == "light" else "-dark"
        check(rm, f"releases{suffix}", report)
        rm.goto(server.url + warroom)
        wait_live(rm)
        rm.locator("#my-next .next-items, #my-next .all-done").first.wait_for()
        rm.locator("#share-board > summary").click()
        rm.locator("#board-link-url").wait_for()
        check(rm, f"warroom-laptop{suffix}", report)
        rm.screenshot(path=str(SCREENSHOTS / f"warroom-laptop{suffix}-full.png"), full_page=True)

    # A team member on a phone, light and dark.
    for scheme in ("light", "dark"):
        ctx = with_axe(contexts(**PHONE_CONTEXT, color_scheme=scheme))
        phone = login(ctx, server, "marta", warroom, password=DEMO_PASSWORD)
        wait_live(phone)
        phone.locator("#my-next .next-items, #my-next .all-done").first.wait_for()
        check(phone, "warroom-phone" + ("" if scheme == "light" else "-dark"), report)

    # The board, logged in and through the secret link (a wall screen), and the import.
    pm = login(
        with_axe(contexts(viewport=WALL)),
        server,
        "hannah",
        f"/releases/{release.pk}/board/",
        password=DEMO_PASSWORD,
    )
    wait_live(pm)
    check(pm, "board", report)
    board_link = f"{server.url}/board/{release.board_token}/"
    link = anonymous(with_axe(contexts(viewport=WALL)), board_link)
    wait_live(link)
    check(link, "board-link", report)
    phone_board = anonymous(with_axe(contexts(**PHONE_CONTEXT)), board_link)
    check(phone_board, "board-phone", report)

    importer = login(with_axe(contexts()), server, "priya", "/import/", password=DEMO_PASSWORD)
    check(importer, "import", report)
    importer.fill("textarea[name=markdown]", DEMO.read_text())
    with importer.expect_navigation():
        importer.click("button[value=preview]")
    importer.get_by_role("button", name="Create release").wait_for()
    check(importer, "import-preview", report)

    save_report(SCREENSHOTS / "axe-report.json", report)
    failing = {name: blocking(r["violations"]) for name, r in report.items()}
    assert {n: v for n, v in failing.items() if v} == {}
    assert len(report) == 13
