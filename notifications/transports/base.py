"""The interface every channel's transport implements.

``send`` delivers one delivery and returns what identifies it at the far end (Slack's
``ts``, the email's Message-ID, the status page's incident). It raises :class:`Retry`
when trying again later may work (rate limits, 5xx, timeouts, a dropped connection) and
:class:`Refused` when it will not (a bad token, an unknown channel). A transport whose
earlier attempt may have been accepted (``delivery.attempts > 1``) checks the far end
before sending again, where the protocol lets it, so a message arrives once.

A worker sends a batch of one channel's deliveries through one transport object, inside
``with transport.batch():`` — where a transport opens what it reuses (one SMTP
connection for all the batch's emails) — after ``prepare(deliveries)``, where it reads
what the sends need in one go (the Slack buttons and threads of all the batch's
releases), and ``settle()`` after, where it writes in one go what the sends found out
(the threads' first messages). ``prepare`` and ``settle`` run on the worker's own
thread, the sends maybe in another: a send in the common case touches no database.
``send`` alone still works outside them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import ClassVar

from notifications.render import Content

#: The channel kind of a Slack direct message to one person (a page).
SLACK_DM = "slack_dm"


class Retry(Exception):
    """Try again later. ``counts`` False: nothing was tried (waiting for another delivery,
    say), so the attempt does not count towards the limit."""

    def __init__(self, reason: str, *, after: float | None = None, counts: bool = True):
        super().__init__(reason)
        self.after = after
        self.counts = counts


class Refused(Exception):
    pass


class Transport:
    channel: ClassVar[str] = ""
    setting: ClassVar[str] = ""  # the on/off setting's name
    #: How many of these a worker's batch sends through side by side, each with its own
    #: connection. One where the order of a release's messages matters (a Slack thread
    #: under its first message, a status-page incident before its updates).
    lanes: ClassVar[int] = 1

    @classmethod
    def disabled(cls) -> str:
        """Why this channel is off ("" when on), in words for the war room."""
        from django.conf import settings

        if not getattr(settings, cls.setting, False):
            return f"{cls.channel} is turned off ({cls.setting})"
        return ""

    def prepare(self, deliveries: list) -> None:
        """Before a batch's sends: read at once what each send would read alone."""

    def settle(self) -> None:
        """After a batch's sends: write at once what each send would have written alone.
        If this fails, the batch's sends are tried again (each checks the far end first)."""

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Around several ``send`` calls: open what they share, close it after."""
        yield

    def send(self, delivery, content: Content) -> str:
        raise NotImplementedError
