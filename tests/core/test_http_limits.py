"""Bodies over the limit and text no database can store: refused with an answer that
names the limit or the field — JSON for the API, text for htmx, a page for a browser —
never Django's bare 400 page and never a 500."""

from __future__ import annotations

import json

import httpx
import pytest
from django.conf import settings

from tests.factories import team_release
from warroom.asgi import application
from warroom.audit import AuditEvent

TEN_MB = 10 * 1024 * 1024


def asgi_client() -> httpx.AsyncClient:
    """Requests through the whole ASGI application, as uvicorn hands them over."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://localhost"
    )


def assert_names_the_limit(message: str, size: str | None = "10.0 MB") -> None:
    limit = settings.REQUEST_BODY_MAX_BYTES
    assert "REQUEST_BODY_MAX_BYTES" in message and "6.0 MB" in message
    assert str(limit) in message
    if size:
        assert size in message


# --- a body over the limit, at the ASGI edge (before Django reads it) -------------------------
@pytest.mark.asyncio
async def test_a_10_mb_body_to_the_api_gets_a_json_413_naming_the_limit():
    async with asgi_client() as http:
        resp = await http.post(
            "/api/releases/1/items/1",
            content=b'{"status": "done", "note": "' + b"x" * TEN_MB + b'"}',
            headers={"Content-Type": "application/json", "Authorization": "Bearer wr_x"},
        )
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert_names_the_limit(body["detail"])
    assert body["errors"] == [{"field": "body", "message": body["detail"]}]
    assert body["limit_bytes"] == settings.REQUEST_BODY_MAX_BYTES


@pytest.mark.asyncio
async def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit():
    sent = 0

    async def chunks():
        nonlocal sent
        for _ in range(40):  # 40 MB if nobody stopped it
            sent += 1024 * 1024
            yield b"x" * (1024 * 1024)

    async with asgi_client() as http:
        resp = await http.post(
            "/api/releases/1/items/1",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
    assert resp.status_code == 413
    assert_names_the_limit(resp.json()["detail"], size=None)
    assert "larger than that" in resp.json()["detail"]


@pytest.mark.asyncio
async def test_an_htmx_post_over_the_limit_gets_text_for_the_toast():
    async with asgi_client() as http:
        resp = await http.post(
            "/releases/1/items/1/status",
            content=b"status=done&note=" + b"x" * TEN_MB,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
            },
        )
    assert resp.status_code == 413
    assert resp.headers["content-type"].startswith("text/plain")
    assert_names_the_limit(resp.text)


@pytest.mark.asyncio
async def test_a_browser_upload_over_the_limit_gets_a_readable_page():
    async with asgi_client() as http:
        resp = await http.post(
            "/import/", files={"runbook": ("huge.md", b"# x\n" * (TEN_MB // 4), "text/markdown")}
        )
    assert resp.status_code == 413
    assert resp.headers["content-type"].startswith("text/html")
    assert "<h1>Request too large</h1>" in resp.text
    assert_names_the_limit(resp.text)
    assert "<script" not in resp.text and "style=" not in resp.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_bodies_within_the_limit_pass_through():
    from channels.db import database_sync_to_async

    team = await database_sync_to_async(team_release)()
    item = await database_sync_to_async(team.item)("DBA")
    token = await database_sync_to_async(team.token)("dba")
    async with asgi_client() as http:
        resp = await http.post(
            f"/api/releases/{team.release.pk}/items/{item.pk}",
            # 1 MB (an unknown field, which the API ignores): within the limit.
            json={"status": "done", "padding": "x" * (1024 * 1024)},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "done"


@pytest.mark.django_db(transaction=True)
def test_a_real_server_answers_a_10_mb_body_with_the_json_413(server_factory):
    server = server_factory()
    resp = httpx.post(
        f"{server.url}/api/releases/1/items/1",
        content=b"x" * TEN_MB,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert resp.status_code == 413
    assert_names_the_limit(resp.json()["detail"])


# --- Django's own refusals (handler400) ------------------------------------------------------
@pytest.mark.django_db
def test_djangos_own_too_big_refusal_is_the_same_json_413(api):
    team = team_release()
    item = team.item("DBA")
    big = json.dumps({"status": "done", "note": "x" * (7 * 1024 * 1024)})
    resp = api(team["dba"]).post(f"/api/releases/{team.release.pk}/items/{item.pk}", big)
    assert resp.status_code == 413
    assert_names_the_limit(resp.json()["detail"], size="7.0 MB")


@pytest.mark.django_db
def test_too_many_form_fields_names_the_setting_instead_of_a_bare_400(client):
    team = team_release()
    client.force_login(team["dba"])
    item = team.item("DBA")
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status",
        {"status": "done", **fields},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in resp.content.decode()
    assert "Bad Request (400)" not in resp.content.decode()


# --- strings no database can store ------------------------------------------------------------
def post_raw(api, user, url, raw: str):
    return api(user).post(url, raw)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("note", "says"),
    [
        ('"\\ud800 unpaired"', "lone UTF-16 surrogate (\\ud800)"),
        ('"before\\u0000after"', "NUL character (\\u0000)"),
    ],
)
def test_a_note_that_cannot_be_stored_is_a_400_naming_the_field_and_nothing_changes(
    api, note, says
):
    team = team_release()
    item = team.item("DBA")
    events_before = AuditEvent.objects.filter(release=team.release).count()
    resp = post_raw(
        api,
        team["dba"],
        f"/api/releases/{team.release.pk}/items/{item.pk}",
        '{"status": "done", "note": ' + note + "}",
    )
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["errors"][0]["field"] == "note"
    assert body["detail"].startswith("note: contains a ") and says in body["detail"]
    item.refresh_from_db()
    assert item.status == "todo" and item.note == ""
    assert AuditEvent.objects.filter(release=team.release).count() == events_before


@pytest.mark.django_db
def test_text_from_any_script_and_astral_emoji_as_escaped_pairs_is_stored_exactly(api):
    team = team_release()
    item = team.item("DBA")
    resp = post_raw(
        api,
        team["dba"],
        f"/api/releases/{team.release.pk}/items/{item.pk}",
        '{"status": "done", "note": "Z\\u00fcrich \\u6771\\u4eac \\ud83d\\ude00"}',
    )
    assert resp.status_code == 200, resp.content
    item.refresh_from_db()
    assert item.note == "Zürich 東京 😀"


@pytest.mark.django_db
def test_other_http_errors_of_the_api_keep_their_own_answer(api):
    team = team_release()
    resp = api(team["dba"]).post(
        f"/api/releases/{team.release.pk}/items/{team.item('DBA').pk}", "{not json"
    )
    assert resp.status_code == 400
    assert resp.json() == {"detail": "Cannot parse request body"}
