"""The API's shared shapes: request bodies, the error answer, the documented statuses.

Apart from :mod:`warroom.api` (the wiring) so the core's own routers (people) and the
apps' routers use them without importing the wiring.
"""

from __future__ import annotations

from ninja import Schema
from pydantic import model_validator


class BodyIn(Schema):
    """A request body: a JSON object (a bare string or list is refused, naming the body)."""

    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, data, handler):
        # Runs before ninja wraps the input for attribute access (which would read any
        # value, a list included, as an object with every field missing).
        if not isinstance(data, dict) and not isinstance(data, Schema):
            raise ValueError("must be a JSON object")
        return handler(data)


class FieldProblem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """Every error the API answers: what went wrong, and per field where it applies."""

    detail: str
    errors: list[FieldProblem] = []
    action: str | None = None


# The statuses every endpoint can answer besides its own (400: a path or query value
# that is not of its type); writes add 409.
READ_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 409: ErrorOut}
# A text field a person must fill in: at least one character that is not a space.
FILLED = r"\S"


def responses(ok: dict[int, object], errors: dict[int, type[Schema]] = READ_ERRORS) -> dict:
    """A ninja ``response=`` mapping: the success shapes plus the documented errors."""
    return {**errors, **ok}
