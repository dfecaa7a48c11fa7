"""Errors that name what was wrong, for forms, the API and management commands."""

from __future__ import annotations


class FieldError(ValueError):
    """Bad input in one field: ``field`` names it, the message says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
