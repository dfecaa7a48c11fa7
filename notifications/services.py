"""What the release manager does with the comms plan: preview, edit, send now or skip the
next message, change a rule, retry a failed delivery; and stakeholders subscribing.

Every write records its event in the same transaction; bad input raises FieldError
naming the field and writes nothing.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from notifications import delivery, outbox, public_status, render
from notifications.models import CommsRule, Delivery, Message, Subscriber
from notifications.transports.email import read_unsubscribe_token
from warroom import clock, events
from warroom.errors import FieldError

CHANNELS = ("slack", "email", "status_page", "webhook", "in_app")
TEXT_MAX = 20000


def preview(release, rule: CommsRule) -> render.Content:
    """What the rule's next message would say if it were sent now."""
    if rule.next_text:
        return render.Content(render.render_template(release, rule)[0], rule.next_text)
    if outbox.is_status_update(rule):
        return render.status_update(release)
    subject, body = render.render_template(release, rule)
    return render.Content(subject, body)


def edit_next(*, release, rule: CommsRule, user, text: str) -> None:
    """The next message of ``rule`` says ``text`` (once); empty goes back to the template."""
    if len(text) > TEXT_MAX:
        raise FieldError("text", f"is longer than {TEXT_MAX} characters")
    with transaction.atomic():
        CommsRule.objects.filter(pk=rule.pk).update(next_text=text.strip())
        events.record(release, "comms.next_edited", actor=user, data={"rule": rule.name})


def send_now(*, release, rule: CommsRule, user, text: str = "") -> Message | None:
    """Send the rule's message now (the scheduled ones keep their times)."""
    if len(text) > TEXT_MAX:
        raise FieldError("text", f"is longer than {TEXT_MAX} characters")
    with transaction.atomic():
        edited = bool(text.strip() or rule.next_text)
        message = outbox.write(
            release,
            rule=rule,
            key=f"rule:{rule.pk}:now:{uuid.uuid4().hex}",
            cause="sent by hand",
            due_at=clock.now(),
            sent_by=events.actor_label_for(user),
            text=text.strip(),
        )
        events.record(
            release, "comms.sent_now", actor=user, data={"rule": rule.name, "edited": edited}
        )
    return message


def skip_next(*, release, rule: CommsRule, user) -> bool:
    """Skip the rule's next scheduled message (recorded); False if none is scheduled."""
    if rule.next_due_at is None:
        raise FieldError("rule", "has no scheduled message to skip")
    return outbox.fire(rule, rule.next_due_at, skip=True, actor=user) == 0


def rule_change(
    *, release, rule: CommsRule, user, enabled: bool, channels: list[str], audience: str
) -> None:
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise FieldError("channels", f"unknown channel “{unknown[0]}” (use {', '.join(CHANNELS)})")
    if len(audience) > 300:
        raise FieldError("audience", "is longer than 300 characters")
    fields = {"enabled": enabled, "channels": channels, "audience": audience.strip()}
    changed = [k for k, v in fields.items() if getattr(rule, k) != v]
    if not changed:
        return
    with transaction.atomic():
        CommsRule.objects.filter(pk=rule.pk).update(**fields)
        outbox.rules_changed(rule.release_id)
        events.record(
            release, "comms.rule_edited", actor=user, data={"rule": rule.name, "fields": changed}
        )


def retry(*, release, target: Delivery, user) -> None:
    if target.state != Delivery.State.FAILED:
        raise FieldError("delivery", "only a failed delivery can be retried")
    delivery.retry_by_hand(target)


def subscribe(*, release, email: str) -> None:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise FieldError("email", "is not an email address") from None
    _set_subscription(release, email, active=True)


def unsubscribe(token: str) -> tuple[object, str]:
    """Leave a release's emails by the link in one; raises FieldError for a bad link."""
    from django.core import signing

    from warroom.audit import release_model

    try:
        release_id, email, page_id = read_unsubscribe_token(token)
    except signing.BadSignature:
        raise FieldError("link", "is not a valid unsubscribe link") from None
    if page_id is not None:
        return public_status.unsubscribe(page_id, email), email
    release = release_model().objects.filter(pk=release_id).first()
    if release is None:
        raise FieldError("link", "names a release that no longer exists")
    _set_subscription(release, email, active=False)
    return release, email


def _set_subscription(release, email: str, *, active: bool) -> None:
    with transaction.atomic():
        row, created = Subscriber.objects.get_or_create(
            release=release, email=email, defaults={"active": active, "created_at": clock.now()}
        )
        if not created and row.active == active:
            return
        if not created:
            Subscriber.objects.filter(pk=row.pk).update(active=active)
        events.record(
            release,
            "comms.subscription",
            actor_label=email,
            data={"email": email, "active": active},
        )
