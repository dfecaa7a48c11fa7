"""Reads for the communications page: the plan, the next update, the delivery log."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from notifications import plan
from notifications.models import CommsRule, Delivery
from notifications.transports import transport_class

LOG_SHOWN = 200


@dataclass
class RuleRow:
    rule: CommsRule
    trigger: str


def trigger_text(rule: CommsRule) -> str:
    from warroom.clock import format_offset

    kinds = plan.triggers(rule)
    if kinds:
        return "on " + ", ".join(kinds)
    if rule.interval is not None:
        return f"every {int(rule.interval.total_seconds() // 60)} min in the window"
    return f"at {format_offset(rule.at_offset)}"


def rules(release) -> list[RuleRow]:
    found = CommsRule.objects.filter(release=release).select_related("template")
    return [RuleRow(r, trigger_text(r)) for r in found]


def status_rule(release) -> CommsRule | None:
    """The rule that sends the running status update (the first repeating one)."""
    return CommsRule.objects.filter(release=release, interval__isnull=False).first()


def log(release) -> list[Delivery]:
    return list(
        Delivery.objects.filter(message__release=release)
        .select_related("message")
        .order_by("-message__created_at", "-id")[:LOG_SHOWN]
    )


def last_sent(release):
    """When the release's last update reached anyone (the board's "last update sent")."""
    return (
        Delivery.objects.filter(message__release=release, state=Delivery.State.SENT)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )


def integrations() -> list[tuple[str, str]]:
    """Each channel and whether it is on (or why it is off)."""
    out = []
    for channel in ("slack", "email", "status_page", "webhook"):
        cls = transport_class(channel)
        off = cls.disabled() if cls else "no transport"
        out.append((channel, off or "on"))
    if getattr(settings, "EMAIL_BACKEND", "").endswith("console.EmailBackend"):
        out[1] = ("email", "on (written to the console: EMAIL_BACKEND)")
    if not settings.SLACK_COMMANDS_ENABLED:
        commands = "turned off (SLACK_COMMANDS_ENABLED)"
    elif not settings.SLACK_SIGNING_SECRET:
        commands = "no signing secret: every request is refused (SLACK_SIGNING_SECRET)"
    else:
        commands = "on"
    out.append(("slack commands", commands))
    return out
