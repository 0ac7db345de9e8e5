"""RFC 9457 problem details: the one shape of every error Quartier answers with.

Domain code raises :class:`Problem` (or one of its subclasses); framework errors (validation,
404, 405, 413, 415) and unexpected exceptions are translated here. No stack trace, SQL text or
internal name ever leaves the process: unexpected errors are logged with a correlation id, and
the response carries only that id.
"""

from __future__ import annotations

import logging
import re
import uuid
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response.base import ASGIResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


class FieldError(msgspec.Struct, kw_only=True):
    """One invalid input: where it is (`source`, `field` as a dotted path) and what is wrong."""

    field: Annotated[
        str, msgspec.Meta(description="Dotted path of the input, e.g. `items[0].code`")
    ]
    source: Annotated[str, msgspec.Meta(description="body, query, path, header or cookie")]
    message: str


class ProblemDetails(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details."""

    type: Annotated[str, msgspec.Meta(description="URI reference identifying the problem type")]
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    correlation_id: str | None = None


class Problem(Exception):
    """A domain error answered as problem+json. Subclass or instantiate with a slug."""

    status_code: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.errors = errors
        self.headers = headers or {}


class NotFound(Problem):
    status_code, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status_code, slug, title = 409, "conflict", "Conflict"


class Unprocessable(Problem):
    status_code, slug, title = 422, "unprocessable", "Unprocessable request"


class InvalidInput(Problem):
    """Input that matches the contract but that the domain refuses (an unknown reference, an
    invalid cursor, a business rule): 422, naming the fields in `errors`. Input that does not
    match the contract is refused by Litestar's validation before any service runs (400)."""

    status_code, slug, title = 422, "invalid-input", "Invalid input"


class PhaseClosed(Problem):
    status_code, slug, title = 409, "phase-closed", "Participation is not open in this phase"


class Unauthorized(Problem):
    status_code, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status_code, slug, title = 403, "forbidden", "Not allowed"


class ServiceUnavailable(Problem):
    status_code, slug, title = 503, "service-unavailable", "Service temporarily unavailable"


# Problem types that can occur on any operation, documented once (see core.openapi).
STATUS_SLUGS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Unprocessable request"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("service-unavailable", "Service temporarily unavailable"),
}

_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `([^`]+)`")
# Litestar reports a missing required parameter in the detail only (`extra` is None).
_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    correlation_id: str | None = None,
) -> Response[ProblemDetails]:
    default_slug, default_title = STATUS_SLUGS.get(status, ("error", _phrase(status)))
    body = ProblemDetails(
        type=PROBLEM_BASE + (slug or default_slug),
        title=title or default_title,
        status=status,
        detail=detail,
        errors=errors,
        correlation_id=correlation_id,
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_asgi_response(
    status: int,
    *,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> ASGIResponse:
    """A problem response for middleware, which runs before Litestar's exception handling."""
    slug, title = STATUS_SLUGS[status]
    if errors:
        slug, title = "validation-error", "Invalid input"
    body = ProblemDetails(
        type=PROBLEM_BASE + slug, title=title, status=status, detail=detail, errors=errors
    )
    return ASGIResponse(
        body=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _field_errors(extra: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "")
        source = item.get("source") or "body"
        # Litestar gives a ParamType enum: the contract says `query`, not `ParamType.QUERY`
        source = str(getattr(source, "value", source))
        if key == "data":  # Litestar names the whole body `data`
            key = ""
        if source == "header":  # the header, not the Python parameter (idempotency_key)
            key = key.replace("_", "-").title()
        for pattern in (_UNKNOWN_FIELD, _MISSING_FIELD):
            if match := pattern.search(message):
                key = f"{key}.{match.group(1)}" if key else match.group(1)
        errors.append(FieldError(field=key or "(body)", source=source, message=message))
    return errors


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    """Browsers on the web pages get HTML error pages; the API always answers problem+json."""
    if request.url.path.startswith(("/api/", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _html_error(request: Request[Any, Any, Any], status: int, detail: str | None) -> Response[Any]:
    from urllib.parse import quote

    from litestar.response import Redirect, Template

    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)
    from quartier.core import i18n

    _, title = STATUS_SLUGS.get(status, ("error", _phrase(status)))
    # An unknown path never reaches the route middleware (language, authentication), so the
    # error page negotiates its language itself.
    language = i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )
    i18n.set_language(language)
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": title, "detail": detail},
        status_code=status,
        headers={"Content-Language": language},
    )


def _problem_handler(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    if _wants_html(request):
        return _html_error(request, exc.status_code, exc.detail)
    return problem_response(
        exc.status_code,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if _wants_html(request) and status in (401, 403, 404, 405):
        return _html_error(request, status, None)
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc.extra)
        if not errors and (missing := _MISSING_PARAMETER.search(exc.detail)):
            errors = [
                FieldError(field=missing.group(2), source=missing.group(1), message="required")
            ]
        names = ", ".join(e.field for e in errors) or "the request"
        return problem_response(
            400,
            slug="validation-error",
            title="Invalid input",
            detail=f"Invalid value for {names}.",
            errors=errors,
        )
    detail: str | None = exc.detail
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        return problem_response(
            400,
            slug="malformed-json",
            title="Malformed JSON",
            detail="The request body is not valid JSON.",
        )
    if status >= 500:
        detail = None  # never echo internals
    elif detail == _phrase(status):
        detail = None
    headers = dict(exc.headers or {})
    return problem_response(status, detail=detail, headers=headers or None)


def _database_unavailable_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[ProblemDetails]:
    if (
        isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and not isinstance(exc, OperationalError | InterfaceError)
    ):
        return _internal_error_handler(request, exc)
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem_response(
        503,
        detail="The database is not reachable right now; retry shortly.",
        headers={"Retry-After": "5"},
    )


def _internal_error_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[ProblemDetails]:
    correlation_id = str(uuid.uuid4())
    log.error(
        "unhandled error %s on %s %s",
        correlation_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return problem_response(
        500,
        correlation_id=correlation_id,
        detail="Something went wrong on our side. Quote the correlation id when you report it.",
    )


def _os_error_handler(request: Request[Any, Any, Any], exc: OSError) -> Response[ProblemDetails]:
    # asyncpg raises ConnectionRefusedError / OSError while the server is down.
    return _database_unavailable_handler(request, exc)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    Problem: _problem_handler,
    HTTPException: _http_exception_handler,
    OperationalError: _database_unavailable_handler,
    InterfaceError: _database_unavailable_handler,
    DBAPIError: _database_unavailable_handler,
    OSError: _os_error_handler,
    Exception: _internal_error_handler,
}
