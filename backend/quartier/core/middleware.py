"""ASGI middleware shared by every route: security headers and media-type checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.core.errors import FieldError, problem_asgi_response
from quartier.core.i18n import current_language_of
from quartier.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(self), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


def security_headers_hook(settings: Settings, allow_by_handler: dict[int, str]) -> Any:
    """A `before_send` hook: unlike route middleware it also covers unmatched routes (404).

    It also corrects `Allow` on automatic OPTIONS answers: Litestar computes it from the route
    as it was before handlers of the same path were merged, so it can miss methods.
    `allow_by_handler` maps the OPTIONS handler's id to the path's full method list."""
    headers: list[tuple[str, str]] = [
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", CSP),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if settings.is_production:
        headers.append(("strict-transport-security", "max-age=63072000; includeSubDomains"))

    raw = [(name.encode(), value.encode()) for name, value in headers]
    ours = {name for name, _ in raw}

    async def before_send(message: Message, scope: Scope) -> None:
        # On the raw header list: this runs for every response.
        if message["type"] != "http.response.start":
            return
        result = [
            (name, value)
            for name, value in message.get("headers") or ()
            if name.lower() not in ours
        ]
        result.extend(raw)
        if not any(name.lower() == b"content-language" for name, _ in result):
            # No language middleware ran (an unmatched route, a probe): the language comes
            # from the request here, so caches must know it varies.
            result.append((b"content-language", current_language_of(scope).encode()))
            vary = [value for name, value in result if name.lower() == b"vary"]
            result = [(name, value) for name, value in result if name.lower() != b"vary"]
            result.append((b"vary", b", ".join([*vary, b"Accept-Language"])))
        if scope.get("method") == "OPTIONS":
            allow = allow_by_handler.get(id(scope.get("route_handler")))
            if allow is not None:
                result = [
                    (name, allow.encode() if name.lower() == b"allow" else value)
                    for name, value in result
                ]
        message["headers"] = result

    return before_send


def allowed_methods_by_options_handler(routes: Iterable[Any]) -> dict[int, str]:
    """For each route's OPTIONS handler, the methods the whole path supports."""
    allow: dict[int, str] = {}
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                allow[id(handler)] = ", ".join(sorted(route.methods))
    return allow


_BODY_METHODS = {"POST", "PUT", "PATCH"}


def media_type_middleware(api_prefix: str) -> Any:
    """API request bodies must be JSON: anything else is 415, before the handler parses it."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == ScopeType.HTTP
                and scope["method"] in _BODY_METHODS
                and scope["path"].startswith(api_prefix)
            ):
                header_map = dict(scope["headers"])
                content_type = header_map.get(b"content-type", b"").split(b";")[0].strip().lower()
                has_body = header_map.get(b"content-length", b"0") != b"0" or (
                    b"transfer-encoding" in header_map
                )
                if has_body and not (
                    content_type == b"application/json" or content_type.endswith(b"+json")
                ):
                    response = problem_asgi_response(
                        415,
                        detail="Send the request body as application/json.",
                        headers={"Accept-Post": "application/json"},
                    )
                    await response(scope, receive, send)
                    return
            await app(scope, receive, send)

        return middleware

    return factory


def _nul_paths(value: Any, path: str = "") -> list[str]:
    """Paths (`a.b[0]`) of the strings in a decoded JSON value that contain NUL."""
    found: list[str] = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append(path or "(body)")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                found.append(f"{path}.{key!r}" if path else repr(key))
            found.extend(_nul_paths(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_nul_paths(item, f"{path}[{index}]"))
    return found


# Bounds of the language inputs every operation takes (core.openapi declares them).
LANG_MAX = 35  # a BCP 47 tag such as `de-x-simple` with room to spare
ACCEPT_LANGUAGE_MAX = 500


def _language_errors(scope: Scope) -> list[FieldError]:
    """`lang` and `Accept-Language` beyond their bounds (an unknown value is only ignored)."""
    errors: list[FieldError] = []
    query = scope.get("query_string", b"")
    if b"lang=" in query:
        for name, value in parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True):
            if name == "lang" and len(value) > LANG_MAX:
                errors.append(
                    FieldError(
                        field="lang", source="query", message=f"at most {LANG_MAX} characters"
                    )
                )
                break
    for header, raw in scope["headers"]:
        if (
            header == b"accept-language"
            and len(raw.decode("utf-8", "replace")) > ACCEPT_LANGUAGE_MAX
        ):
            errors.append(
                FieldError(
                    field="Accept-Language",
                    source="header",
                    message=f"at most {ACCEPT_LANGUAGE_MAX} characters",
                )
            )
            break
    return errors


def nul_guard_middleware(max_body_bytes: int) -> Any:
    """Refuse NUL characters in path, query and body with 400 naming the field, and language
    inputs beyond their bounds (`lang`, `Accept-Language`).

    PostgreSQL cannot store NUL in text, and no Quartier input needs it; without this guard a
    NUL would travel to the database and fail there. The contract states it with a pattern on
    every request string (core.openapi.close_request_schemas)."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            errors: list[FieldError] = []
            if "\x00" in scope["path"]:  # the server has percent-decoded the path
                errors.append(
                    FieldError(
                        field="(path)", source="path", message="NUL characters are not allowed"
                    )
                )
            query = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:
                for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                    if "\x00" in name or "\x00" in value:
                        errors.append(
                            FieldError(
                                field=name.replace("\x00", "") or "(query)",
                                source="query",
                                message="NUL characters are not allowed",
                            )
                        )
            if scope["method"] in _BODY_METHODS and not errors:
                limit = _body_limit(scope, max_body_bytes)
                body, complete = await read_body(receive, limit)
                if not complete:
                    await problem_asgi_response(413)(scope, receive, send)
                    return
                receive = replay(body)
                errors.extend(_body_nul_errors(body, scope))
            if errors:
                await problem_asgi_response(
                    400,
                    detail="NUL characters are not allowed in any input.",
                    errors=errors,
                )(scope, receive, send)
                return
            too_long = _language_errors(scope)
            if too_long:
                await problem_asgi_response(
                    400, detail="The language input is too long.", errors=too_long
                )(scope, receive, send)
                return
            await app(scope, receive, send)

        return middleware

    return factory


def _body_limit(scope: Scope, default: int) -> int:
    handler = scope.get("route_handler")
    resolve = getattr(handler, "resolve_request_max_body_size", None)
    limit = resolve() if callable(resolve) else None
    return int(limit) if isinstance(limit, int) else default


def _body_nul_errors(body: bytes, scope: Scope) -> list[FieldError]:
    if b"\\u0000" not in body and b"\x00" not in body and b"%00" not in body:
        return []
    content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip()
    if content_type == b"application/json" or content_type.endswith(b"+json"):
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return []  # malformed JSON is answered by the normal parsing (400)
        return [
            FieldError(field=path, source="body", message="NUL characters are not allowed")
            for path in _nul_paths(decoded)
        ]
    if content_type == b"application/x-www-form-urlencoded":
        return [
            FieldError(
                field=name.replace("\x00", ""),
                source="body",
                message="NUL characters are not allowed",
            )
            for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            if "\x00" in name or "\x00" in value
        ]
    if content_type == b"multipart/form-data":
        # Uploaded files are binary (an .xlsx holds NUL bytes); only the text fields are checked.
        text_parts = [
            part
            for part in body.split(b"\r\n--")
            if b'filename="' not in part.split(b"\r\n\r\n", 1)[0]
        ]
        if not any(b"\x00" in part for part in text_parts):
            return []
    if b"\x00" in body:
        return [FieldError(field="(body)", source="body", message="NUL characters are not allowed")]
    return []


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole request body, or (b"", False) once it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes) -> Receive:
    """A `receive` that hands an already-read body to the next layer."""
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
