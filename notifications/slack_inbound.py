"""Slack in: the ``/warroom`` slash command and the buttons on our messages.

A request is verified first (:func:`verify`): Slack's v0 signature, HMAC-SHA256 with the
app's signing secret over ``v0:{timestamp}:{body}``, and a timestamp inside
``SLACK_REQUEST_MAX_AGE`` (five minutes). A forged, stale or replayed request is refused
and recorded as a :class:`SlackRefusal` — its length and digest, never what it said.

A verified request is written once, keyed by Slack's ``trigger_id`` (:func:`receive`),
and acknowledged at once; the work runs after (:func:`perform`, on a worker) and its
answer goes to the request's ``response_url``. Slack re-sends a request it thinks timed
out with ``X-Slack-Retry-Num``: its ``trigger_id`` is already written, so it does nothing.
The same request sent again without that header is a replay, and refused.

The work goes through the same services, and so the same policy table, as the browser:
the Slack user is the :class:`~warroom.people.models.Person` whose ``slack_handle`` is
their Slack user id or name, acting as that person's login.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from checklists import selectors as checklist_selectors
from checklists import services as checklist_services
from deployments import issues
from deployments import selectors as release_selectors
from notifications import render
from notifications.models import Page, SlackRefusal, SlackRequest
from notifications.queue import hand_over_slack
from warroom import clock, policies
from warroom.audit import release_model
from warroom.errors import FieldError, Refused
from warroom.people.models import Assignment, Person, Role

logger = logging.getLogger(__name__)

USAGE = (
    "Usage: /warroom [release id] status | next | tick <item id or words> | "
    "issue <critical|high|medium|low> <what is wrong>"
)
SIGN_OFF = "warroom.sign_off"
ACK_PAGE = "warroom.ack_page"
#: A link button (Slack opens the URL and still tells us it was pressed: nothing to do).
OPEN_WAR_ROOM = "warroom.open"
#: Sign-off buttons on one channel message, at most (the war room has the rest).
SIGN_OFF_BUTTONS = 4
#: How long Slack accepts answers at a response_url (30 minutes; we stop before).
ANSWER_WITHIN = timedelta(minutes=25)


class Unverified(Exception):
    """Refused before anything was read: the reason says why (recorded)."""


@dataclass
class Received:
    """What the endpoint answers at once: ``status`` and the text Slack shows."""

    status: int
    text: str = ""
    request: SlackRequest | None = None


# --- verification --------------------------------------------------------------------
def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str, signature: str) -> None:
    """Raise :class:`Unverified` unless the request is Slack's and recent."""
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        raise Unverified("no signing secret is configured (SLACK_SIGNING_SECRET)")
    if not timestamp.isdigit():
        raise Unverified("missing or malformed X-Slack-Request-Timestamp")
    age = abs(clock.now().timestamp() - int(timestamp))
    if age > settings.SLACK_REQUEST_MAX_AGE:
        raise Unverified(f"timestamp outside the {settings.SLACK_REQUEST_MAX_AGE} s window")
    if not hmac.compare_digest(signature_of(secret, timestamp, body), signature or ""):
        raise Unverified("bad signature")


def refuse(reason: str, *, path: str, source: str, body: bytes, timestamp: str) -> None:
    """Record a refused request: why, from where, and a digest of the body."""
    SlackRefusal.objects.create(
        at=clock.now(),
        reason=reason[:200],
        path=path[:100],
        source=source[:64],
        body_length=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
        request_ts=timestamp[:32],
    )
    logger.warning("refused a Slack request to %s from %s: %s", path, source, reason)


# --- receiving ---------------------------------------------------------------------
def parse(kind: str, body: bytes) -> dict:
    """The fields of a verified request; FieldError names what is missing."""
    form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    if kind == "command":
        return {
            "trigger_id": form.get("trigger_id", ""),
            "user": form.get("user_id", ""),
            "name": form.get("user_name", ""),
            "text": form.get("text", "").strip(),
            "response_url": form.get("response_url", ""),
        }
    try:
        payload = json.loads(form.get("payload", ""))
    except ValueError:
        raise FieldError("payload", "is not JSON") from None
    actions = payload.get("actions") or [{}]
    user = payload.get("user") or {}
    text = f"{actions[0].get('action_id', '')} {actions[0].get('value', '')}".strip()
    return {
        "trigger_id": payload.get("trigger_id") or actions[0].get("action_ts", ""),
        "user": user.get("id", ""),
        "name": user.get("username") or user.get("name", ""),
        "text": text,
        "response_url": payload.get("response_url", ""),
    }


def receive(
    kind: str, body: bytes, *, timestamp: str, signature: str, retry: str, path: str, source: str
) -> Received:
    """Verify, write the request once and hand it to a worker; what to answer now."""
    if not settings.SLACK_COMMANDS_ENABLED:
        return Received(404, "Slack commands are turned off (SLACK_COMMANDS_ENABLED)")
    try:
        verify(body, timestamp, signature)
        fields = parse(kind, body)
    except (Unverified, FieldError) as e:
        refuse(str(e), path=path, source=source, body=body, timestamp=timestamp)
        return Received(401, "refused")
    if not fields["trigger_id"] or not fields["user"]:
        refuse("no trigger_id or user", path=path, source=source, body=body, timestamp=timestamp)
        return Received(401, "refused")
    try:
        with transaction.atomic():
            row = SlackRequest.objects.create(
                trigger_id=fields["trigger_id"][:200],
                kind=kind,
                slack_user=fields["user"][:100],
                slack_name=fields["name"][:100],
                text=fields["text"][:500],
                response_url=fields["response_url"][:500],
                received_at=clock.now(),
            )
    except IntegrityError:
        if retry:
            return Received(200, "")  # Slack re-sent what we have: nothing to do again
        refuse("replayed request", path=path, source=source, body=body, timestamp=timestamp)
        return Received(401, "refused")
    transaction.on_commit(lambda: hand_over_slack([row.pk]))
    return Received(200, f"`/warroom {row.text}`: on it." if kind == "command" else "", row)


# --- the work ----------------------------------------------------------------------
def perform(pk: int) -> str:
    """Do request ``pk`` once (a second call finds it done) and send the answer."""
    with transaction.atomic():
        claimed = SlackRequest.objects.filter(pk=pk, state=SlackRequest.State.PENDING).update(
            state=SlackRequest.State.DONE, done_at=clock.now()
        )
        if not claimed:
            row = SlackRequest.objects.get(pk=pk)
            if row.answered or not row.done_at:
                return "done already"
            text = row.answer  # done, but the answer did not reach Slack: send it again
        else:
            row = SlackRequest.objects.get(pk=pk)
            try:
                text = _work(row)
            except (FieldError, Refused) as e:  # a refusal is recorded by the service
                text = f"Not done: {e}"
            SlackRequest.objects.filter(pk=pk).update(answer=text)
    answered = answer(row, text)
    if answered:
        SlackRequest.objects.filter(pk=pk).update(answered=True)
    return text


def answer(row: SlackRequest, text: str) -> bool:
    """Post ``text`` to the request's response_url (only its asker sees it)."""
    if not row.response_url or not text:
        return True
    try:
        r = httpx.post(
            row.response_url,
            json={"response_type": "ephemeral", "replace_original": False, "text": text},
            timeout=settings.SLACK_TIMEOUT,
        )
    except httpx.HTTPError as e:
        logger.warning("could not answer Slack request %s: %s", row.pk, e)
        return False
    return r.status_code < 300


def pending(now) -> list[int]:
    """Requests whose hand-over was lost, or whose answer did not arrive, while Slack
    still takes an answer (the tick's sweep hands them over again)."""
    grace = now - timedelta(seconds=settings.COMMS_SWEEP_GRACE_SECONDS)
    rows = SlackRequest.objects.filter(
        Q(state=SlackRequest.State.PENDING) | Q(answered=False),
        received_at__lte=grace,
        received_at__gt=now - ANSWER_WITHIN,
    )
    return list(rows.values_list("pk", flat=True)[:500])


def _work(row: SlackRequest) -> str:
    if row.kind == "action" and row.text.partition(" ")[0] == OPEN_WAR_ROOM:
        return ""  # Slack opened the link; no answer
    user = user_of(row.slack_user, row.slack_name)
    if row.kind == "action":
        action_id, _, value = row.text.partition(" ")
        return _action(user, action_id, value)
    words = row.text.split()
    release_id = None
    if words and words[0].lstrip("#").isdigit():
        release_id = int(words.pop(0).lstrip("#"))
    release = release_of(user, release_id)
    st = policies.standing(user, release)
    verb, rest = (words[0].lower(), " ".join(words[1:])) if words else ("", "")
    if verb == "status":
        policies.require(st, policies.Action.VIEW, release, target={"via": "slack"})
        content = render.status_update(release)
        return f"*{content.subject}*\n{content.text}"
    if verb == "next":
        policies.require(st, policies.Action.VIEW, release, target={"via": "slack"})
        return _next_items(release, st)
    if verb == "tick":
        item = _item(release, rest)
        done = checklist_services.item_set_status(item=item, status="done", user=user, standing=st)
        return f"Ticked #{done.pk} “{done.text[:120]}” on {release.name}."
    if verb == "issue":
        severity, _, text = rest.partition(" ")
        issue = issues.issue_report(
            release=release,
            user=user,
            title=text,
            severity=severity,
            source="slack",
            standing=st,
        )
        return f"Issue {issue.priority} #{issue.pk} reported on {release.name}: {issue.title}"
    return USAGE


def user_of(slack_user: str, slack_name: str):
    """The login of the person whose Slack handle is this Slack user (id or name)."""
    names = {slack_user, f"@{slack_user}"}
    if slack_name:
        names |= {slack_name, f"@{slack_name}"}
    query = Q()
    for n in names:
        query |= Q(slack_handle__iexact=n)
    users = {p.user for p in Person.objects.filter(query).exclude(user=None).select_related("user")}
    if not users:
        raise FieldError(
            "user",
            f"your Slack account ({slack_name or slack_user}) is not linked to a Warroom "
            "person: ask the release manager to set your Slack handle",
        )
    if len(users) > 1:
        raise FieldError("user", "more than one Warroom login has your Slack handle")
    return users.pop()


def release_of(user, release_id: int | None):
    """The release named, or the one open release the user is on (nearest T0 first)."""
    releases = release_model().objects.all()
    if release_id is not None:
        found = releases.filter(pk=release_id).first()
        if found is None:
            raise FieldError("release", f"no release #{release_id}")
        return found
    mine = releases.filter(
        pk__in=Assignment.objects.filter(person__user=user).values("role__release_id")
    )
    now = clock.now()
    open_ones = [r for r in mine if not r.is_closed]
    if not open_ones:
        raise FieldError("release", "you are on no open release: name one, e.g. /warroom 12 status")
    return min(open_ones, key=lambda r: abs((r.go_live_at - now).total_seconds()))


def _next_items(release, st: policies.Standing) -> str:
    person_id = st.person.pk if st.person else None
    rows = release_selectors.next_items_for(release, role_ids=st.role_ids, person_id=person_id)
    if not rows:
        return f"Nothing open for you on {release.name}."
    lines = [f"Your next items on {release.name}:"]
    for r in rows[:10]:
        due = f" (due {clock.format_offset(r.due)})" if r.due is not None else ""
        lines.append(f"• #{r.item.pk} {r.item.text[:120]}{due}")
    return "\n".join(lines)


def _item(release, words: str):
    words = words.strip()
    if not words:
        raise FieldError("item", "name the item: its id (#123) or words from it")
    if words.lstrip("#").isdigit():
        item = checklist_selectors.item_row(release, int(words.lstrip("#")))
        if item is None:
            raise FieldError("item", f"no item {words} on {release.name}")
        return item
    found = checklist_selectors.items_matching(release, words)
    if not found:
        raise FieldError("item", f"no item on {release.name} says “{words}”")
    if len(found) > 1:
        shown = ", ".join(f"#{i.pk} {i.text[:40]}" for i in found[:5])
        raise FieldError("item", f"“{words}” matches more than one item: {shown}")
    return found[0]


def _action(user, action_id: str, value: str) -> str:
    if action_id == SIGN_OFF:
        release_id, gate_id, role_id = (int(x) for x in _ids(value, 3))
        release = release_of(user, release_id)
        gate = next((g for g in checklist_selectors.gates(release) if g.pk == gate_id), None)
        role = Role.objects.filter(pk=role_id, release=release).first()
        if gate is None or role is None:
            raise FieldError("value", "the gate or role of this button no longer exists")
        checklist_services.signoff_record(gate=gate, role=role, verdict="approve", user=user)
        return f"Signed off {gate.name} for {role.name} on {release.name}."
    if action_id == ACK_PAGE:
        (page_id,) = _ids(value, 1)
        page = Page.objects.select_related("step__escalation").filter(pk=page_id).first()
        if page is None or page.step is None:
            raise FieldError("value", "this page no longer exists")
        esc = page.step.escalation
        release = release_model().objects.get(pk=page.release_id)
        if esc.issue_id is None:
            raise FieldError(
                "page", f"{esc.title} is answered in the war room, not acknowledged: "
                f"{settings.WARROOM_BASE_URL}/releases/{release.pk}/"
            )  # fmt: skip
        issue = issues.issue_acknowledge(issue=issues.issue_in(release, esc.issue_id), user=user)
        return f"Acknowledged {issue.priority} {issue.title} on {release.name}."
    raise FieldError("action", f"unknown action “{action_id}”")


def _ids(value: str, n: int) -> list[int]:
    parts = value.split(":")
    if len(parts) != n or not all(p.isdigit() for p in parts):
        raise FieldError("value", "is not a Warroom button's value")
    return [int(p) for p in parts]


# --- buttons our messages carry ------------------------------------------------------
def sign_off_button(release, gate, role) -> dict:
    """A Block Kit button that signs ``gate`` off for ``role`` (as whoever presses it)."""
    return {
        "type": "button",
        "action_id": SIGN_OFF,
        "text": {"type": "plain_text", "text": f"Sign off {gate.name} ({role.name})"[:75]},
        "value": f"{release.pk}:{gate.pk}:{role.pk}",
        "style": "primary",
    }


def open_war_room_button(release) -> dict:
    """A link button to the release's war room."""
    return {
        "type": "button",
        "action_id": OPEN_WAR_ROOM,
        "text": {"type": "plain_text", "text": "Open war room"},
        "url": f"{settings.WARROOM_BASE_URL}/releases/{release.pk}/",
        "value": str(release.pk),
    }


def channel_actions(release) -> list[dict]:
    """The buttons a message to a release's Slack channel carries: "Sign off" for each
    sign-off still awaited (at most :data:`SIGN_OFF_BUTTONS`, gates in order), then
    "Open war room". Pressing one acts through the same services and policy table as
    the browser, as the person whose Slack account pressed it."""
    return channel_actions_of([release])[release.pk]


def channel_actions_of(releases: list) -> dict[int, list[dict]]:
    """:func:`channel_actions` of each of ``releases``, by release id: one query."""
    awaited = checklist_selectors.awaited_sign_offs_of([r.pk for r in releases])
    return {
        r.pk: [
            *(sign_off_button(r, gate, role) for gate, role in awaited[r.pk][:SIGN_OFF_BUTTONS]),
            open_war_room_button(r),
        ]
        for r in releases
    }


def ack_page_button(page) -> dict:
    """A Block Kit button that acknowledges what ``page`` is about."""
    return {
        "type": "button",
        "action_id": ACK_PAGE,
        "text": {"type": "plain_text", "text": "Acknowledge"},
        "value": str(page.pk),
        "style": "danger",
    }
