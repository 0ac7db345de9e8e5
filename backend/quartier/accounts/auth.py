"""Authentication middleware: resolves a bearer token or a staff session into a Principal.

A request without credentials is anonymous (each operation's guard decides). An invalid or
revoked bearer token is rejected at once with 401, because an integration sending a wrong
token should learn so; an expired session cookie simply counts as signed out.
"""

from __future__ import annotations

from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.accounts import services
from quartier.core.errors import problem_asgi_response
from quartier.core.security import (
    PRINCIPAL_SCOPE_KEY,
    SESSION_TOKEN_SCOPE_KEY,
    Principal,
    session_cookie_name,
)
from quartier.settings import Settings

MAX_CREDENTIAL_LENGTH = 512


def _credentials(scope: Scope, cookie_name: str) -> tuple[str | None, str | None]:
    bearer = session = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                bearer = credential.strip()
        elif name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, cookie_value = part.strip().partition("=")
                if key == cookie_name:
                    session = cookie_value
    return bearer, session


async def _resolve(
    engine: AsyncEngine, bearer: str | None, session_token: str | None
) -> Principal | None:
    async with AsyncSession(engine, expire_on_commit=False) as db, db.begin():
        if bearer is not None:
            return await services.principal_for_token(db, bearer)
        if session_token is not None:
            return await services.principal_for_session(db, session_token)
    return None


def authentication_middleware_factory(settings: Settings) -> Any:
    cookie_name = session_cookie_name(settings.secure_cookies)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["path"].startswith("/static/"):
                await app(scope, receive, send)
                return
            bearer, session_token = _credentials(scope, cookie_name)
            if bearer is not None and (not bearer or len(bearer) > MAX_CREDENTIAL_LENGTH):
                bearer = "invalid"
            if session_token is not None and len(session_token) > MAX_CREDENTIAL_LENGTH:
                session_token = None
            if bearer is not None or session_token is not None:
                engine: AsyncEngine = scope["app"].state["db_config"].get_engine()
                principal = await _resolve(engine, bearer, session_token)
                if bearer is not None and principal is None:
                    await problem_asgi_response(
                        401,
                        detail="The API token is invalid, expired or revoked.",
                        headers={
                            "WWW-Authenticate": 'Bearer realm="quartier", error="invalid_token"'
                        },
                    )(scope, receive, send)
                    return
                if principal is not None:
                    scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]
                    if principal.kind == "staff":
                        scope[SESSION_TOKEN_SCOPE_KEY] = session_token  # type: ignore[literal-required]
            await app(scope, receive, send)

        return middleware

    return factory
