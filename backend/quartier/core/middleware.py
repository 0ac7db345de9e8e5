"""ASGI middleware shared by every route: security headers and media-type checks."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.core.errors import problem_asgi_response
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


def security_headers_middleware(settings: Settings) -> Any:
    headers: list[tuple[bytes, bytes]] = [
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", CSP.encode()),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if settings.is_production:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    mutable = MutableScopeHeaders.from_message(message)
                    for name, value in headers:
                        mutable[name.decode()] = value.decode()
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory


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
