"""Open sockets lose access when the access goes.

A websocket is let in once, at its handshake; what it was let in with can end while it
stays open. After the change commits, every server process is told on one channel-layer
group (:data:`ACCESS_GROUP`, one subscription per process, joined by the hub of
:mod:`warroom.live`) and closes the sockets concerned within moments:

- a credential that ended — an API token deleted, a session logged out, a board link
  rotated — closes every socket opened with it (:func:`credential_ended`);
- a person's standing that changed — a role taken away, the account deactivated or
  unlinked — makes each of their sockets ask the policy again, and those it now
  refuses are closed (:func:`standing_changed`).

Sockets remember only a digest of their credential (:func:`credential_digest`), and
the messages carry only digests: no secret travels through Redis.
"""

from __future__ import annotations

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

ACCESS_GROUP = "warroom.access"
MESSAGE_TYPE = "access.changed"
# The close code a socket gets when its access ended (the page reconnects and is refused,
# or, with a new board link or login, let in again).
CLOSE_ACCESS_ENDED = 4401


def credential_digest(kind: str, secret: str) -> str:
    """What a socket keeps of the credential it opened with (``kind``: token, session, board)."""
    return hashlib.sha256(f"{kind}:{secret}".encode()).hexdigest()


def _send(message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(ACCESS_GROUP, message)
    except Exception:  # a socket then keeps access until it reconnects: say so loudly
        logger.exception("could not tell the server processes that access ended: %s", message)


def _after_commit(message: dict) -> None:
    transaction.on_commit(lambda: _send({"type": MESSAGE_TYPE, **message}))


def credential_ended(digest: str) -> None:
    """Close every socket opened with the credential of ``digest`` (after commit)."""
    _after_commit({"credential": digest})


def standing_changed(user_id: int, release_id: int | None = None) -> None:
    """Ask the policy again for each socket of ``user_id`` (on ``release_id`` only, when
    given) and close those it refuses now (after commit)."""
    _after_commit({"user_id": user_id, "release_id": release_id})


# --- what ends access, wherever it is done (services, the admin, a shell) ----------


def _token_deleted(sender, instance, **kwargs) -> None:
    credential_ended(credential_digest("token", instance.digest))


def _assignment_deleted(sender, instance, **kwargs) -> None:
    # pre_delete runs inside the deletion's transaction: the message leaves after it commits.
    from warroom.people.models import Person, Role

    user_id = Person.objects.filter(pk=instance.person_id).values_list("user_id", flat=True).first()
    if user_id is not None:
        release_id = Role.objects.filter(pk=instance.role_id).values_list("release_id", flat=True)
        standing_changed(user_id, release_id.first())


def _person_saving(sender, instance, **kwargs) -> None:
    instance._login_before = (
        sender.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
        if instance.pk is not None
        else None
    )


def _person_saved(sender, instance, **kwargs) -> None:
    """A person unlinked from (or moved to another) login: the old login's sockets ask again."""
    before = getattr(instance, "_login_before", None)
    if before is not None and before != instance.user_id:
        standing_changed(before)


def _user_saved(sender, instance, created, **kwargs) -> None:
    if not created and not instance.is_active:
        standing_changed(instance.pk)


def _logged_out(sender, request, user, **kwargs) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        credential_ended(credential_digest("session", key))


def connect_signals() -> None:
    """Called once from the core's ``AppConfig.ready``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import post_save, pre_delete, pre_save

    from warroom.models import ApiToken
    from warroom.people.models import Assignment, Person

    pre_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid="warroom.revoke.token")
    pre_delete.connect(
        _assignment_deleted, sender=Assignment, dispatch_uid="warroom.revoke.assignment"
    )
    pre_save.connect(_person_saving, sender=Person, dispatch_uid="warroom.revoke.person")
    post_save.connect(_person_saved, sender=Person, dispatch_uid="warroom.revoke.person_saved")
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="warroom.revoke.user")
    user_logged_out.connect(_logged_out, dispatch_uid="warroom.revoke.logout")
