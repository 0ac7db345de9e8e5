"""Accounts API: sign-in for staff, staff accounts and API tokens (administrators)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services
from quartier.accounts.models import ApiToken, StaffAccount
from quartier.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenOut,
    CurrentPrincipal,
    LoginRequest,
    LoginResult,
    StaffAccountCreate,
    StaffAccountOut,
    StaffAccountUpdate,
)
from quartier.core.clients import client_address
from quartier.core.csrf import session_csrf_token
from quartier.core.errors import Conflict, Unauthorized
from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problems
from quartier.core.pagination import Cursor, Limit, Page, keyset_page
from quartier.core.security import (
    ADMINS,
    SCOPES,
    SESSION_TOKEN_SCOPE_KEY,
    STAFF,
    Role,
    access,
    principal_of,
    session_cookie_name,
)
from quartier.settings import Settings

TAGS = ["Accounts"]


def account_out(account: StaffAccount) -> StaffAccountOut:
    return StaffAccountOut(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        role=account.role,  # type: ignore[arg-type]
        is_active=account.is_active,
        last_login_at=account.last_login_at,
        created_at=account.created_at,
    )


def token_out(token: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        name=token.name,
        token_prefix=token.token_prefix,
        scopes=list(token.scopes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def session_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=session_cookie_name(settings.secure_cookies),
        value=value,
        path="/",
        max_age=max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


async def open_session(
    request: Request[Any, Any, Any], db_session: AsyncSession, email: str, password: str
) -> services.SignIn:
    """Sign in; a failed attempt is committed (the throttle counts it) before the error."""
    settings: Settings = request.app.state["settings"]
    try:
        return await services.sign_in(
            db_session,
            settings,
            email=email,
            password=password,
            client=client_address(request.scope, settings.trusted_proxies),
        )
    except services.InvalidCredentials:
        await db_session.commit()
        raise


class AuthController(Controller):
    path = "/auth"
    tags = TAGS

    @post(
        "/login",
        operation_id="SignIn",
        summary="Sign in as a staff member",
        description="Checks e-mail address and password and opens a session: the response "
        "sets the `__Host-quartier_session` cookie and returns the CSRF token to "
        "send as `X-CSRF-Token` with unsafe requests. Failed attempts are throttled "
        "per account and per client (429).",
        responses=problems(401, 429),
        status_code=200,
        **access(public=True),
    )
    async def sign_in(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, data: LoginRequest
    ) -> Response[LoginResult]:
        settings: Settings = request.app.state["settings"]
        result = await open_session(request, db_session, data.email, data.password)
        body = LoginResult(
            account=account_out(result.account),
            csrf_token=session_csrf_token(settings.secret_key, result.session_token),
            expires_at=result.expires_at,
        )
        return Response(
            body,
            cookies=[
                session_cookie(settings, result.session_token, settings.session_max_age_seconds)
            ],
        )

    @post(
        "/logout",
        operation_id="SignOut",
        summary="End the staff session",
        description="Ends the current session and clears its cookie.",
        status_code=HTTP_204_NO_CONTENT,
        **access(roles=STAFF),
    )
    async def sign_out(
        self, request: Request[Any, Any, Any], db_session: AsyncSession
    ) -> Response[None]:
        settings: Settings = request.app.state["settings"]
        token = request.scope.get(SESSION_TOKEN_SCOPE_KEY)
        if token:
            await services.sign_out(db_session, str(token))
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(settings, "", 0)]
        )

    @get(
        "/me",
        operation_id="GetCurrentPrincipal",
        summary="Who am I",
        description="The signed-in staff member or the API token making the request, with its "
        "role or scopes.",
        **access(roles=STAFF, scopes=set(SCOPES)),
    )
    async def me(self, request: Request[Any, Any, Any]) -> CurrentPrincipal:
        principal = principal_of(request)
        if principal is None:  # the guard has already refused anonymous callers
            raise Unauthorized("Sign in first.")
        return CurrentPrincipal(
            kind=principal.kind,
            id=principal.id,
            name=principal.name,
            role=principal.role,
            scopes=sorted(principal.scopes),
        )


class StaffAccountController(Controller):
    path = "/staff-accounts"
    tags = TAGS

    @get(
        operation_id="ListStaffAccounts",
        summary="List staff accounts",
        description="All staff accounts, ordered by creation. Administrators only.",
        **access(roles=ADMINS),
    )
    async def list_accounts(
        self, db_session: AsyncSession, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[StaffAccountOut]:
        rows, next_cursor = await keyset_page(
            db_session, select(StaffAccount), [StaffAccount.id], limit=limit, cursor=cursor
        )
        return Page(items=[account_out(a) for a in rows], next_cursor=next_cursor)

    @post(
        operation_id="CreateStaffAccount",
        summary="Create a staff account",
        description="Creates an account with a role (admin, planner, moderator). The password "
        "needs at least 12 characters and is stored as an argon2id hash.",
        responses=problems(409),
        **access(roles=ADMINS),
    )
    @idempotent
    async def create_account(
        self, db_session: AsyncSession, data: StaffAccountCreate
    ) -> Response[StaffAccountOut]:
        account = await services.create_account(
            db_session,
            email=data.email,
            display_name=data.display_name,
            role=data.role,
            password=data.password,
        )
        return Response(
            account_out(account),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"/api/v1/staff-accounts/{account.id}"},
        )

    @get(
        "/{account_id:uuid}",
        operation_id="GetStaffAccount",
        summary="Get a staff account",
        description="One staff account by id.",
        **access(roles=ADMINS),
    )
    async def get_account(self, db_session: AsyncSession, account_id: UUID) -> StaffAccountOut:
        return account_out(await services.get_account(db_session, account_id))

    @patch(
        "/{account_id:uuid}",
        operation_id="UpdateStaffAccount",
        summary="Change a staff account",
        description="Changes name, role, active flag or password. A new password, a new role "
        "or deactivation ends all sessions of the account. Administrators cannot deactivate or "
        "demote their own account (409), so an installation cannot lose its last administrator "
        "by accident.",
        responses=problems(409),
        **access(roles=ADMINS),
    )
    async def update_account(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        account_id: UUID,
        data: StaffAccountUpdate,
    ) -> StaffAccountOut:
        account = await services.get_account(db_session, account_id)
        principal = principal_of(request)
        if (
            principal is not None
            and principal.id == account.id
            and (data.is_active is False or (data.role is not None and data.role != Role.ADMIN))
        ):
            raise Conflict(
                "You cannot deactivate or demote your own account; ask another administrator."
            )
        account = await services.update_account(
            db_session,
            account,
            display_name=data.display_name,
            role=data.role,
            is_active=data.is_active,
            password=data.password,
        )
        return account_out(account)


class ApiTokenController(Controller):
    path = "/api-tokens"
    tags = TAGS

    @get(
        operation_id="ListApiTokens",
        summary="List API tokens",
        description="API tokens for other municipal systems (never the secret itself). "
        "Administrators only.",
        **access(roles=ADMINS),
    )
    async def list_tokens(
        self, db_session: AsyncSession, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[ApiTokenOut]:
        rows, next_cursor = await keyset_page(
            db_session, select(ApiToken), [ApiToken.id], limit=limit, cursor=cursor
        )
        return Page(items=[token_out(t) for t in rows], next_cursor=next_cursor)

    @post(
        operation_id="CreateApiToken",
        summary="Create an API token",
        description="Creates a bearer token with scopes. The secret is in this response only; "
        "Quartier keeps just its hash.",
        **access(roles=ADMINS),
    )
    @idempotent
    async def create_token(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, data: ApiTokenCreate
    ) -> Response[ApiTokenCreated]:
        principal = principal_of(request)
        token, secret = await services.create_token(
            db_session,
            name=data.name,
            scopes=data.scopes,
            created_by=principal.id if principal else None,
            expires_at=data.expires_at,
        )
        return Response(
            ApiTokenCreated(token=token_out(token), secret=secret),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"/api/v1/api-tokens/{token.id}"},
        )

    @delete(
        "/{token_id:uuid}",
        operation_id="RevokeApiToken",
        summary="Revoke an API token",
        description="Revokes the token at once; requests with it then get 401.",
        **access(roles=ADMINS),
    )
    async def revoke_token(self, db_session: AsyncSession, token_id: UUID) -> None:
        await services.revoke_token(db_session, token_id)


API_ROUTES: list[ControllerRouterHandler] = [
    AuthController,
    StaffAccountController,
    ApiTokenController,
]
