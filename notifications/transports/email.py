"""Email through Django's mail backends (SMTP in production): an HTML and a text part,
one recipient per delivery so each gets their own unsubscribe link.

The Message-ID is derived from the delivery's idempotency key, so a retry after a lost
answer carries the same ID and mail clients show it once; SMTP itself offers nothing
stronger. Each attempt is stamped before the SMTP conversation starts
(``Delivery.sending_since``, see :func:`notifications.delivery.claim`): a delivery taken
up again after its worker died mid-send is known as such (``interrupted``) and its mail
says so (``X-Warroom-Resent``) — the server may have taken the first copy; it cannot be
asked.

The MIME message is Django's, put together with less CPU (:class:`_Mail`): a wave of
status updates is hundreds of emails on one worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import smtplib
import string
from collections.abc import Iterator
from email import quoprimime
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.policy import Compat32
from email.utils import formatdate
from typing import ClassVar

from django.conf import settings
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    BadHeaderError,
    MIMEMixin,
    forbid_multi_line_headers,
    utf8_charset_qp,
)

from notifications import audiences
from notifications.audiences import STATUS_AUDIENCE
from notifications.render import Content
from notifications.transports.base import Refused, Retry, Transport

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
PAGE = "page"  # a message's cause when it is an escalation page


def unsubscribe_token(release_id: int, email: str, page_id: int | None = None) -> str:
    data: dict = {"r": release_id, "e": email.lower()}
    if page_id is not None:
        data["p"] = page_id  # a status page's notices, not the release's emails
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str, int | None]:
    """``(release id, email, status page id or None)``; raises ``signing.BadSignature``
    for a forged link."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    page = data.get("p")
    return int(data["r"]), str(data["e"]), int(page) if page is not None else None


def unsubscribe_url(release_id: int, email: str, page_id: int | None = None) -> str:
    token = unsubscribe_token(release_id, email, page_id)
    return f"{settings.WARROOM_BASE_URL}/comms/unsubscribe/{token}/"


def message_id(key: str) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "warroom"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


#: What "Q" encoding writes as one character (a space as "_"); the rest (but a few more
#: ASCII characters) it writes as "=XX" a byte.
Q_PLAIN = frozenset(string.ascii_letters + string.digits + " ")


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, "Q") of at most 75 characters each,
    as compat32's ``Header`` writes a subject outside ASCII, but in one pass: ``Header``
    measures its line again with each character added (~0.25 ms for a 50-character
    subject). The spaces between the words are dropped when the subject is read."""
    words, start, size = [], 0, 0
    for i, char in enumerate(text):
        n = 1 if char in Q_PLAIN else 3 * len(char.encode())  # at most
        if size + n > 63:  # 75 less "=?utf-8?q?" and "?="
            words.append(text[start:i])
            start, size = i, 0
        size += n
    words.append(text[start:])
    return " ".join(quoprimime.header_encode(w.encode(), "utf-8") for w in words)


class _AsSet(Compat32):
    """compat32, the policy of Django's messages, but folding a header of ASCII (all
    that :meth:`_Mail.message` sets) itself: at spaces, to lines of 78 characters where
    a word allows it, as compat32 does, and not through a ``Header`` for each header each
    time it writes one, which was a third of an email's CPU."""

    def fold_binary(self, name, value):
        if not (isinstance(value, str) and value.isascii()):
            return super().fold_binary(name, value)
        lines, rest = [], f"{name}: {value}"
        while len(rest) > 78:
            cut = rest.rfind(" ", 1, 79)  # the line ends before a space, which stays
            if cut < 1:
                cut = rest.find(" ", 79)  # a word longer than a line has one to itself
            if cut < 1:
                break
            lines.append(rest[:cut])
            rest = rest[cut:]
        lines.append(rest)
        return (self.linesep.join(lines) + self.linesep).encode()


AS_SET = _AsSet()


class _Multipart(MIMEMixin, MIMEMultipart):  # type: ignore[misc]  # as Django's own
    """A multipart message with what Django's backends call: ``as_bytes(linesep=...)``."""


def _text_part(text: str, subtype: str) -> Message:
    """A UTF-8 text part as Django's ``SafeMIMEText`` makes it: 7bit or 8bit as it is,
    quoted-printable when a line is longer than SMTP allows. ``SafeMIMEText`` parses and
    writes again its own Content-Type to add the charset, ~70 µs a part."""
    body = text.encode()
    part = Message(policy=AS_SET)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["MIME-Version"] = "1.0"
    if max(map(len, body.splitlines()), default=0) > RFC5322_EMAIL_LINE_LENGTH_LIMIT:
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(utf8_charset_qp.body_encode(body))
    else:
        part["Content-Transfer-Encoding"] = "7bit" if body.isascii() else "8bit"
        part.set_payload(body.decode("ascii", "surrogateescape"))  # as set_payload does
    return part


class _Mail(mail.EmailMultiAlternatives):
    """Django's ``EmailMultiAlternatives`` as this transport uses it (a body, an HTML
    alternative, extra headers; no cc, bcc or attachments), its MIME message built with
    less CPU: the same parts and headers, in the same order, written by :class:`_AsSet`;
    the subject encoded by :func:`encoded_words`; and a boundary chosen here (96 random
    bits: in no text), where the generator would compile a regular expression for each
    message to check one of its own. Any charset but UTF-8: Django's own message."""

    def message(self):  # type: ignore[override]  # Django 5.2's; the stubs are 6.0's
        encoding = self.encoding or settings.DEFAULT_CHARSET
        if encoding.lower() != "utf-8":
            return super().message()
        parts = [_text_part(str(self.body), "plain")]
        for content, mimetype in self.alternatives:  # str: this transport's HTML
            parts.append(_text_part(str(content), mimetype.partition("/")[2]))
        msg = _Multipart("alternative", f"=_{secrets.token_hex(12)}", parts, policy=AS_SET)
        subject = str(self.subject)
        if "\n" in subject or "\r" in subject:
            raise BadHeaderError(f"Header values can't contain newlines (got {subject!r})")
        msg["Subject"] = subject if subject.isascii() else encoded_words(subject)
        headers = {
            "From": self.from_email,
            "To": ", ".join(self.to),
            "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            **self.extra_headers,
        }
        for name, value in headers.items():  # address headers outside ASCII encoded
            msg[name] = forbid_multi_line_headers(name, value, encoding)[1]
        return msg


class EmailTransport(Transport):
    channel: ClassVar[str] = "email"
    setting: ClassVar[str] = "EMAIL_ENABLED"
    #: Each email stands alone, and most of its time is the SMTP conversation's round
    #: trips: a batch's emails go out over two connections at once.
    lanes: ClassVar[int] = 2

    def __init__(self) -> None:
        self.connection: BaseEmailBackend | None = None  # one connection for a batch

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self.connection = conn = mail.get_connection()
        with contextlib.suppress(Exception):  # if it fails, the first send says why
            conn.open()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            self.connection = None

    def send(self, delivery, content: Content) -> str:
        m = delivery.message
        mid = message_id(delivery.key)
        if m.cause == PAGE:
            # A page is for one person on duty: no list to leave.
            text, html, listing = content.text + "\n", content.html, {}
        else:
            status_page = (
                audiences.status_page_of(m.release_id) if m.audience == STATUS_AUDIENCE else None
            )
            link = unsubscribe_url(m.release_id, delivery.target, status_page)
            text = f"{content.text}\n\n--\nStop these emails: {link}\n"
            html = f'{content.html}\n<hr><p><a href="{link}">Unsubscribe</a></p>'
            listing = {
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        email = _Mail(
            subject=content.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.target],
            connection=self.connection,
            headers={
                "Message-ID": mid,
                **listing,
                "X-Warroom-Key": delivery.key[:200],
                "X-Warroom-Attempt": str(delivery.attempts),
                **(
                    {"X-Warroom-Resent": "after an interrupted attempt; same Message-ID"}
                    if getattr(delivery, "interrupted", 0)
                    else {}
                ),
            },
        )
        email.attach_alternative(html, "text/html")
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as e:
            raise Refused(f"the mail server refused {delivery.target}: {e}") from e
        except smtplib.SMTPResponseException as e:
            self._drop_connection()
            if 400 <= e.smtp_code < 500:
                raise Retry(f"mail server: {e.smtp_code} {e.smtp_error!r}") from e
            raise Refused(f"mail server: {e.smtp_code} {e.smtp_error!r}") from e
        except (smtplib.SMTPException, OSError) as e:
            self._drop_connection()
            raise Retry(f"mail server unreachable: {type(e).__name__}: {e}") from e
        return mid

    def _drop_connection(self) -> None:
        """After an error the batch's next email starts on a fresh connection."""
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
