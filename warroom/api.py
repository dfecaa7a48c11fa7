"""The JSON API (django-ninja; OpenAPI at /api/openapi.json): wiring only.

Each installed app contributes a ninja ``Router`` as ``<app>.api.router``; the core
mounts them and answers errors the same way everywhere:

- 400 names the field (``{"detail": "field: message", "errors": [{"field", "message"}]}``);
- 401 without a valid token or session; 403 says why (and is audited);
- 404 for an unknown release or object; 409 when the change conflicts with what
  is already recorded (the error carries its own status).

Authenticated with ``Authorization: Bearer <token>`` (``manage.py create_token``)
or the browser session.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, django_auth
from pydantic import model_validator

from warroom import http as warroom_http
from warroom import policies
from warroom.auth import user_for_token
from warroom.errors import FieldError
from warroom.routing import app_modules


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


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


api = NinjaAPI(
    title="Warroom API",
    version="1",
    auth=[BearerToken(), django_auth],
    description="Releases on a T-minus clock, checklists, sign-offs and decisions.",
)
warroom_http.install(api)  # JSON strings every database can store (warroom/http.py)


def _error(request, status: int, detail: str, errors: list[dict] | None = None, **extra):
    return api.create_response(
        request, {"detail": detail, "errors": errors or [], **extra}, status=status
    )


# Pydantic's words for the common cases, as a person filling in a form would put them.
PLAIN_MESSAGES = {"missing": "is required", "string_pattern_mismatch": "must not be empty"}


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    problems = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        message = err.get("msg", "invalid").removeprefix("Value error, ")
        message = PLAIN_MESSAGES.get(err.get("type", ""), message)
        problems.append({"field": ".".join(loc) or "body", "message": message})
    first = problems[0] if problems else {"field": "body", "message": "invalid"}
    return _error(request, 400, f"{first['field']}: {first['message']}", problems)


@api.exception_handler(FieldError)
def field_error(request, exc: FieldError):
    return _error(request, exc.status, str(exc), [{"field": exc.field, "message": exc.message}])


@api.exception_handler(policies.Refused)
def refused(request, exc: policies.Refused):
    return _error(request, 403, exc.reason, action=str(exc.action))


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return _error(request, 401, "log in or send Authorization: Bearer <token>")


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, str(exc) or "not found")


for module in app_modules("api"):
    api.add_router("", module.router)
