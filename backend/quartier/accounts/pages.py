"""Staff sign-in and sign-out pages (plain HTML forms; the same services as the API)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Response, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services, staff_pages
from quartier.accounts.controllers import open_session, session_cookie
from quartier.core.i18n import gettext as _
from quartier.core.security import PUBLIC, SESSION_TOKEN_SCOPE_KEY, STAFF, access, principal_of
from quartier.core.web import safe_next
from quartier.settings import Settings

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NextPath = Annotated[str | None, QueryParameter(query="next", max_length=2000)]


def _login_page(
    next_path: str, errors: dict[str, str] | None = None, email: str = "", status: int = 200
) -> Template:
    return Template(
        template_name="accounts/login.html",
        context={"next": next_path, "errors": errors or {}, "email": email},
        status_code=status,
    )


@get("/login", include_in_schema=False, **PUBLIC)
async def login_page(request: Request[Any, Any, Any], next_path: NextPath = None) -> Response[Any]:
    """The sign-in form; a signed-in staff member goes straight on."""
    if principal_of(request) is not None:
        return Redirect(safe_next(next_path or "/dashboard"), status_code=303)
    return _login_page(safe_next(next_path or "/dashboard"))


@post("/login", include_in_schema=False, status_code=303, **PUBLIC)
async def login_submit(
    request: Request[Any, Any, Any], db_session: AsyncSession, data: FormData
) -> Response[Any]:
    email = data.get("email", "").strip()[:254]
    password = data.get("password", "")[:256]
    target = safe_next(data.get("next") or "/dashboard")
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Enter your e-mail address")
    if not password:
        errors["password"] = _("Enter your password")
    if errors:
        return _login_page(target, errors, email, status=400)
    try:
        result = await open_session(request, db_session, email, password)
    except services.InvalidCredentials:
        return _login_page(
            target, {"email": _("The e-mail address or the password is wrong")}, email, status=400
        )
    except services.TooManyAttempts:
        return _login_page(
            target,
            {"email": _("Too many failed attempts. Wait a few minutes and try again.")},
            email,
            status=429,
        )
    settings: Settings = request.app.state["settings"]
    return Redirect(
        target,
        status_code=303,
        cookies=[session_cookie(settings, result.session_token, settings.session_max_age_seconds)],
    )


@post("/logout", include_in_schema=False, status_code=303, **access(roles=STAFF))
async def logout_submit(request: Request[Any, Any, Any], db_session: AsyncSession) -> Redirect:
    token = request.scope.get(SESSION_TOKEN_SCOPE_KEY)
    if token:
        await services.sign_out(db_session, str(token))
    settings: Settings = request.app.state["settings"]
    return Redirect("/", status_code=303, cookies=[session_cookie(settings, "", 0)])


PAGES: list[ControllerRouterHandler] = [
    login_page,
    login_submit,
    logout_submit,
    *staff_pages.PAGES,
]
