"""HTTP input limits that hold for every app: body size, and JSON text every database stores.

- :class:`BodyLimit` (ASGI, wraps Django in ``warroom/asgi.py``) refuses a body over
  ``REQUEST_BODY_MAX_BYTES`` before it is read — by its Content-Length, or while a
  chunked body streams in — with a 413 that names the limit.
- :func:`bad_request` (``handler400``) answers Django's own refusals (a body too big,
  too many fields, a Host not in ``ALLOWED_HOSTS``) the same way instead of the bare
  "Bad Request (400)" page.
- :func:`install` gives the ninja API a JSON parser that refuses, with a 400 naming the
  field, any string that cannot be stored (NUL, lone surrogates: :mod:`warroom.validation`).

Each answer is JSON under ``/api/``, plain text for htmx (shown in the page's toast) and
a page for a browser form.
"""

from __future__ import annotations

import json
import logging
from html import escape

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from ninja.errors import HttpError
from ninja.parser import Parser

from warroom.errors import FieldError
from warroom.validation import first_text_problem

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def human_size(n: int) -> str:
    """``6291456`` -> ``"6.0 MB"`` (binary megabytes, as the settings are written)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def body_too_large_message(size: int | None, limit: int) -> str:
    """Says how big the body was (when known) and names the limit and its setting."""
    told = f"is {human_size(size)}" if size is not None else "is larger than that"
    return (
        f"The request body {told}; Warroom accepts at most {human_size(limit)} "
        f"({limit} bytes, REQUEST_BODY_MAX_BYTES)."
    )


def _is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


def _error_json(message: str, field: str, **extra) -> dict:
    return {"detail": message, "errors": [{"field": field, "message": message}], **extra}


def _page(title: str, message: str) -> str:
    """A page with no script and no inline style (the CSP holds for error pages too)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · Warroom</title>"
        f'<link rel="stylesheet" href="{escape(static("warroom/warroom.css"))}"></head>'
        f'<body><main class="page"><div class="card"><h1>{escape(title)}</h1>'
        f'<p>{escape(message)}</p><p><a href="/">Back to releases</a></p></div></main>'
        "</body></html>"
    )


class BodyLimit:
    """ASGI middleware: a request body over ``REQUEST_BODY_MAX_BYTES`` is refused unread.

    Django checks ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only against Content-Length, and only
    after its ASGI handler has spooled the whole body to memory or disk; a chunked body
    has no Content-Length at all. This refuses first, so a 10 GB body costs nothing.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.REQUEST_BODY_MAX_BYTES
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                return await self._refuse(scope, send, declared, limit)
            # The server delivers exactly Content-Length bytes: nothing more to count.
            return await self.app(scope, receive, send)

        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            return await self.app(scope, counting_receive, send)
        except _TooLarge:
            # Raised while Django was still reading the body: no response has started.
            return await self._refuse(scope, send, None, limit)

    async def _refuse(self, scope, send, size: int | None, limit: int) -> None:
        path = scope.get("path", "")
        message = body_too_large_message(size, limit)
        logger.warning("refused %s %s: %s", scope.get("method", ""), path, message)
        headers = dict(scope.get("headers", []))
        if _is_api(path):
            ctype = "application/json"
            body = json.dumps(_error_json(message, "body", limit_bytes=limit)).encode()
        elif headers.get(b"hx-request") == b"true":
            ctype, body = "text/plain; charset=utf-8", message.encode()
        else:
            ctype, body = "text/html; charset=utf-8", _page("Request too large", message).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", ctype.encode()),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read: the connection cannot be reused.
                    (b"connection", b"close"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", b"default-src 'none'; style-src 'self'"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: Django's own refusals, answered in the caller's language."""
    status, title, field = 400, "Bad request", "body"
    if isinstance(exception, RequestDataTooBig):
        size = request.META.get("CONTENT_LENGTH")
        status, title = 413, "Request too large"
        message = body_too_large_message(
            int(size) if size and size.isdigit() else None, settings.REQUEST_BODY_MAX_BYTES
        )
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = (
            f"The form has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields "
            "(DATA_UPLOAD_MAX_NUMBER_FIELDS)."
        )
    elif isinstance(exception, DisallowedHost):
        # The refused host name is not repeated back.
        field, message = "host", "This server does not answer to that host name."
    else:
        message = "The request could not be understood."
    path = request.path_info
    if _is_api(path):
        return JsonResponse(_error_json(message, field), status=status)
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    html: str
    try:
        html = render_to_string("warroom/400.html", {"title": title, "message": message})
    except Exception:  # the refusal must answer even when the page cannot render
        html = _page(title, message)
    return HttpResponse(html, status=status)


class StorableJsonParser(Parser):
    """ninja's JSON parser, refusing strings that no database can store as text."""

    def parse_body(self, request: HttpRequest):
        data = json.loads(request.body)
        problem = first_text_problem(data)
        if problem is not None:
            raise FieldError(*problem)
        return data


def install(api) -> None:
    """Give a NinjaAPI the storable-text JSON parser and the 400 that names the field.

    ninja wraps any parser exception in ``HttpError(400, "Cannot parse request body")``;
    the handler below answers with the :class:`FieldError` inside instead.
    """
    api.parser = StorableJsonParser()

    def http_error(request, exc: HttpError):
        cause = exc.__cause__
        if isinstance(cause, FieldError):
            problem = {"field": cause.field, "message": cause.message}
            return api.create_response(
                request, {"detail": str(cause), "errors": [problem]}, status=400
            )
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    api.add_exception_handler(HttpError, http_error)


# --- a dependency away: 503 with Retry-After, the request retried once where safe -------
RETRY_AFTER = "5"
# What Django itself answers with a 4xx (its own handlers say why).
_DJANGO_ANSWERS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a dependency (the database, Redis) is away, not a bug."""
    import redis
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)


def _answer(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _is_api(request.path):
        response: HttpResponse = JsonResponse(_error_json(message, "server"), status=status)
    elif request.headers.get("HX-Request"):
        response = HttpResponse(message, status=status, content_type="text/plain")
    else:
        response = HttpResponse(_page(title, message), status=status)
    return response


class Unavailable:
    """Django middleware: no request answers an HTML 500 because a dependency blinked.

    - The database or Redis away (a dead pooled connection, a restart): 503 with
      ``Retry-After``, JSON under ``/api/``. A request that is safe to repeat — a read,
      or a write carrying an ``Idempotency-Key`` — is first run once more on a fresh
      connection, which usually answers it.
    - Any other error under ``/api/``: 500 JSON (logged), never Django's HTML page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(response, "dependency_unavailable", False) and self._may_repeat(request):
            from django.db import close_old_connections

            close_old_connections()  # drops the connection that failed
            logger.warning(
                "%s %s: a dependency failed; trying once more", request.method, request.path
            )
            response = self.get_response(request)
        return response

    @staticmethod
    def _may_repeat(request: HttpRequest) -> bool:
        return request.method in SAFE_METHODS or bool(request.headers.get("Idempotency-Key"))

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, unavailable_errors()):
            logger.warning(
                "%s %s: %s: %s", request.method, request.path, type(exception).__name__, exception
            )
            response = _answer(
                request,
                503,
                "Briefly unavailable",
                f"A service Warroom needs is unavailable ({type(exception).__name__}); "
                f"try again in {RETRY_AFTER} seconds.",
            )
            response["Retry-After"] = RETRY_AFTER
            response.dependency_unavailable = True  # type: ignore[attr-defined]
            return response
        if _is_api(request.path) and not isinstance(exception, _DJANGO_ANSWERS):
            logger.exception("%s %s failed", request.method, request.path)
            return _answer(
                request, 500, "Server error", "The server failed to answer this request."
            )
        return None
