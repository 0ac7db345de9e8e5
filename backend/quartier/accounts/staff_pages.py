"""The staff workspace pages of accounts: administrators invite staff, change roles, deactivate
accounts, reset sign-ins and manage API tokens; every staff member changes their own password;
an invited person chooses a password through a one-time sign-in link.

Thin: forms are read by ``core.forms`` into Structs built from the API's own annotated types,
and every change goes through ``accounts.services`` (the same functions the API calls).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Response, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services
from quartier.accounts.controllers import open_session, session_cookie
from quartier.accounts.models import StaffAccount
from quartier.accounts.schemas import DisplayName, Email, NewPassword, Password, ScopeName
from quartier.core.errors import Conflict, InvalidInput
from quartier.core.forms import FormResult, errors_of, read_form
from quartier.core.i18n import gettext as _
from quartier.core.security import ADMINS, PUBLIC, SCOPES, STAFF, Role, access, principal_of
from quartier.processes.phases import N_
from quartier.settings import Settings

AnyRequest = Request[Any, Any, Any]

# English msgids of what the pages show for roles and scopes (the API keeps the keys).
ROLE_NAMES: dict[str, str] = {
    Role.ADMIN: N_("Administrator"),
    Role.PLANNER: N_("Planner"),
    Role.MODERATOR: N_("Moderator"),
}
ROLE_HINTS: dict[str, str] = {
    Role.ADMIN: N_("Everything planners do, and manages staff accounts and API tokens."),
    Role.PLANNER: N_("Runs planning processes, surveys and organisations."),
    Role.MODERATOR: N_("Reads processes and moderates contributions of residents."),
}
SCOPE_NAMES: dict[str, str] = {
    "areas:write": N_("Import and change social areas"),
    "processes:read": N_("Read planning processes including internal notes"),
    "processes:write": N_("Create and change planning processes and organisations"),
    "surveys:read": N_("Read survey definitions and results"),
    "surveys:write": N_("Create and change surveys, enter and import responses"),
    "exports:read": N_("Download aggregated exports"),
    "submissions:relay": N_("Relay residents' submissions under the token's own rate limit"),
    "indicators:write": N_("Import area indicators and link them to need categories"),
    "measures:read": N_("Read goals, draft measures and full feedback summaries"),
    "measures:write": N_("Create and change goals and measures, run consultations"),
    "delivery:write": N_("Enter delivery reports of measures (outputs, reach, spend, criteria)"),
    "ideas:read": N_("Read ideas awaiting moderation and the ideas aggregates"),
    "ideas:write": N_("Give ideas an official status and answer, set ideas settings of processes"),
    "ideas:moderate": N_("Moderate ideas and comments, read the moderation queue and log"),
    "inventory:read": N_("Read inventory rounds and supply beside need"),
    "inventory:write": N_("Record and change organisations' services, run inventory rounds"),
    "reports:read": N_("Read social reports before their release"),
    "reports:write": N_("Write the editorial sections of social reports and release them"),
}
assert SCOPE_NAMES.keys() == SCOPES.keys(), "every scope needs a description for the pages"

Done = Annotated[str | None, QueryParameter(max_length=20)]
TokenName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class InviteForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    display_name: DisplayName
    role: Role


class RoleForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    role: Role


class ChoosePasswordForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    password: NewPassword
    password_confirm: Password


class ChangePasswordForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    current_password: Password
    password: NewPassword
    password_confirm: Password


class TokenForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: TokenName
    scopes: Annotated[list[ScopeName], msgspec.Meta(min_length=1, max_length=len(SCOPES))]
    expires_on: datetime.date | None = None


PASSWORDS = ("password", "password_confirm", "current_password")


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


def _link_url(request: AnyRequest, token: str) -> str:
    return f"{_settings(request).base_url.rstrip('/')}/welcome/{token}"


def _role_options() -> list[dict[str, str]]:
    return [
        {"value": role.value, "text": _(ROLE_NAMES[role]), "hint": _(ROLE_HINTS[role])}
        for role in Role
    ]


def _context(**values: Any) -> dict[str, Any]:
    return {"role_names": ROLE_NAMES, "scope_names": SCOPE_NAMES, **values}


def _passwords_match(form: FormResult[Any]) -> None:
    if (
        "password" not in form.errors
        and "password_confirm" not in form.errors
        and form.values.get("password") != form.values.get("password_confirm")
    ):
        form.errors["password_confirm"] = _("The two passwords are not the same")
        form.data = None


async def _send_link(request: AnyRequest, account: StaffAccount, url: str, purpose: Any) -> bool:
    """Send the link by mail when a sender is configured; False when the admin must pass it on."""
    sender = request.app.state.get(services.SIGN_IN_LINK_SENDER)
    if sender is None:
        return False
    await sender(email=account.email, display_name=account.display_name, url=url, purpose=purpose)
    return True


# -- accounts (administrators) ----------------------------------------------------------------


async def _accounts_page(
    db_session: AsyncSession,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        template_name="accounts/staff_accounts.html",
        context=_context(
            accounts=await services.list_accounts(db_session),
            role_options=_role_options(),
            errors=errors or {},
            values=values or {},
        ),
        status_code=status,
    )


@get("/workspace/accounts", include_in_schema=False, **access(roles=ADMINS))
async def accounts_page(db_session: AsyncSession) -> Template:
    """Staff accounts, and the form to invite a new one."""
    return await _accounts_page(db_session)


@post("/workspace/accounts", include_in_schema=False, status_code=200, **access(roles=ADMINS))
async def invite_submit(request: AnyRequest, db_session: AsyncSession) -> Template:
    form = await read_form(request, InviteForm)
    if form.data is None:
        return await _accounts_page(db_session, errors=form.errors, values=form.values, status=400)
    try:
        account, token = await services.invite_account(
            db_session,
            _settings(request),
            email=form.data.email,
            display_name=form.data.display_name,
            role=form.data.role,
        )
    except Conflict:
        errors = {"email": _("An account with this e-mail address exists already")}
        return await _accounts_page(db_session, errors=errors, values=form.values, status=409)
    except InvalidInput as problem:
        errors = errors_of(problem, {"email": _("Enter an e-mail address like name@example.org")})
        return await _accounts_page(db_session, errors=errors, values=form.values, status=400)
    url = _link_url(request, token)
    sent = await _send_link(request, account, url, "invite")
    return Template(
        template_name="accounts/staff_link.html",
        context=_context(account=account, url=None if sent else url, purpose="invite"),
    )


async def _account_page(
    db_session: AsyncSession,
    account_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    account = await services.get_account(db_session, account_id)
    return Template(
        template_name="accounts/staff_account.html",
        context=_context(
            account=account,
            role_options=_role_options(),
            errors=errors or {},
            notice=notice,
        ),
        status_code=status,
    )


@get("/workspace/accounts/{account_id:uuid}", include_in_schema=False, **access(roles=ADMINS))
async def account_page(db_session: AsyncSession, account_id: UUID, done: Done = None) -> Template:
    """One account: its role, whether it is active, and a new sign-in link."""
    notices = {"role": _("The role was changed."), "status": _("The account was changed.")}
    return await _account_page(db_session, account_id, notice=notices.get(done or ""))


@post(
    "/workspace/accounts/{account_id:uuid}/role",
    include_in_schema=False,
    status_code=303,
    **access(roles=ADMINS),
)
async def role_submit(
    request: AnyRequest, db_session: AsyncSession, account_id: UUID
) -> Response[Any]:
    form = await read_form(request, RoleForm)
    if form.data is None:
        return await _account_page(db_session, account_id, errors=form.errors, status=400)
    account = await services.get_account(db_session, account_id)
    await services.update_account(db_session, account, role=form.data.role)
    return Redirect(f"/workspace/accounts/{account_id}?done=role", status_code=303)


@post(
    "/workspace/accounts/{account_id:uuid}/status",
    include_in_schema=False,
    status_code=303,
    **access(roles=ADMINS),
)
async def status_submit(
    request: AnyRequest, db_session: AsyncSession, account_id: UUID
) -> Response[Any]:
    form = await request.form()
    active = form.get("active") == "true"
    principal = principal_of(request)
    if not active and principal is not None and principal.id == account_id:
        errors = {"active": _("You cannot deactivate your own account.")}
        return await _account_page(db_session, account_id, errors=errors, status=409)
    account = await services.get_account(db_session, account_id)
    await services.update_account(db_session, account, is_active=active)
    return Redirect(f"/workspace/accounts/{account_id}?done=status", status_code=303)


@post(
    "/workspace/accounts/{account_id:uuid}/reset",
    include_in_schema=False,
    status_code=200,
    **access(roles=ADMINS),
)
async def reset_submit(request: AnyRequest, db_session: AsyncSession, account_id: UUID) -> Template:
    """A new one-time sign-in link; the old password and every session stop working."""
    account = await services.get_account(db_session, account_id)
    token = await services.reset_sign_in(db_session, _settings(request), account)
    url = _link_url(request, token)
    sent = await _send_link(request, account, url, "reset")
    return Template(
        template_name="accounts/staff_link.html",
        context=_context(account=account, url=None if sent else url, purpose="reset"),
    )


# -- the sign-in link (public: the person has no password yet) ---------------------------------

LinkToken = Annotated[str, msgspec.Meta(max_length=200)]


def _welcome_page(
    account: StaffAccount, token: str, errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    return Template(
        template_name="accounts/welcome.html",
        context={"account": account, "token": token, "errors": errors or {}},
        status_code=status,
    )


@get("/welcome/{token:str}", include_in_schema=False, **PUBLIC)
async def welcome_page(request: AnyRequest, db_session: AsyncSession, token: str) -> Template:
    """Choose a password with a one-time sign-in link."""
    account = await services.account_for_link(db_session, _settings(request), token)
    return _welcome_page(account, token)


@post("/welcome/{token:str}", include_in_schema=False, status_code=303, **PUBLIC)
async def welcome_submit(
    request: AnyRequest, db_session: AsyncSession, token: str
) -> Response[Any]:
    settings = _settings(request)
    account = await services.account_for_link(db_session, settings, token)
    form = await read_form(request, ChoosePasswordForm, keep_whitespace=PASSWORDS)
    _passwords_match(form)
    if form.data is None:
        return _welcome_page(account, token, form.errors, status=400)
    await services.set_password_by_link(db_session, settings, token, form.data.password)
    result = await open_session(request, db_session, account.email, form.data.password)
    return Redirect(
        "/dashboard",
        status_code=303,
        cookies=[session_cookie(settings, result.session_token, settings.session_max_age_seconds)],
    )


# -- own password (every staff member) ----------------------------------------------------------


def _password_page(
    errors: dict[str, str] | None = None, status: int = 200, done: bool = False
) -> Template:
    return Template(
        template_name="accounts/password.html",
        context={"errors": errors or {}, "done": done},
        status_code=status,
    )


@get("/workspace/password", include_in_schema=False, **access(roles=STAFF))
async def password_page(done: Done = None) -> Template:
    """Change your own password."""
    return _password_page(done=done == "1")


@post("/workspace/password", include_in_schema=False, status_code=303, **access(roles=STAFF))
async def password_submit(request: AnyRequest, db_session: AsyncSession) -> Response[Any]:
    principal = principal_of(request)
    assert principal is not None
    form = await read_form(request, ChangePasswordForm, keep_whitespace=PASSWORDS)
    _passwords_match(form)
    if form.data is None:
        return _password_page(form.errors, status=400)
    try:
        account = await services.change_own_password(
            db_session, principal.id, current=form.data.current_password, new=form.data.password
        )
    except InvalidInput as problem:
        return _password_page(
            errors_of(problem, {"current_password": _("The current password is wrong")}),
            status=400,
        )
    # The change ended every session of the account, this one too: open a fresh one.
    settings = _settings(request)
    result = await open_session(request, db_session, account.email, form.data.password)
    return Redirect(
        "/workspace/password?done=1",
        status_code=303,
        cookies=[session_cookie(settings, result.session_token, settings.session_max_age_seconds)],
    )


# -- API tokens (administrators) ----------------------------------------------------------------


async def _tokens_page(
    db_session: AsyncSession,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    created: tuple[Any, str] | None = None,
    notice: str | None = None,
) -> Template:
    return Template(
        template_name="accounts/tokens.html",
        context=_context(
            tokens=await services.list_tokens(db_session),
            scope_options=[
                {"value": key, "text": key, "hint": _(SCOPE_NAMES[key])} for key in SCOPES
            ],
            errors=errors or {},
            values=values or {},
            created=created,
            notice=notice,
            now=services.now(),
        ),
        status_code=status,
    )


@get("/workspace/tokens", include_in_schema=False, **access(roles=ADMINS))
async def tokens_page(db_session: AsyncSession, done: Done = None) -> Template:
    """API tokens with their scopes, expiry and last use; the form to create one."""
    notice = _("The token was revoked.") if done == "revoked" else None
    return await _tokens_page(db_session, notice=notice)


@post("/workspace/tokens", include_in_schema=False, status_code=200, **access(roles=ADMINS))
async def token_submit(request: AnyRequest, db_session: AsyncSession) -> Template:
    form = await read_form(request, TokenForm)
    data = form.data
    if data is not None and data.expires_on and data.expires_on <= services.now().date():
        form.errors["expires_on"] = _("Choose a date after today")
    if data is None or form.errors:
        return await _tokens_page(db_session, errors=form.errors, values=form.values, status=400)
    principal = principal_of(request)
    expires_at = (
        datetime.datetime.combine(data.expires_on, datetime.time(23, 59, 59), datetime.UTC)
        if data.expires_on
        else None
    )
    token, secret = await services.create_token(
        db_session,
        name=data.name,
        scopes=data.scopes,
        created_by=principal.id if principal else None,
        expires_at=expires_at,
    )
    return await _tokens_page(db_session, created=(token, secret))


@post(
    "/workspace/tokens/{token_id:uuid}/revoke",
    include_in_schema=False,
    status_code=303,
    **access(roles=ADMINS),
)
async def token_revoke(db_session: AsyncSession, token_id: UUID) -> Redirect:
    await services.revoke_token(db_session, token_id)
    return Redirect("/workspace/tokens?done=revoked", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    accounts_page,
    invite_submit,
    account_page,
    role_submit,
    status_submit,
    reset_submit,
    welcome_page,
    welcome_submit,
    password_page,
    password_submit,
    tokens_page,
    token_submit,
    token_revoke,
]
