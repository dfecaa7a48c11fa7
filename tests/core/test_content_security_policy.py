"""The Content-Security-Policy allows nothing inline, and no page or live fragment needs it
to: no inline script or style, no style attribute, no event-handler attribute. (The
browser test in tests/e2e/test_csp_browser.py proves the pages still work under it.)"""

from __future__ import annotations

import re

import pytest

from checklists import services
from deployments.pages import sync_fragments
from tests.factories import team_release
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event-handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"""(?:src|href)=["']data:""", re.I), "a data: URL"),
    (re.compile(r"hx-on", re.I), "an hx-on attribute (htmx evaluates it)"),
]


def inline_parts(html: str) -> list[str]:
    return [what for pattern, what in INLINE if pattern.search(html)]


def directives(header: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_every_page_sends_a_policy_that_allows_nothing_inline(client):
    team = team_release()
    client.force_login(team["rm"])
    resp = client.get(f"/releases/{team.release.pk}/")
    policy = directives(resp["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "unsafe-inline" not in resp["Content-Security-Policy"]
    assert "unsafe-eval" not in resp["Content-Security-Policy"]


def test_no_page_or_live_fragment_has_anything_inline(client):
    team = team_release()
    item = team.item("DBA")
    services.item_set_status(item=item, status="blocked", note="waiting", user=team["dba"])
    release = team.release
    pages = {"/login/": None}
    client.force_login(team["rm"])
    for url in (
        "/",
        f"/releases/{release.pk}/",
        f"/releases/{release.pk}/board/",
        f"/board/{release.board_token}/",
        "/import/",
        f"/releases/{release.pk}/reuse",
        f"/releases/{release.pk}/sync?variant=warroom",
        f"/releases/{release.pk}/sync?variant=board",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        pages[url] = resp.content.decode()
    client.logout()
    pages["/login/"] = client.get("/login/").content.decode()
    client.force_login(team["outsider"])
    pages["403"] = client.get(f"/releases/{release.pk}/").content.decode()
    pages["fragments"] = sync_fragments(release, "warroom") + sync_fragments(release, "board")
    found = {url: inline_parts(html) for url, html in pages.items() if inline_parts(html)}
    assert found == {}


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(client):
    html = client.get("/login/").content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html and '"allowScriptTags": false' in html


def test_progress_is_a_native_progress_element(client):
    team = team_release()
    services.item_set_status(item=team.item("DBA"), status="done", user=team["dba"])
    client.force_login(team["rm"])
    html = client.get(f"/releases/{team.release.pk}/").content.decode()
    assert re.search(r'<progress class="bar" max="100" value="\d+">\d+%</progress>', html)


def test_each_viewer_gets_their_controls_as_a_stylesheet_of_their_own(client):
    team = team_release()
    url = f"/releases/{team.release.pk}/controls.css"
    client.force_login(team["dba"])
    page = client.get(f"/releases/{team.release.pk}/").content.decode()
    assert f'<link rel="stylesheet" href="{url}">' in page
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/css")
    assert resp["Cache-Control"] == "private, no-store"
    dba_role = team.item("DBA").owner_role_id
    assert f".item.owner-{dba_role} .controls" in resp.content.decode()
    assert ".item .controls," not in resp.content.decode()
    client.force_login(team["rm"])
    assert ".item .controls" in client.get(url).content.decode()


def test_an_outsider_gets_no_controls_stylesheet_and_the_attempt_is_audited(client):
    team = team_release()
    client.force_login(team["outsider"])
    resp = client.get(f"/releases/{team.release.pk}/controls.css")
    assert resp.status_code == 403
    assert AuditEvent.objects.filter(release=team.release, kind="access.denied").count() == 1
    client.logout()
    assert client.get(f"/releases/{team.release.pk}/controls.css").status_code == 302
