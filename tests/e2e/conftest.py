"""Browser fixtures: Debian's Chromium driven by Playwright against real uvicorn servers.

The browser is never downloaded: the tests use ``/usr/bin/chromium`` (``make browser``
installs it). Without it the tests are skipped with a reason, except under ``CI=true``,
where a missing browser is a failure (a green CI run must have driven a real browser).
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path(os.environ.get("WARROOM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
PASSWORD = "correct horse battery staple"
# How long a browser test waits for a live update to show without a reload. Generous on
# purpose: a test proves the update arrives; how fast is bench.fanout's job (on a busy
# 2-core machine a page can take seconds to apply a swap).
LIVE_MS = 10_000
# A wall screen, a small wall screen, a laptop and a phone.
LAPTOP = {"width": 1440, "height": 1000}
WALL = {"width": 1920, "height": 1080}
WALL_SMALL = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PHONE_CONTEXT = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DEMO_PASSWORD = "golive-demo"  # load_demo's


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    why = f"{CHROMIUM} is missing (install Debian's chromium: `make browser`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {why}; browser tests may not be skipped in CI", pytrace=False)
    pytest.skip(f"browser tests skipped: {why}")


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """One Chromium for all browser tests; each test opens its own contexts (one per person).

    Scoped to this package rather than the session: Playwright's sync API keeps an event
    loop running in the main thread while it is open, which Django takes for an async
    context; closing it after the last browser test keeps it out of every other test.
    While it runs, ORM calls in this process (test setup, assertions, the transactional
    flush) are allowed explicitly; the server processes keep the guard (see ``live_team``).
    """
    _require_browser()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield b
            b.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def live_team(browser, server_factory):
    """A team release (T0 in an hour), passwords for everyone, one real uvicorn server."""
    from tests.factories import team_release

    def setup():
        team = team_release()
        for user in team.users.values():
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        return team

    team = in_thread(setup)
    # An empty value switches Django's async-safety guard back on in the server.
    server = server_factory("web", extra_env={"DJANGO_ALLOW_ASYNC_UNSAFE": ""})
    team.server = server
    return team


@pytest.fixture
def contexts(browser):
    """``contexts(viewport=...)`` -> a fresh browser context; all closed after the test."""
    opened = []

    def new(**kw):
        kw.setdefault("viewport", LAPTOP)
        ctx = browser.new_context(**kw)
        ctx.set_default_timeout(10_000)
        opened.append(ctx)
        return ctx

    yield new
    for ctx in opened:
        ctx.close()


def in_thread(fn, *args, **kw):
    """Run ``fn`` in a thread of its own: code that broadcasts events (``async_to_sync``)
    cannot run in the thread where Playwright's loop is running."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(fn, *args, **kw).result()
        finally:
            pool.submit(connections.close_all).result()


class Watch:
    """Collects what a page does that a test should fail on: dialogs, script errors."""

    def __init__(self, page, name):
        self.name = name
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.prompt_answer: str | None = None
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)
        page.on("dialog", self._dialog)
        page.on("response", self._response)

    def _response(self, response):
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status} {response.request.method} {response.url}")

    def _console(self, msg):
        # Failed loads are reported (with their URL) by _response.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(msg.text)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if dialog.type == "prompt" and self.prompt_answer is not None:
            dialog.accept(self.prompt_answer)
        elif dialog.type in ("prompt", "confirm"):
            dialog.accept()
        else:
            dialog.dismiss()


def login(ctx, server, username: str, next_path: str = "/", password: str = PASSWORD):
    """Log ``username`` in through the login form; return the page, at ``next_path``."""
    page = ctx.new_page()
    page.watch = Watch(page, username)
    page.goto(f"{server.url}/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login/" not in page.url, f"{username} could not log in"
    page.wait_for_load_state("domcontentloaded")
    return page


def anonymous(ctx, url: str):
    page = ctx.new_page()
    page.watch = Watch(page, "anonymous")
    page.goto(url)
    return page


def wait_live(page, timeout: int = 10_000) -> None:
    """The page's websocket is open (htmx's ws extension sets ``body.live``)."""
    page.wait_for_selector("body.live", timeout=timeout)


def wait_until(page, condition, *, timeout: int = 1000, what: str = "") -> None:
    """Poll ``condition()`` (Python reading the page through locators) until it holds.

    Not ``page.wait_for_function``: it compiles its string in the page, which the
    Content-Security-Policy forbids (no 'unsafe-eval') — it fails whenever it must poll.
    """
    deadline = time.monotonic() + timeout / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} ms: {what}")
        page.wait_for_timeout(20)


def shot(target, name: str) -> Path:
    """Screenshot a page or locator. A live redraw swaps a region's elements for fresh
    copies by design; a locator whose element was swapped mid-shot is resolved again."""
    from playwright.sync_api import Error as PlaywrightError

    path = SCREENSHOTS / name
    for attempt in range(3):
        try:
            target.screenshot(path=str(path))
            return path
        except PlaywrightError as e:
            if "not attached to the DOM" not in str(e) or attempt == 2:
                raise
    return path


def percent(text: str) -> int:
    m = re.search(r"(\d+)%", text)
    assert m, f"no percentage in {text!r}"
    return int(m.group(1))
