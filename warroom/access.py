"""Access to a release: "this release, for this user, for this action", audited.

Every view, API endpoint and websocket starts here: the release is looked up (404
when unknown), the person's standing on it is read once, and the policy table is
asked. Access is checked before any input is looked at, so people outside a
release learn nothing about it from error messages.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from warroom import policies
from warroom.audit import release_model

# Primary keys are 64-bit; anything outside is "not found", never a database error.
MAX_ID = 2**63 - 1


def release_for(
    user,
    release_id: int,
    action: policies.Action = policies.Action.VIEW,
    *,
    target: dict | None = None,
) -> tuple[Any, policies.Standing]:
    """``(release, standing)`` when ``user`` may do ``action`` on the release.

    Raises Http404 for an unknown release and :class:`policies.Refused` (audited)
    otherwise. Actions scoped to an object (an item, a role's sign-off, a gate, a
    step) are checked here as far as the release goes — the person must be on it —
    and the service checks the object; a refusal here is still recorded as ``action``.
    """
    release = object_in(release_model().objects.all(), release_id)
    st = policies.standing(user, release)
    if action in policies.OBJECT_SCOPED:
        policies.require(st, policies.Action.VIEW, release, target=target, refused_as=action)
    else:
        policies.require(st, action, release, target=target)
    return release, st


def object_in(queryset: QuerySet, pk: int, **filters):
    """The object with ``pk`` in ``queryset`` narrowed by ``filters``, or Http404."""
    found = queryset.filter(pk=pk, **filters).order_by().first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise Http404(f"no such {queryset.model._meta.verbose_name}")
    return found
