"""The built-in public status page: what the release's events mean for its product's page.

Each release is a scheduled maintenance on the page of its product (its name): written
when the release is made, moved when T0 moves, in progress when the window opens (or T0
comes, whichever is first), degraded by a critical or high issue while in progress, and
completed when the release closes. The page's components follow: Operational →
Scheduled Maintenance → Maintenance in Progress → Degraded → Operational.

Each step is an update on the page, and — when maintenance is scheduled, starts, changes
date or completes — an email to the page's subscribers through the outbox, written in
the transaction of the event that caused it, with a key that makes it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from notifications import outbox, plan
from notifications.audiences import STATUS_AUDIENCE
from notifications.models import (
    Maintenance,
    MaintenanceUpdate,
    StatusComponent,
    StatusPage,
    StatusSubscriber,
)
from warroom import clock, events
from warroom.audit import AuditEvent, release_model
from warroom.errors import FieldError

State = StatusComponent.State
Kind = MaintenanceUpdate.Kind
#: Issues that make a component Degraded while its maintenance is in progress.
DEGRADING = {"critical", "high"}


def _when(moment: datetime) -> str:
    return f"{moment:%a %d %b %Y %H:%M} UTC"


def page_for(release) -> StatusPage:
    """The product's page (made with one component, the product, the first time)."""
    slug = slugify(release.name)[:100] or f"release-{release.pk}"
    try:
        with transaction.atomic():
            page, _ = StatusPage.objects.get_or_create(
                slug=slug, defaults={"name": release.name[:200], "created_at": clock.now()}
            )
    except IntegrityError:
        page = StatusPage.objects.get(slug=slug)
    if not page.components.exists():
        StatusComponent.objects.get_or_create(page=page, name=page.name)
    return page


def _set(m: Maintenance, state: str, now: datetime) -> None:
    m.components.update(state=state, changed_at=now)


def _tell(m: Maintenance, kind: str, body: str, now: datetime, *, key: str, notify: bool) -> None:
    """An update on the page; an email to the subscribers when ``notify``."""
    MaintenanceUpdate.objects.create(maintenance=m, kind=kind, at=now, body=body)
    if not notify or not StatusSubscriber.objects.filter(page=m.page_id, active=True).exists():
        return
    label = Kind(kind).label.lower()
    outbox.write(
        m.release,
        rule=None,
        key=f"status:{m.pk}:{key}",
        cause=f"status page: {label}",
        due_at=now,
        title=f"{m.page.name}: maintenance {label}",
        text=f"{m.title}\n\n{body}\n\nStatus: {outbox_status_url(m.page)}",
        audience=STATUS_AUDIENCE,
        channels=["email"],
    )


def outbox_status_url(page: StatusPage) -> str:
    from django.conf import settings

    return f"{settings.WARROOM_BASE_URL}/status/{page.slug}/"


def _maintenance(release_id: int) -> Maintenance | None:
    return (
        Maintenance.objects.select_related("page", "release").filter(release_id=release_id).first()
    )


# --- what the release's events do --------------------------------------------------
@events.subscribe("release.created")
def _scheduled(event: AuditEvent) -> None:
    release = release_model().objects.get(pk=event.release_id)
    page = page_for(release)
    start, end = plan.window(release)
    m, made = Maintenance.objects.get_or_create(
        release=release,
        defaults={
            "page": page,
            "title": f"{release.name} {release.version}".strip()[:300],
            "starts_at": start,
            "ends_at": end,
        },
    )
    if not made:
        return
    m.components.set(page.components.all())
    now = event.at
    m.components.filter(state=State.OPERATIONAL).update(state=State.SCHEDULED, changed_at=now)
    _tell(
        m,
        Kind.SCHEDULED,
        f"Maintenance is scheduled from {_when(start)} to {_when(end)}.",
        now,
        key="scheduled",
        notify=True,
    )


@events.subscribe("release.edited")
def _moved(event: AuditEvent) -> None:
    if "go_live_at" not in (event.data or {}):
        return
    m = _maintenance(event.release_id)
    if m is None or m.state == Maintenance.State.COMPLETED:
        return
    start, end = plan.window(m.release)
    if (start, end) == (m.starts_at, m.ends_at):
        return
    was = m.starts_at
    Maintenance.objects.filter(pk=m.pk).update(starts_at=start, ends_at=end)
    _tell(
        m,
        Kind.RESCHEDULED,
        f"The maintenance moved from {_when(was)} to {_when(start)} until {_when(end)}.",
        event.at,
        key=f"rescheduled:{int(start.timestamp())}:{event.seq}",
        notify=True,
    )


@events.subscribe("release.window_opened", "release.t0_reached")
def _started(event: AuditEvent) -> None:
    m = _maintenance(event.release_id)
    if m is None:
        return
    if not Maintenance.objects.filter(pk=m.pk, state=Maintenance.State.SCHEDULED).update(
        state=Maintenance.State.IN_PROGRESS
    ):
        return  # started already (the window opened before T0)
    _set(m, State.IN_PROGRESS, event.at)
    _tell(
        m,
        Kind.STARTED,
        f"The maintenance has started; it is planned to end by {_when(m.ends_at)}.",
        event.at,
        key="started",
        notify=True,
    )


@events.subscribe("issue.reported")
def _degraded(event: AuditEvent) -> None:
    if (event.data or {}).get("severity") not in DEGRADING:
        return
    m = _maintenance(event.release_id)
    if m is None or m.state != Maintenance.State.IN_PROGRESS:
        return
    Maintenance.objects.filter(pk=m.pk).update(degraded=True)
    _set(m, State.DEGRADED, event.at)
    _tell(
        m,
        Kind.DEGRADED,
        "We are seeing problems during the maintenance and are working on them.",
        event.at,
        key=f"degraded:{event.seq}",
        notify=False,
    )


@events.subscribe("release.closed")
def _completed(event: AuditEvent) -> None:
    m = _maintenance(event.release_id)
    if m is None:
        return
    if (
        not Maintenance.objects.filter(pk=m.pk)
        .exclude(state=Maintenance.State.COMPLETED)
        .update(state=Maintenance.State.COMPLETED)
    ):
        return
    _set(m, State.OPERATIONAL, event.at)
    outcome = (event.data or {}).get("status_label", "done").lower()
    _tell(
        m,
        Kind.COMPLETED,
        f"The maintenance is complete ({outcome}); everything is operational.",
        event.at,
        key="completed",
        notify=True,
    )


# --- the public page ----------------------------------------------------------------
def page_view(slug: str) -> dict | None:
    """What the public page shows, or None for an unknown page."""
    page = StatusPage.objects.filter(slug=slug).first()
    if page is None:
        return None
    maintenances = list(page.maintenances.prefetch_related("updates", "components")[:20])
    components = list(page.components.all())
    worst = max((_rank(c.state) for c in components), default=0)
    return {
        "page": page,
        "components": components,
        "overall": RANKED[worst],
        "active": [m for m in maintenances if m.state != Maintenance.State.COMPLETED],
        "past": [m for m in maintenances if m.state == Maintenance.State.COMPLETED][:10],
    }


RANKED = [State.OPERATIONAL, State.SCHEDULED, State.IN_PROGRESS, State.DEGRADED]


def _rank(state: str) -> int:
    return RANKED.index(State(state))


def subscribe(slug: str, email: str) -> StatusPage:
    """Tell ``email`` about this page's maintenance from now on; FieldError names the field."""
    page = StatusPage.objects.filter(slug=slug).first()
    if page is None:
        raise FieldError("page", "no such status page")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise FieldError("email", "is not an email address") from None
    with transaction.atomic():
        row, made = StatusSubscriber.objects.get_or_create(
            page=page, email=email, defaults={"created_at": clock.now()}
        )
        if not made and not row.active:
            StatusSubscriber.objects.filter(pk=row.pk).update(active=True)
    return page


def unsubscribe(page_id: int, email: str) -> StatusPage:
    page = StatusPage.objects.filter(pk=page_id).first()
    if page is None:
        raise FieldError("link", "names a status page that no longer exists")
    StatusSubscriber.objects.filter(page=page, email=email.lower()).update(active=False)
    return page


# --- the release manager's component editor ------------------------------------------
#: A maintenance's state -> what the components it affects show.
MAINTENANCE_SHOWS = {
    Maintenance.State.SCHEDULED: State.SCHEDULED,
    Maintenance.State.IN_PROGRESS: State.IN_PROGRESS,
}


@dataclass(frozen=True)
class ComponentRow:
    component: StatusComponent
    affected: bool  # by this release's maintenance


def components_for(release) -> tuple[StatusPage, list[ComponentRow]]:
    """The product's page and its components, each saying whether this release's
    maintenance affects it (what the comms page's editor shows)."""
    page = page_for(release)
    m = Maintenance.objects.filter(release=release).first()
    affected = set(m.components.values_list("pk", flat=True)) if m else set()
    rows = [ComponentRow(c, c.pk in affected) for c in page.components.all()]
    return page, rows


def _shown_by(m: Maintenance | None) -> str | None:
    """The state a component affected by ``m`` shows now (None: ``m`` is over)."""
    if m is None:
        return None
    if m.state == Maintenance.State.IN_PROGRESS and m.degraded:
        return State.DEGRADED
    return MAINTENANCE_SHOWS.get(Maintenance.State(m.state))


def _clean_component(name: str, order: int | str) -> tuple[str, int]:
    name = " ".join((name or "").split())
    if not name:
        raise FieldError("name", "a component needs a name")
    if len(name) > 200:
        raise FieldError("name", "is longer than 200 characters")
    try:
        number = int(order)
    except (TypeError, ValueError):
        raise FieldError("order", "must be a whole number") from None
    if number < 0:
        raise FieldError("order", "must be 0 or more")
    return name, number


def component_save(
    *,
    release,
    user,
    component_id: int | None,
    name: str,
    order: int | str,
    state: str,
    affected: bool,
) -> StatusComponent:
    """Add (``component_id`` None) or change a component of the release's product page:
    its name, order and state, and whether the release's maintenance affects it. A
    component the maintenance comes to affect takes the maintenance's state (Scheduled
    or In Progress) unless another state was chosen; one it stops affecting goes back to
    Operational the same way. Audited on the release's timeline."""
    name, number = _clean_component(name, order)
    page = page_for(release)
    now = clock.now()
    with transaction.atomic():
        c: StatusComponent | None = None
        if component_id is not None:
            c = (
                StatusComponent.objects.select_for_update()
                .filter(pk=component_id, page=page)
                .first()
            )
            if c is None:
                raise FieldError("component", "is not on this product's status page")
        state = state or (c.state if c else State.OPERATIONAL)
        if state not in State.values:
            raise FieldError("state", f"must be one of {', '.join(State.labels)}")
        clash = StatusComponent.objects.filter(page=page, name__iexact=name)
        if c is not None:
            clash = clash.exclude(pk=c.pk)
        if clash.exists():
            raise FieldError("name", f"“{name}” is on this page already")
        m = Maintenance.objects.filter(release=release).first()
        was = bool(c and m and m.components.filter(pk=c.pk).exists())
        chosen = state != (c.state if c else State.OPERATIONAL)
        if affected != was and not chosen:
            state = (_shown_by(m) if affected else None) or State.OPERATIONAL
        before = {"name": c.name, "order": c.order, "state": c.state, "affected": was} if c else {}
        if c is None:
            c = StatusComponent.objects.create(
                page=page, name=name, order=number, state=state, changed_at=now
            )
        else:
            moved = now if state != c.state else c.changed_at
            StatusComponent.objects.filter(pk=c.pk).update(
                name=name, order=number, state=state, changed_at=moved
            )
            c.name, c.order, c.state, c.changed_at = name, number, state, moved
        if m is not None and affected != was:
            (m.components.add if affected else m.components.remove)(c)
        after = {"name": c.name, "order": c.order, "state": c.state, "affected": affected}
        fields = [k for k in after if before.get(k) != after[k]] if before else []
        if not before or fields:
            events.record(
                release,
                "status.component_edited",
                actor=user,
                data={
                    "page": page.slug,
                    "component": c.name,
                    "change": "changed" if before else "added",
                    "fields": fields,
                    "state": State(c.state).label,
                    "affected": affected,
                },
            )
    return c


def component_remove(*, release, user, component_id: int) -> None:
    """Take a component off the release's product page (audited); the page keeps at
    least one."""
    page = page_for(release)
    with transaction.atomic():
        c = StatusComponent.objects.select_for_update().filter(pk=component_id, page=page).first()
        if c is None:
            raise FieldError("component", "is not on this product's status page")
        if page.components.count() <= 1:
            raise FieldError("component", "a status page keeps at least one component")
        name = c.name
        c.delete()
        events.record(
            release,
            "status.component_edited",
            actor=user,
            data={"page": page.slug, "component": name, "change": "removed", "fields": []},
        )
