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


class FieldProblem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """Every error the API answers: what went wrong, and per field where it applies."""

    detail: str
    errors: list[FieldProblem] = []
    action: str | None = None


# The statuses every endpoint can answer besides its own; writes add 400 and 409.
READ_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 400: ErrorOut, 409: ErrorOut}


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


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    problems = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        problems.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
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
