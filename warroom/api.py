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
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, django_auth

from warroom import http as warroom_http
from warroom import policies
from warroom.api_schemas import (  # noqa: F401 (the apps import them from here)
    FILLED,
    READ_ERRORS,
    WRITE_ERRORS,
    BodyIn,
    ErrorOut,
    FieldProblem,
    responses,
)
from warroom.auth import user_for_token
from warroom.errors import FieldError
from warroom.people.api import router as people_router
from warroom.routing import app_modules


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


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


api.add_router("", people_router)  # the core's own: /api/me, /api/people/{id}
for module in app_modules("api"):
    api.add_router("", module.router)
