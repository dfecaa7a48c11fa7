"""One class per channel behind one small interface (:class:`base.Transport`)."""

from __future__ import annotations

from notifications.transports.base import Refused, Retry, Transport


def for_channel(channel: str) -> Transport | None:
    from notifications.transports.email import EmailTransport
    from notifications.transports.slack import SlackTransport
    from notifications.transports.statuspage import StatusPageTransport

    found: dict[str, type[Transport]] = {
        "slack": SlackTransport,
        "email": EmailTransport,
        "status_page": StatusPageTransport,
    }
    cls = found.get(channel)
    return cls() if cls else None


__all__ = ["Refused", "Retry", "Transport", "for_channel"]
