"""ASGI middleware shared by every route: security headers and media-type checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.core.errors import problem_asgi_response
from quartier.core.i18n import current_language_of
from quartier.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'; base-uri 'none'"
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

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            mutable = MutableScopeHeaders.from_message(message)
            for name, value in headers:
                mutable[name] = value
            if "content-language" not in mutable:
                mutable["content-language"] = current_language_of(scope)
            if scope.get("method") == "OPTIONS":
                allow = allow_by_handler.get(id(scope.get("route_handler")))
                if allow is not None and "allow" in mutable:
                    mutable["allow"] = allow

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
