"""An Atlassian Statuspage-compatible API through httpx: the release is one scheduled
maintenance incident, created by its first message and updated by the others.

Exactly once: the incident carries the creating delivery's key in its metadata, and an
update's body is unique to its message; before trying again (any attempt after the
first) the transport looks for them on the page, so a lost answer does not create a
second incident or post an update twice.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import httpx
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from deployments import selectors as release_selectors
from notifications.models import Delivery, StatusIncident
from notifications.render import Content
from notifications.transports.base import Refused, Retry, Transport
from warroom import clock, sqlbatch
from warroom.audit import release_model


@functools.lru_cache(maxsize=4)
def _client(base_url: str, page_id: str, api_key: str, timeout: float) -> httpx.Client:
    """One client (and its connection pool) per process and configuration."""
    base = base_url.rstrip("/") + "/"
    return httpx.Client(
        base_url=f"{base}pages/{page_id}/",
        headers={"Authorization": f"OAuth {api_key}"},
        timeout=timeout,
    )


#: Our release's state -> the maintenance incident's status.
STATUS = {"upcoming": "scheduled", "in_progress": "in_progress", "done": "completed"}


def incidents_of(deliveries: list) -> dict[int, StatusIncident]:
    """The incident row of each release the deliveries are for, by release id, in one
    round trip on PostgreSQL: one statement inserts every release's row, skipping those
    there are already (a concurrent worker's too) — each row's insert is the
    compare-and-set, the release's first delivery here its owner unless another's
    insert won — and the next reads them."""
    first: dict[int, Delivery] = {}
    for d in sorted(deliveries, key=lambda d: d.pk):
        first.setdefault(d.message.release_id, d)
    if not first:
        return {}
    # Inserted in release order, so two workers inserting some of the same never wait
    # for each other in a cycle.
    new = [StatusIncident(release_id=pk, owner=first[pk]) for pk in sorted(first)]
    read = sqlbatch.Statement(
        _incidents_sql(connection.vendor).replace("{ids}", ", ".join(["%s"] * len(first))),
        list(first),
    )
    rows = sqlbatch.run([sqlbatch.insert(StatusIncident, new, skip_conflicts=True), read])[1].rows
    incidents = (sqlbatch.instance(StatusIncident, row) for row in rows)
    return {i.release_id: i for i in incidents}


@functools.cache
def _incidents_sql(vendor: str) -> str:
    q = sqlbatch.q
    return (
        f"SELECT {sqlbatch.columns(StatusIncident)} FROM {q(StatusIncident._meta.db_table)}"
        f" WHERE {q('release_id')} IN ({{ids}})"
    )


class StatusPageTransport(Transport):
    channel: ClassVar[str] = "status_page"
    setting: ClassVar[str] = "STATUSPAGE_ENABLED"

    def __init__(self) -> None:
        self.client = _client(
            settings.STATUSPAGE_BASE_URL,
            settings.STATUSPAGE_PAGE_ID,
            settings.STATUSPAGE_API_KEY,
            settings.STATUSPAGE_TIMEOUT,
        )
        self.incidents: dict[int, StatusIncident] = {}  # by release id, read for a batch
        self.created: dict[int, str] = {}  # row id -> the incident's id, written by settle()

    def prepare(self, deliveries: list) -> None:
        """The incident of every release in the batch (see :func:`incidents_of`)."""
        self.incidents = incidents_of(deliveries)

    def settle(self) -> None:
        """The id of every incident the batch created, in one UPDATE."""
        if not self.created:
            return
        created, self.created = self.created, {}
        sqlbatch.run([sqlbatch.update_each(StatusIncident, {"incident_id": created})])

    def send(self, delivery, content: Content) -> str:
        release = getattr(delivery, "release", None) or release_model().objects.get(
            pk=delivery.message.release_id
        )
        status = STATUS.get(release_selectors.release_state(release, clock.now()), "in_progress")
        # The reference makes each update's body its own: the check before a retry
        # finds this message's update, never an earlier one that reads the same.
        m = delivery.message
        body = f"{content.subject} ({m.due_at:%H:%M} UTC, ref {m.pk})\n\n{content.text}"
        try:
            return self._send(delivery, release, status, body)
        except httpx.TimeoutException as e:
            raise Retry(f"status page timed out: {type(e).__name__}") from e
        except httpx.TransportError as e:
            raise Retry(f"status page unreachable: {type(e).__name__}: {e}") from e

    def _send(self, delivery, release, status: str, body: str) -> str:
        incident = self._incident(release, delivery)
        creator = incident.owner_id == delivery.pk and not incident.incident_id
        if not creator and not incident.incident_id:
            raise Retry("waiting for the release's status page entry", after=1.0, counts=False)
        if creator:
            found = self._find_incident(delivery.key) if delivery.attempts > 1 else None
            if found is None:
                payload = {
                    "name": f"{release.name} {release.version}".strip(),
                    "status": status,
                    "body": body,
                    "scheduled_for": release.go_live_at.isoformat(),
                    "metadata": {"warroom": {"key": delivery.key}},
                }
                found = self._check(self.client.post("incidents", json={"incident": payload}))
            incident.incident_id = str(found["id"])  # the batch's next ones update it
            if self.incidents.get(release.pk) is incident:
                self.created[incident.pk] = incident.incident_id
            else:
                StatusIncident.objects.filter(pk=incident.pk).update(incident_id=found["id"])
            return str(found["id"])
        path = f"incidents/{incident.incident_id}"
        if delivery.attempts > 1:
            current = self._check(self.client.get(path))
            if any(u.get("body") == body for u in current.get("incident_updates") or []):
                return incident.incident_id
        self._check(self.client.patch(path, json={"incident": {"status": status, "body": body}}))
        return incident.incident_id

    def _incident(self, release, delivery) -> StatusIncident:
        found = self.incidents.get(release.pk)
        if found is None:
            try:
                with transaction.atomic():
                    found, _ = StatusIncident.objects.get_or_create(
                        release=release, defaults={"owner": delivery}
                    )
            except IntegrityError:
                found = StatusIncident.objects.get(release=release)
        if not found.incident_id and found.owner_id != delivery.pk and self._owner_gone(found):
            StatusIncident.objects.filter(pk=found.pk, owner=found.owner_id, incident_id="").update(
                owner=delivery
            )
            found.refresh_from_db()
        return found

    @staticmethod
    def _owner_gone(incident: StatusIncident) -> bool:
        """The delivery that was to create the incident failed for good: another takes
        over."""
        if incident.owner_id is None:
            return True
        return not Delivery.objects.filter(pk=incident.owner_id).exclude(state="failed").exists()

    def _find_incident(self, key: str) -> dict | None:
        for incident in self._check(self.client.get("incidents", params={"limit": 100})):
            if ((incident.get("metadata") or {}).get("warroom") or {}).get("key") == key:
                return incident
        return None

    @staticmethod
    def _check(response: httpx.Response):
        if response.status_code == 429 or response.status_code >= 500:
            after = response.headers.get("Retry-After")
            raise Retry(
                f"status page answered {response.status_code}",
                after=float(after) if after and after.replace(".", "", 1).isdigit() else None,
            )
        if response.status_code >= 400:
            raise Refused(f"status page refused ({response.status_code}): {response.text[:200]}")
        return response.json()
