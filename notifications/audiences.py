"""Who a message goes to on a channel: an audience named in the plan, as targets."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from notifications.models import Maintenance, StatusSubscriber, Subscriber
from warroom.people.models import Person


@dataclass(frozen=True)
class Target:
    address: str
    problem: str = ""  # why nothing can be delivered there (shown in the delivery log)


def _people(release, audience: str) -> list[str]:
    """Email addresses of the release's people the audience names: stakeholders, the
    team, or everyone (the default)."""
    words = audience.lower()
    people = Person.objects.filter(assignments__role__release_id=release.pk)
    if "stakeholder" in words and "team" not in words:
        people = people.filter(assignments__role__kind="stakeholder")
    elif "team" in words and "stakeholder" not in words and "all" not in words:
        people = people.filter(assignments__role__kind="team")
    return [e for e in people.values_list("email", flat=True).distinct() if "@" in (e or "")]


#: The audience of the built-in status page's notices: its page's subscribers.
STATUS_AUDIENCE = "status page subscribers"


def status_page_of(release_id: int) -> int | None:
    """The id of the status page the release's maintenance is on, if any."""
    return (
        Maintenance.objects.filter(release_id=release_id).values_list("page_id", flat=True).first()
    )


def emails(release, audience: str) -> list[str]:
    """The audience's addresses plus self-subscribers, less those who unsubscribed."""
    if audience == STATUS_AUDIENCE:
        rows = StatusSubscriber.objects.filter(page_id=status_page_of(release.pk), active=True)
        return sorted(rows.values_list("email", flat=True), key=str.lower)
    subs = dict(Subscriber.objects.filter(release_id=release.pk).values_list("email", "active"))
    found = [e for e in _people(release, audience) if subs.get(e, True)]
    found += [e for e, active in subs.items() if active]
    return sorted(set(found), key=str.lower)


def targets(release, channel: str, audience: str) -> list[Target]:
    if channel == "email":
        return [Target(e) for e in emails(release, audience)]
    if channel == "slack":
        return [Target(settings.SLACK_CHANNEL)]
    if channel == "webhook":
        return [Target(settings.WEBHOOK_URL or "webhook")]
    if channel == "status_page":
        return [Target(settings.STATUSPAGE_PAGE_ID or "status page")]
    return [Target(channel, f"no transport delivers to “{channel}”")]
