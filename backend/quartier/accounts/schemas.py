"""Request and response bodies of the accounts API."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal, get_args
from uuid import UUID

import msgspec

from quartier.core.security import SCOPES, Role

ScopeName = Literal[
    "areas:write",
    "processes:read",
    "processes:write",
    "surveys:read",
    "surveys:write",
    "exports:read",
    "submissions:relay",
    "indicators:write",
    "measures:read",
    "measures:write",
    "delivery:write",
    "ideas:read",
    "ideas:write",
    "ideas:moderate",
    "inventory:read",
    "inventory:write",
    "reports:read",
    "reports:write",
]
assert set(get_args(ScopeName)) == set(SCOPES), "ScopeName must list core.security.SCOPES"

Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        # explicit ranges rather than \s: ECMAScript and Python disagree on what \s covers
        pattern=r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$",
        examples=["planer@example.org"],
    ),
]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
NewPassword = Annotated[
    str, msgspec.Meta(min_length=12, max_length=256, description="At least 12 characters.")
]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    password: Password


class StaffAccountOut(msgspec.Struct, kw_only=True):
    id: UUID
    email: str
    display_name: str
    role: Role
    is_active: bool
    last_login_at: datetime.datetime | None
    created_at: datetime.datetime


class LoginResult(msgspec.Struct, kw_only=True):
    account: StaffAccountOut
    csrf_token: Annotated[
        str, msgspec.Meta(description="Send as `X-CSRF-Token` with every unsafe request.")
    ]
    expires_at: datetime.datetime


class CurrentPrincipal(msgspec.Struct, kw_only=True):
    kind: Literal["staff", "token"]
    id: UUID
    name: str
    role: Role | None
    scopes: list[str]


class StaffAccountCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    display_name: DisplayName
    role: Role
    password: NewPassword


class StaffAccountUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    display_name: DisplayName | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: NewPassword | None = None


class ApiTokenCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ScopeName], msgspec.Meta(min_length=1, max_length=len(SCOPES))]
    expires_at: Annotated[datetime.datetime, msgspec.Meta(tz=True)] | None = None


class ApiTokenOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    token_prefix: str
    scopes: list[str]
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class ApiTokenCreated(msgspec.Struct, kw_only=True):
    token: ApiTokenOut
    secret: Annotated[
        str, msgspec.Meta(description="The token itself. Shown once; only a hash is stored.")
    ]
