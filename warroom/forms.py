"""Reading form fields the way every page needs them, with errors that name the field."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from warroom.errors import FieldError


def parse_local_datetime(value: str, field: str) -> datetime | None:
    """A datetime from a form (the page sends UTC with an offset; naive is refused)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(field, "is not a date and time (YYYY-MM-DDTHH:MM)") from None
    if timezone.is_naive(moment):
        raise FieldError(field, "needs a time zone (the page sends UTC, e.g. 2026-12-20T22:00Z)")
    return moment
