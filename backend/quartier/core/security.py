"""Who is calling, and the guards that say who may call what.

Authentication (sessions, API tokens) is done by ``quartier.accounts.auth``, which puts a
:class:`Principal` into the connection scope. Every operation declares its access with
:func:`access` — the declaration is kept in the handler's ``opt`` so that the authorisation
matrix test can compare declarations with behaviour. Anonymous callers of a protected operation
get 401, authenticated callers without the role or scope get 403.
"""

from __future__ import annotations

import enum
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from quartier.core.errors import Forbidden, Unauthorized

PRINCIPAL_SCOPE_KEY = "quartier_principal"
SESSION_TOKEN_SCOPE_KEY = "quartier_session_token"  # noqa: S105 - a scope key, not a secret
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def session_cookie_name(secure: bool) -> str:
    # The __Host- prefix pins the cookie to this host and path / and requires Secure.
    return "__Host-quartier_session" if secure else "quartier_session"


def csrf_cookie_name(secure: bool) -> str:
    return "__Host-quartier_csrf" if secure else "quartier_csrf"


class Role(enum.StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    MODERATOR = "moderator"


# Scopes an API token can carry: what an integrating system may do.
SCOPES: dict[str, str] = {
    "areas:write": "Import and change social areas",
    "processes:read": "Read planning processes including internal notes",
    "processes:write": "Create and change planning processes and organisations",
    "surveys:read": "Read survey definitions and results",
    "surveys:write": "Create and change surveys, enter and import responses",
    "exports:read": "Download aggregated exports",
    "submissions:relay": "Relay residents' submissions under the token's own rate limit",
    "indicators:write": "Import area indicators and link them to need categories",
    "measures:read": "Read goals, draft measures and full feedback summaries",
    "measures:write": "Create and change goals and measures, run consultations",
    "delivery:write": "Enter delivery reports of measures (outputs, reach, spend, criteria)",
    "ideas:read": "Read ideas awaiting moderation and the ideas aggregates",
    "ideas:write": "Give ideas an official status and answer, set ideas settings of processes",
    "ideas:moderate": "Moderate ideas and comments, read the moderation queue and log",
    "inventory:read": "Read inventory rounds and supply beside need",
    "inventory:write": "Record and change organisations' services, run inventory rounds",
    "reports:read": "Read social reports before their release",
    "reports:write": "Write the editorial sections of social reports and release them",
}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller: a staff member (session) or an integration (API token)."""

    kind: Literal["staff", "token"]
    id: UUID
    name: str
    role: Role | None = None
    scopes: frozenset[str] = frozenset()
    session_id: UUID | None = None

    def has_role(self, *roles: Role) -> bool:
        return self.role is not None and self.role in roles


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """Who may call an operation: `public`, or staff with one of `roles`, or a token with one
    of `scopes`."""

    public: bool = False
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[str] = frozenset()

    def permits(self, principal: Principal | None) -> bool:
        if self.public:
            return True
        if principal is None:
            return False
        if principal.kind == "staff":
            return principal.role in self.roles
        return bool(principal.scopes & self.scopes)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    principal = connection.scope.get(PRINCIPAL_SCOPE_KEY)
    return principal if isinstance(principal, Principal) else None


async def _guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Async although it never awaits: Litestar runs a sync guard in a worker thread."""
    rule = handler.opt.get("access")
    if not isinstance(rule, Access):
        raise Forbidden("This operation declares no access rule.")
    principal = principal_of(connection)
    if rule.permits(principal):
        return
    if principal is None:
        raise Unauthorized(
            "Sign in, or send an API token as `Authorization: Bearer …`.",
            headers={"WWW-Authenticate": 'Bearer realm="quartier"'},
        )
    raise Forbidden("Your role or token scopes do not allow this operation.")


def access(
    *, public: bool = False, roles: set[Role] | None = None, scopes: set[str] | None = None
) -> dict[str, Any]:
    """Keyword arguments for a route handler declaring its access rule, e.g.
    ``@get("/", **access(roles={Role.ADMIN}, scopes={"areas:write"}))``."""
    unknown = (scopes or set()) - SCOPES.keys()
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}")
    rule = Access(public=public, roles=frozenset(roles or ()), scopes=frozenset(scopes or ()))
    return {"guards": [_guard], "opt": {"access": rule}}


PUBLIC = access(public=True)
STAFF = {Role.ADMIN, Role.PLANNER, Role.MODERATOR}
PLANNERS = {Role.ADMIN, Role.PLANNER}
ADMINS = {Role.ADMIN}
