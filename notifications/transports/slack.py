"""Slack through slack-sdk: Block Kit messages, a release's messages threaded under its
first one, the running status kept current with ``chat.update``.

A page is a direct message to one person (:meth:`SlackTransport.direct`).

Exactly once at the far end: ``chat.postMessage`` has no idempotency key, and a post
whose answer was lost (a read timeout, a 5xx after acceptance, a worker killed) may
have gone through. Every post carries the delivery's key in its message metadata;
before posting again (any attempt after the first) the transport looks for that key in
the channel's history or the thread's replies and, if found, takes that ``ts``. The
SDK's own retry handler is used only for rate limits (a 429 was not accepted, so its
retry is safe); 5xx, timeouts and dropped connections come back to the delivery's own
policy, which checks before it retries.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
from typing import ClassVar
from urllib.error import URLError

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from notifications import slack_inbound
from notifications.models import Delivery, SlackThread
from notifications.render import Content
from notifications.transports.base import SLACK_DM as DM
from notifications.transports.base import Refused, Retry, Transport
from warroom import sqlbatch
from warroom.audit import release_model

METADATA_TYPE = "warroom_delivery"
#: Slack errors that trying again later can cure; anything else is refused.
RETRYABLE = {"ratelimited", "message_limit_exceeded", "internal_error", "fatal_error",
             "service_unavailable", "request_timeout"}  # fmt: skip
RAG_EMOJI = {"green": ":large_green_circle:", "yellow": ":large_yellow_circle:",
             "red": ":red_circle:"}  # fmt: skip


def blocks(content: Content, actions: list[dict] | None = None) -> list[dict]:
    """Block Kit: a header, then one section per paragraph (Slack's 3000-char cap), then
    the message's buttons, if any, in one actions block."""
    out: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": content.subject[:150]}}
    ]
    for para in content.paragraphs[:40]:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": para[:3000]}})
    if actions:
        out.append({"type": "actions", "block_id": "warroom_actions", "elements": actions[:25]})
    return out


@functools.lru_cache(maxsize=4)
def _client(token: str, base_url: str, timeout: int) -> WebClient:
    """One client per process and configuration (it keeps no per-request state)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )


def threads_of(deliveries: list) -> dict[tuple[int, str], SlackThread]:
    """The thread of each (release, channel) the deliveries post to, by that pair, in one
    round trip on PostgreSQL: one statement inserts every pair's row, skipping those
    there are already (a concurrent worker's too) — each row's insert is the
    compare-and-set, its first delivery here its owner unless another's insert won —
    and the next reads them."""
    first: dict[tuple[int, str], Delivery] = {}
    for d in sorted(deliveries, key=lambda d: d.pk):
        first.setdefault((d.message.release_id, d.target), d)
    if not first:
        return {}
    # Inserted in the pairs' order, so two workers inserting some of the same never wait
    # for each other in a cycle.
    new = [SlackThread(release_id=r, channel=c, owner=first[r, c]) for r, c in sorted(first)]
    # Every thread of the releases in those channels, the pairs picked out here: a short
    # IN list is quicker to build than an OR of a condition per pair.
    releases, channels = {r for r, _ in first}, {c for _, c in first}
    read = sqlbatch.Statement(
        _threads_sql(connection.vendor)
        .replace("{releases}", ", ".join(["%s"] * len(releases)))
        .replace("{channels}", ", ".join(["%s"] * len(channels))),
        [*releases, *channels],
    )
    rows = sqlbatch.run([sqlbatch.insert(SlackThread, new, skip_conflicts=True), read])[1].rows
    threads = (sqlbatch.instance(SlackThread, row) for row in rows)
    return {(t.release_id, t.channel): t for t in threads if (t.release_id, t.channel) in first}


@functools.cache
def _threads_sql(vendor: str) -> str:
    q = sqlbatch.q
    return (
        f"SELECT {sqlbatch.columns(SlackThread)} FROM {q(SlackThread._meta.db_table)}"
        f" WHERE {q('release_id')} IN ({{releases}}) AND {q('channel')} IN ({{channels}})"
    )


class SlackTransport(Transport):
    channel: ClassVar[str] = "slack"
    setting: ClassVar[str] = "SLACK_ENABLED"

    def __init__(self) -> None:
        self.client = _client(
            settings.SLACK_TOKEN, settings.SLACK_BASE_URL, int(max(1, settings.SLACK_TIMEOUT))
        )
        self.actions: dict[int, list[dict]] = {}  # by release id, read for a batch
        self.threads: dict[tuple[int, str], SlackThread] = {}  # by (release, channel)
        self.posted: dict[int, str] = {}  # thread id -> its root's ts, written by settle()

    def prepare(self, deliveries: list) -> None:
        """The buttons of every release the batch posts to a channel, in one query, and
        their threads (see :func:`threads_of`)."""
        posts = [d for d in deliveries if d.channel != DM]
        releases = {d.release.pk: d.release for d in posts if getattr(d, "release", None)}
        self.actions = slack_inbound.channel_actions_of(list(releases.values()))
        self.threads = threads_of(posts)

    def settle(self) -> None:
        """The ``ts`` of every root the batch posted, in one UPDATE."""
        if not self.posted:
            return
        posted, self.posted = self.posted, {}
        sqlbatch.run([sqlbatch.update_each(SlackThread, {"ts": posted})])

    def send(self, delivery, content: Content) -> str:
        if delivery.channel == DM:
            return self.direct(delivery, content)
        release_id = delivery.message.release_id
        thread = self._thread_of(release_id, delivery)
        root = thread.owner_id == delivery.pk and not thread.ts
        if not root and not thread.ts:
            raise Retry("waiting for the release's first Slack message", after=1.0, counts=False)
        thread_ts = None if root else thread.ts
        release = getattr(delivery, "release", None) or release_model().objects.get(pk=release_id)
        actions = self.actions.get(release.pk) or slack_inbound.channel_actions(release)
        try:
            ts = self._find(delivery, thread_ts) if delivery.attempts > 1 else None
            if ts is None:
                ts = self._post(delivery, content, thread_ts, actions=actions)
            if root:
                self._posted_root(thread, ts)
            elif content.status_update:
                self._update_root(delivery.target, thread.ts, content, actions)
        except SlackApiError as e:
            raise self._error(e) from e
        except (URLError, OSError, http.client.HTTPException, SlackRequestError) as e:
            raise Retry(f"Slack did not answer: {type(e).__name__}: {e}") from e
        return ts

    def direct(self, delivery, content: Content) -> str:
        """A direct message to one person (a page): ``conversations.open`` with their user
        (the target is a user ID, or an email looked up with ``users.lookupByEmail``), then
        ``chat.postMessage`` to that conversation. Exactly once like a channel post: an
        attempt after the first looks for the delivery's key in the conversation first."""
        try:
            user = delivery.target
            if "@" in user:
                user = self.client.users_lookupByEmail(email=user)["user"]["id"]
            channel = str(self.client.conversations_open(users=user)["channel"]["id"])
            ts = self._find(delivery, None, channel) if delivery.attempts > 1 else None
            return ts or self._post(delivery, content, None, channel)
        except SlackApiError as e:
            raise self._error(e) from e
        except (URLError, OSError, http.client.HTTPException, SlackRequestError) as e:
            raise Retry(f"Slack did not answer: {type(e).__name__}: {e}") from e

    def _thread_of(self, release_id: int, delivery) -> SlackThread:
        """The release's thread in the delivery's channel (read by :meth:`prepare`, else
        alone); if the delivery that was to post its root failed for good, this one
        takes over (compare-and-set on the owner)."""
        thread = self.threads.get((release_id, delivery.target))
        if thread is None:
            thread = self._thread(release_id, delivery)
        if not thread.ts and thread.owner_id != delivery.pk and self._owner_gone(thread):
            SlackThread.objects.filter(pk=thread.pk, owner=thread.owner_id, ts="").update(
                owner=delivery
            )
            thread.refresh_from_db()
        return thread

    def _posted_root(self, thread: SlackThread, ts: str) -> None:
        """The root is posted: the batch's next posts thread under it; its ``ts`` is
        written by :meth:`settle` for a thread :meth:`prepare` read, else now."""
        thread.ts = ts
        if any(t is thread for t in self.threads.values()):
            self.posted[thread.pk] = ts
        else:
            SlackThread.objects.filter(pk=thread.pk).update(ts=ts)

    def _thread(self, release_id: int, delivery) -> SlackThread:
        """The release's thread in this channel; the delivery that inserts it first owns
        posting its root (the insert is the compare-and-set)."""
        try:
            with transaction.atomic():
                return SlackThread.objects.get_or_create(
                    release_id=release_id, channel=delivery.target, defaults={"owner": delivery}
                )[0]
        except IntegrityError:
            return SlackThread.objects.get(release_id=release_id, channel=delivery.target)

    @staticmethod
    def _owner_gone(thread: SlackThread) -> bool:
        """The delivery that was to post the root failed for good: another takes over."""
        if thread.owner_id is None:
            return True
        return not Delivery.objects.filter(pk=thread.owner_id).exclude(state="failed").exists()

    def _post(
        self,
        delivery,
        content: Content,
        thread_ts: str | None,
        channel: str = "",
        *,
        actions: list[dict] | None = None,
    ) -> str:
        response = self.client.chat_postMessage(
            channel=channel or delivery.target,
            text=f"{content.subject}\n\n{content.text}"[:39000],
            blocks=blocks(content, actions),
            thread_ts=thread_ts,
            metadata={"event_type": METADATA_TYPE, "event_payload": {"key": delivery.key}},
        )
        return str(response["ts"])

    def _find(self, delivery, thread_ts: str | None, channel: str = "") -> str | None:
        """The ``ts`` of an earlier attempt's post that Slack did accept, if any."""
        channel = channel or delivery.target
        if thread_ts:
            response = self.client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=1000
            )
        else:
            response = self.client.conversations_history(
                channel=channel, include_all_metadata=True, limit=200
            )
        for m in response.get("messages") or []:
            meta = m.get("metadata") or {}
            if (meta.get("event_payload") or {}).get("key") == delivery.key:
                return str(m["ts"])
        return None

    def _update_root(
        self, channel: str, ts: str, content: Content, actions: list[dict] | None = None
    ) -> None:
        """The root message shows the running status (best effort: the post is made)."""
        # The next status update brings the root up to date if this one fails.
        with contextlib.suppress(SlackApiError, URLError, OSError, http.client.HTTPException):
            self.client.chat_update(
                channel=channel,
                ts=ts,
                text=f"{RAG_EMOJI.get(content.rag, '')} {content.subject}".strip(),
                blocks=blocks(content, actions),
            )

    @staticmethod
    def _error(e: SlackApiError) -> Exception:
        status = getattr(e.response, "status_code", 0)
        code = (e.response.get("error") if e.response is not None else "") or ""
        if status == 429 or code in RETRYABLE or status >= 500:
            after = (e.response.headers or {}).get("Retry-After") or (e.response.headers or {}).get(
                "retry-after"
            )
            return Retry(f"Slack answered {status} {code}".strip(), after=_seconds(after))
        return Refused(f"Slack refused: {code or status}")


def _seconds(value) -> float | None:
    try:
        return float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError, IndexError):
        return None
