"""Errors that name what was wrong, for forms, the API and management commands."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class FieldError(ValueError):
    """Bad input in one field: ``field`` names it, the message says what is wrong.

    ``status`` is the HTTP status the API answers with (400; a conflict with what is
    already recorded is 409), so no handler needs to know the subclasses.
    """

    status = 400

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(FieldError):
    """The change conflicts with what is already recorded (HTTP 409)."""

    status = 409


class Refused(PermissionDenied):
    """A refused action (``action`` names it, as in :class:`warroom.policies.Action`); the
    refusal has already been recorded in the audit log."""

    def __init__(self, action: str, reason: str):
        super().__init__(reason)
        self.action = action
        self.reason = reason
