"""Who a message goes to on a channel: an audience named in the plan, as targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from notifications.models import Maintenance, StatusSubscriber, Subscriber
from warroom.people.models import Assignment


@dataclass(frozen=True)
class Target:
    address: str
    problem: str = ""  # why nothing can be delivered there (shown in the delivery log)


def _kinds(audience: str) -> set[str] | None:
    """The role kinds an audience names: stakeholders, the team, or (None) everyone."""
    words = audience.lower()
    if "stakeholder" in words and "team" not in words:
        return {"stakeholder"}
    if "team" in words and "stakeholder" not in words and "all" not in words:
        return {"team"}
    return None


#: The audience of the built-in status page's notices: its page's subscribers.
STATUS_AUDIENCE = "status page subscribers"


def status_page_of(release_id: int) -> int | None:
    """The id of the status page the release's maintenance is on, if any."""
    return (
        Maintenance.objects.filter(release_id=release_id).values_list("page_id", flat=True).first()
    )


Wanted = tuple[int, str]  # (release id, audience)


def emails_many(wanted: Iterable[Wanted]) -> dict[Wanted, list[str]]:
    """Each (release, audience)'s addresses: the audience's people (by the kind of their
    role on that release) plus self-subscribers, less those who unsubscribed; a status
    page's notice goes to its page's subscribers. A few queries for any number of
    releases (the tick's chunk), whatever the audiences."""
    wanted = set(wanted)
    plain = {rid for rid, audience in wanted if audience != STATUS_AUDIENCE}
    paged = {rid for rid, audience in wanted if audience == STATUS_AUDIENCE}
    subs: dict[int, dict[str, bool]] = defaultdict(dict)
    people: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if plain:
        rows = Subscriber.objects.filter(release_id__in=plain)
        for rid, email, active in rows.values_list("release_id", "email", "active"):
            subs[rid][email] = active
        held = Assignment.objects.filter(role__release_id__in=plain)
        for rid, kind, email in held.values_list("role__release_id", "role__kind", "person__email"):
            if "@" in (email or ""):
                people[rid].append((kind, email))
    pages: dict[int, int] = {}  # release id → its maintenance's status page
    page_subs: dict[int, list[str]] = defaultdict(list)
    if paged:
        pages = dict(
            Maintenance.objects.filter(release_id__in=paged).values_list("release_id", "page_id")
        )
        on_pages = StatusSubscriber.objects.filter(page_id__in=set(pages.values()), active=True)
        for page_id, email in on_pages.values_list("page_id", "email"):
            page_subs[page_id].append(email)
    out: dict[Wanted, list[str]] = {}
    for rid, audience in wanted:
        if audience == STATUS_AUDIENCE:
            page = pages.get(rid)
            out[rid, audience] = sorted(page_subs[page] if page else [], key=str.lower)
            continue
        kinds = _kinds(audience)
        mine = subs.get(rid, {})
        found = [e for k, e in people.get(rid, []) if (kinds is None or k in kinds)]
        found = [e for e in found if mine.get(e, True)] + [e for e, on in mine.items() if on]
        out[rid, audience] = sorted(set(found), key=str.lower)
    return out


def emails(release, audience: str) -> list[str]:
    """The audience's addresses plus self-subscribers, less those who unsubscribed."""
    return emails_many([(release.pk, audience)])[release.pk, audience]


def targets(
    release, channel: str, audience: str, known: dict[Wanted, list[str]] | None = None
) -> list[Target]:
    """Where ``channel`` reaches ``audience``; email addresses from ``known`` (what
    :func:`emails_many` found for many messages at once) when given."""
    if channel == "email":
        found = known[release.pk, audience] if known is not None else emails(release, audience)
        return [Target(e) for e in found]
    if channel == "slack":
        return [Target(settings.SLACK_CHANNEL)]
    if channel == "webhook":
        return [Target(settings.WEBHOOK_URL or "webhook")]
    if channel == "status_page":
        return [Target(settings.STATUSPAGE_PAGE_ID or "status page")]
    return [Target(channel, f"no transport delivers to “{channel}”")]
