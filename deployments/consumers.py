"""Websockets: the live war room / board (htmx fragments) and the JSON event stream.

Consumers only authenticate, check the policy in ``connect``, replay what the
client missed and register with the process's :class:`warroom.live.Hub`; the
hub writes broadcast text straight to the socket (no per-viewer rendering, no
per-message database clean-up).
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from deployments.models import Release
from deployments.pages import sync_fragments
from warroom import events, live, policies, revoke
from warroom.asyncdb import batched, coalesced, db_parallel
from warroom.audit import events_after

CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
REPLAY_CHUNK = 500


def _query(scope) -> dict[str, str]:
    raw = parse_qs(scope.get("query_string", b"").decode())
    return {k: v[-1] for k, v in raw.items()}


def _source(scope) -> str:
    """The client's address (behind a trusted proxy, uvicorn puts the forwarded one here)."""
    client = scope.get("client") or ("", 0)
    return str(client[0] or "")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return max(0, int(value)) if value not in (None, "") else default
    except ValueError:
        return default


async def _admit(
    user, release_id: int | None = None, board_token: str | None = None, source: str = ""
):
    """(release, standing, name) when the viewer may watch; else (release or None, None, why).

    The release row is read once for everybody connecting at the same moment, and their
    standings by one query for all of them (``source``: the client's address, for
    counting anonymous refusals).
    """
    if board_token is not None:
        release = await coalesced(
            ("board", board_token),
            lambda: Release.objects.filter(board_token=board_token).first(),
        )
        return (release, policies.board_standing(), "") if release else (None, None, "")
    release = await coalesced(
        ("release", release_id), lambda: Release.objects.filter(pk=release_id or 0).first()
    )
    if release is None:
        return None, None, ""
    return (release, *await _standing(user, release, source))


async def _standing(user, release, source: str = ""):
    """(standing, name) when the viewer may watch ``release``, else (None, why).

    Everybody connecting to the release at the same moment has their standing read by
    one query (``asyncdb.batched``); only a refusal, which is audited, costs one more.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        st, name = policies.Standing(user=None), ""
    else:
        st, name = await batched(
            ("standing", release.pk), user, lambda users: _viewer_standings(users, release)
        )
        st = replace(st, user=user)
    if not policies.check(st, policies.Action.VIEW):
        return None, await _refuse(st, release, source)
    return st, name


def _viewer_standings(users: list, release) -> dict:
    """user -> (standing, the name shown in the roll call) for each of ``users``."""
    found = {}
    for user, st in policies.standings(users, release).items():
        allowed = policies.check(st, policies.Action.VIEW)
        name = st.person.name if st.person else events.actor_label_for(user) if allowed else ""
        found[user] = (st, name)
    return found


@db_parallel
def _refuse(st, release, source: str) -> str:
    """Audit the refusal (``policies.require``) and say why."""
    try:
        policies.require(
            st, policies.Action.VIEW, release, target={"page": "websocket"}, source=source
        )
    except policies.Refused as exc:
        return exc.reason
    return ""


@db_parallel
def _still_allowed(user_id: int | None, release_id: int) -> bool:
    """Ask the policy again, with the login as it is now (roles, active or not)."""
    from django.contrib.auth import get_user_model

    release = Release.objects.filter(pk=release_id).first()
    user = (
        get_user_model().objects.select_related("person").filter(pk=user_id or 0).first()
        if user_id is not None
        else None
    )
    if release is None or user is None or not user.is_active:
        return False
    return bool(policies.check(policies.standing(user, release), policies.Action.VIEW))


class _LiveBase(AsyncWebsocketConsumer):
    # No channel-layer subscription per socket: the process's hub fans out to every
    # local viewer through one subscription per release (warroom.live.Hub).
    channel_layer_alias = "no per-socket layer"
    variant = "warroom"
    viewer: live.Viewer | None = None
    release_id: int | None = None

    async def dispatch(self, message):
        """As Channels dispatches, minus its per-message hop to Django's shared thread to
        close old connections: every database call here runs through ``db_parallel``,
        which opens and closes its own."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_raw(self, text: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text})

    async def _register(self, release: Release, *, after: int, presence_name: str = ""):
        self.release_id = release.pk
        user = self.scope.get("user")
        user_id = user.pk if getattr(user, "is_authenticated", False) else None
        self.viewer = live.Viewer(
            self.base_send,
            self.variant,
            last_seq=after,
            presence_name=presence_name,
            user_id=user_id,
            credential=self.credential(),
            still_allowed=lambda: _still_allowed(user_id, release.pk),
            close=self.access_ended,
        )
        await live.hub().join(release.pk, self.viewer)
        upto = await self.replay(release, after)
        await self.viewer.go_live(upto)

    async def replay(self, release: Release, after: int) -> int:
        """Send what the client missed; return the last sequence number sent."""
        raise NotImplementedError

    def credential(self) -> str:
        """The digest of what let this socket in (see warroom.revoke)."""
        return self.scope.get("credential", "")

    async def access_ended(self) -> None:
        await self.close(code=revoke.CLOSE_ACCESS_ENDED)

    async def disconnect(self, code):
        if self.viewer is not None and self.release_id is not None:
            await live.hub().leave(self.release_id, self.viewer)

    async def receive(self, text_data=None, bytes_data=None):
        # Viewers only listen; htmx's ws extension may send form data we ignore.
        return


class LiveConsumer(_LiveBase):
    """htmx fragments for the war room (``?variant=warroom``) or board (``?variant=board``)."""

    async def connect(self):
        q = _query(self.scope)
        self.variant = "board" if q.get("variant") == "board" else "warroom"
        release_id = int(self.scope["url_route"]["kwargs"]["release_id"])
        await live.hub().listen_for_access_changes()
        release, st, name = await _admit(
            self.scope.get("user"), release_id=release_id, source=_source(self.scope)
        )
        if release is None or st is None:
            await self.close(code=CLOSE_NOT_FOUND if release is None else CLOSE_FORBIDDEN)
            return
        await self.accept()
        presence = name if self.variant == "warroom" else ""
        await self._register(
            release, after=_int(q.get("after"), release.last_seq), presence_name=presence
        )

    async def replay(self, release, after):
        current, text = await coalesced(
            ("state", release.pk, self.variant), lambda: _state(release, self.variant)
        )
        if after < current:
            await self.send_raw(text)
        if self.variant == "warroom" and self.viewer is not None:
            await self.viewer.deliver(await live.hub().presence_message(release.pk))
        return current


class BoardLinkConsumer(LiveConsumer):
    """The board through the release's secret link: view only, no account."""

    def credential(self) -> str:
        return revoke.credential_digest("board", self.scope["url_route"]["kwargs"]["token"])

    async def connect(self):
        token = self.scope["url_route"]["kwargs"]["token"]
        self.variant = "board"
        await live.hub().listen_for_access_changes()
        release, _st, _ = await _admit(None, board_token=token)
        if release is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.accept()
        await self._register(release, after=_int(_query(self.scope).get("after"), release.last_seq))


class EventStreamConsumer(_LiveBase):
    """JSON events ``{"seq", "kind", "at", "actor", "data"}``; ``?after=SEQ`` replays first."""

    variant = "json"

    async def connect(self):
        q = _query(self.scope)
        release_id = int(self.scope["url_route"]["kwargs"]["release_id"])
        await live.hub().listen_for_access_changes()
        release, st, _ = await _admit(
            self.scope.get("user"), release_id=release_id, source=_source(self.scope)
        )
        if release is None or st is None:
            await self.close(code=CLOSE_NOT_FOUND if release is None else CLOSE_FORBIDDEN)
            return
        await self.accept()
        after = _int(q.get("after"), default=-1)
        await self._register(release, after=max(after, 0) if after >= 0 else release.last_seq)

    async def replay(self, release, after):
        last = after
        while True:
            batch = await coalesced(
                ("events", release.pk, last), lambda a=last: _event_texts(release.pk, a)
            )
            for seq, text in batch:
                await self.send_raw(text)
                last = seq
            if len(batch) < REPLAY_CHUNK:
                return last


def _state(release: Release, variant: str) -> tuple[int, str]:
    """The release's head and its whole state as fragments (read in that order, so the
    fragments are at least as new as the head)."""
    current = Release.objects.values_list("last_seq", flat=True).get(pk=release.pk)
    return current, sync_fragments(release, variant)


def _event_texts(release_id: int, after: int) -> list[tuple[int, str]]:
    """The next chunk of events after ``after`` as (seq, JSON text) for the stream."""
    return [
        (event.seq, json.dumps(event.as_message(), separators=(",", ":")))
        for event in events_after(release_id, after, limit=REPLAY_CHUNK)
    ]
