"""Cross-site request forgery protection for cookie-authenticated and form requests.

* A request with a staff session cookie must send a token bound to that session
  (HMAC of the session token) in `X-CSRF-Token` or in the form field `csrf_token`.
* An anonymous form post (sign-in, resident forms) uses the double-submit pattern: the token
  in the form must equal the `__Host-` prefixed CSRF cookie set when the form was shown.
* Requests authenticated by a bearer token carry no ambient authority and need no token; JSON
  bodies cannot be sent cross-site without CORS, which Quartier does not allow.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.core.errors import problem_asgi_response
from quartier.core.middleware import read_body, replay
from quartier.core.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_TOKEN_SCOPE_KEY,
    csrf_cookie_name,
)
from quartier.settings import Settings

CSRF_SCOPE_KEY = "quartier_csrf_token"
_SAFE = {"GET", "HEAD", "OPTIONS", "TRACE"}
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data", b"text/plain")


def session_csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{session_token}".encode(), hashlib.sha256).hexdigest()


class _Token:
    """The request's CSRF token, made only when a page asks for it: API calls and `/health`
    neither pay for a random token nor receive a cookie they will never use."""

    __slots__ = ("_secret", "_session_token", "fresh", "value")

    def __init__(self, secret: str, session_token: str, cookie_value: str | None) -> None:
        self._secret = secret
        self._session_token = session_token
        self.value = cookie_value
        self.fresh = False

    def expected(self) -> str | None:
        if self._session_token:
            return session_csrf_token(self._secret, self._session_token)
        return self.value

    def get(self) -> str:
        if self._session_token:
            return session_csrf_token(self._secret, self._session_token)
        if self.value is None:
            self.value = secrets.token_urlsafe(32)
            self.fresh = True
        return self.value


def csrf_token_for(scope: Scope) -> str:
    """The token a page must embed in its forms (for templates)."""
    token = scope.get(CSRF_SCOPE_KEY)
    return token.get() if isinstance(token, _Token) else ""


def _cookie(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = part.strip().partition("=")
                if cookie_name == name:
                    return cookie_value
    return None


def _form_token(body: bytes, content_type: bytes) -> str | None:
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD)
        return values[0] if values else None
    if content_type.startswith(b"multipart/form-data"):
        marker = f'name="{CSRF_FIELD}"'.encode()
        index = body.find(marker)
        if index >= 0:
            start = body.find(b"\r\n\r\n", index)
            end = body.find(b"\r\n", start + 4)
            if start >= 0 and end >= 0:
                return body[start + 4 : end].decode("utf-8", "replace")
    return None


def csrf_middleware_factory(settings: Settings) -> Any:
    cookie = csrf_cookie_name(settings.secure_cookies)
    attributes = "; Path=/; SameSite=Lax; HttpOnly" + (
        "; Secure" if settings.secure_cookies else ""
    )

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            headers = scope["headers"]
            session_token = str(scope.get(SESSION_TOKEN_SCOPE_KEY) or "")
            token = _Token(settings.secret_key, session_token, _cookie(headers, cookie))
            scope[CSRF_SCOPE_KEY] = token  # type: ignore[literal-required]

            if scope["method"] not in _SAFE:
                header_map = dict(headers)
                content_type = header_map.get(b"content-type", b"").lower()
                is_form = content_type.startswith(_FORM_TYPES)
                if session_token or is_form:
                    given = header_map.get(CSRF_HEADER.encode(), b"").decode("latin-1") or None
                    if given is None and is_form:
                        body, within_limit = await read_body(receive, settings.max_body_bytes)
                        if not within_limit:
                            await problem_asgi_response(413)(scope, receive, send)
                            return
                        given = _form_token(body, content_type)
                        receive = replay(body)
                    expected = token.expected()
                    if not given or not expected or not hmac.compare_digest(given, expected):
                        await problem_asgi_response(
                            403,
                            detail="The form has expired or the CSRF token is missing. "
                            "Reload the page and try again.",
                        )(scope, receive, send)
                        return

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start" and token.fresh:
                    mutable = MutableScopeHeaders.from_message(message)
                    mutable.add("set-cookie", f"{cookie}={token.value}{attributes}")
                await send(message)

            await app(scope, receive, send_with_cookie)

        return middleware

    return factory
