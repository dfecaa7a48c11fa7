"""Email through Django's mail backends (SMTP in production): an HTML and a text part,
one recipient per delivery so each gets their own unsubscribe link.

The Message-ID is derived from the delivery's idempotency key, so a retry after a lost
answer carries the same ID and mail clients show it once; SMTP itself offers nothing
stronger. Each attempt is stamped before the SMTP conversation starts
(``Delivery.sending_since``, see :func:`notifications.delivery.claim`): a delivery taken
up again after its worker died mid-send is known as such (``interrupted``) and its mail
says so (``X-Warroom-Resent``) — the server may have taken the first copy; it cannot be
asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from collections.abc import Iterator
from typing import ClassVar

from django.conf import settings
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend

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


class EmailTransport(Transport):
    channel: ClassVar[str] = "email"
    setting: ClassVar[str] = "EMAIL_ENABLED"

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
        email = mail.EmailMultiAlternatives(
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
