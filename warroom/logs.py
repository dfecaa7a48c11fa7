"""Secrets that clients send never reach the server's log.

Warroom takes API tokens only in the ``Authorization`` header or the websocket
subprotocol (warroom/auth.py), but an old client may still send ``?token=…``, and
the board's secret link is a path (``/board/<token>/``). uvicorn writes the full path
of every websocket handshake to ``uvicorn.error`` (whatever ``--no-access-log`` says)
and of every request to ``uvicorn.access``; at debug level its websocket layer also
writes every handshake header (the token, the session cookie) there. A production
server may run with any of these on. :func:`mask_server_logs` puts a filter on those
loggers that masks them all.
"""

from __future__ import annotations

import logging
import re
import threading
import time

MASK = "[masked]"
_SECRETS = [
    # ?token=… / &token=… in a query string, and the secret in /board/<secret>/.
    (re.compile(r"([?&](?:access_)?token=)[^&\s\"']+"), rf"\1{MASK}"),
    (re.compile(r"(/board/)[^/?\s\"']+"), rf"\1{MASK}"),
    # A bearer token, and the token offered as a websocket subprotocol.
    (re.compile(r"(\bBearer\s+)[^\s,;\"']+", re.IGNORECASE), rf"\1{MASK}"),
    (re.compile(r"(warroom\.token\.)[^\s,;\"']+"), rf"\1{MASK}"),
]
# Headers whose whole value is a secret (the websockets library logs "< name: value").
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
HEADER_LINES = {"< %s: %s", "> %s: %s"}
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


def mask_secrets(text: str) -> str:
    """``text`` with URL and header secrets replaced by ``[masked]``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class MaskSecrets(logging.Filter):
    """Masks URL secrets in a record's message and string arguments.

    The arguments are masked one by one rather than formatted into the message:
    uvicorn's access formatter unpacks ``record.args`` itself.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            record.msg in HEADER_LINES
            and isinstance(args, tuple)
            and len(args) == 2
            and str(args[0]).lower() in SECRET_HEADERS
        ):
            record.args = (args[0], MASK)
            return True
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(args, tuple):
            record.args = tuple(mask_secrets(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, dict):
            record.args = {k: mask_secrets(v) if isinstance(v, str) else v for k, v in args.items()}
        return True


def mask_server_logs() -> None:
    """Attach :class:`MaskSecrets` to uvicorn's loggers (once per process).

    Done in code, not in ``LOGGING``: a dictConfig entry for these loggers would drop
    the handlers uvicorn gave them.
    """
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskSecrets) for f in logger.filters):
            logger.addFilter(MaskSecrets())


class RateLimit(logging.Filter):
    """The same message (logger, level and format string) at most ``BURST`` times per
    ``WINDOW`` seconds; the next one that passes says how many were held back.

    A dependency that is down makes every retry loop log (the channel layer's reader
    once a second, each publish): the console keeps saying what is wrong without
    drowning everything else.
    """

    WINDOW = 30.0
    BURST = 3

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._seen: dict[tuple, list[float]] = {}
        self._held: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        with self._lock:
            times = [t for t in self._seen.get(key, ()) if now - t < self.WINDOW]
            if len(times) >= self.BURST:
                self._seen[key] = times
                self._held[key] = self._held.get(key, 0) + 1
                return False
            times.append(now)
            self._seen[key] = times
            held = self._held.pop(key, 0)
            if len(self._seen) > 10_000:  # forget quiet keys
                self._seen = {k: v for k, v in self._seen.items() if now - v[-1] < self.WINDOW}
        if held:
            record.msg = f"{record.msg} [{held} more like this held back]"
        return True
