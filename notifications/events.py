"""The event kinds the communications app owns: what was said, skipped or lost."""

from __future__ import annotations

from collections.abc import Mapping

from warroom.events import declare

OWNER = "notifications"


def _skipped(d: Mapping, who: str) -> str:
    return f"{who} skipped the {d.get('due', '')} “{d.get('rule', '')}”"


def _sent_now(d: Mapping, who: str) -> str:
    return f"{who} sent “{d.get('rule', '')}” now" + (" (edited)" if d.get("edited") else "")


def _failed(d: Mapping, who: str) -> str:
    return (
        f"“{d.get('subject', '')}” could not be delivered to {d.get('channel', '')} "
        f"{d.get('target', '')} after {d.get('attempts', 0)} attempts: {d.get('error', '')}"
    )


def _edited(d: Mapping, who: str) -> str:
    return f"{who} edited the next “{d.get('rule', '')}”"


UPDATE_SKIPPED = declare("comms.skipped", describe=_skipped, regions={"summary"}, owner=OWNER)
UPDATE_SENT_NOW = declare("comms.sent_now", describe=_sent_now, regions={"summary"}, owner=OWNER)
NEXT_EDITED = declare("comms.next_edited", describe=_edited, on_board=False, owner=OWNER)
DELIVERY_FAILED = declare(
    "comms.delivery_failed", describe=_failed, regions={"summary"}, on_board=False, owner=OWNER
)


def _rule_edited(d: Mapping, who: str) -> str:
    return f"{who} changed the comms rule “{d.get('rule', '')}” ({', '.join(d.get('fields', []))})"


def _subscribed(d: Mapping, who: str) -> str:
    verb = "subscribed to" if d.get("active") else "unsubscribed from"
    return f"{d.get('email', 'someone')} {verb} this release's emails"


RULE_EDITED = declare("comms.rule_edited", describe=_rule_edited, on_board=False, owner=OWNER)
SUBSCRIPTION = declare("comms.subscription", describe=_subscribed, on_board=False, owner=OWNER)


def _update_sent(d: Mapping, who: str) -> str:
    return f"“{d.get('subject', '')}” sent ({d.get('channel', '')} first)"


# The board and the war room show "last update sent" from this kind's latest event.
UPDATE_SENT = declare("comms.update_sent", describe=_update_sent, regions={"summary"}, owner=OWNER)


def _component_edited(d: Mapping, who: str) -> str:
    change = d.get("change", "changed")
    what = f"{who} {change} the status page component “{d.get('component', '')}”"
    if change == "removed":
        return what
    detail = f"{d.get('state', '')}" + (", affected by this release" if d.get("affected") else "")
    fields = d.get("fields") or []
    return f"{what} ({', '.join(fields)}: {detail})" if fields else f"{what} ({detail})"


COMPONENT_EDITED = declare(
    "status.component_edited", describe=_component_edited, on_board=False, owner=OWNER
)
