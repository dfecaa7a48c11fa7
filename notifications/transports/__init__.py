"""One class per channel behind one small interface (:class:`base.Transport`)."""

from __future__ import annotations

import functools

from notifications.transports.base import SLACK_DM, Refused, Retry, Transport


def for_channel(channel: str) -> Transport | None:
    cls = transport_class(channel)
    return cls() if cls else None


def transport_class(channel: str) -> type[Transport] | None:
    return _transports().get(channel)


@functools.cache
def _transports() -> dict[str, type[Transport]]:
    """Each channel's transport class, imported on first use (once per process: the tick
    asks for every delivery it writes)."""
    from notifications.transports.email import EmailTransport
    from notifications.transports.slack import SlackTransport
    from notifications.transports.statuspage import StatusPageTransport
    from notifications.transports.webhook import WebhookTransport

    return {
        "slack": SlackTransport,
        SLACK_DM: SlackTransport,  # a page: a direct message to one person
        "email": EmailTransport,
        "status_page": StatusPageTransport,
        "webhook": WebhookTransport,
    }


__all__ = ["Refused", "Retry", "Transport", "for_channel", "transport_class"]
