"""The staff page of the need categories (Bedarfskategorien) every module tags with — survey
options, ideas, goals, the services inventory: list them, add one, change its label in every
enabled language and its position, deactivate and reactivate it. Administrators only, as the
API's writes; the page calls the same services (`surveys.services`), so both refuse the same
input. The labels' columns per language are the shared staff form of `core.translations`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from msgspec import Meta, Struct
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, NotFound
from quartier.core.forms import message_for, parse_form
from quartier.core.i18n import gettext as _
from quartier.core.security import ADMINS, access
from quartier.surveys import schemas as s
from quartier.surveys import services
from quartier.surveys.models import NeedCategory

AnyRequest = Request[Any, Any, Any]
Done = Annotated[str | None, QueryParameter(max_length=20)]
PAGE = "/workspace/need-categories"
ADMIN_PAGE = access(roles=ADMINS)
Position = Annotated[int, Meta(ge=0, le=1_000)]


class CategoryForm(Struct, kw_only=True, forbid_unknown_fields=False):
    """The German label and the position (the API's bounds)."""

    label: s.LanguageText
    position: Position = 0


class NewCategoryForm(CategoryForm, kw_only=True, forbid_unknown_fields=False):
    key: s.Key


class LabelText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The label in one language beside German (empty: German is shown, with a note)."""

    label: Annotated[str, Meta(max_length=s.TEXT_MAX)] = ""


def _read(form: Any, kind: type[CategoryForm], current: dict[str, str] | None = None) -> Any:
    """The form as (the Struct of the German label and position, the label in every language
    as the API's `Text`, the errors and values by form field)."""
    result = parse_form(form, kind)
    change, errors, values = shared_translations.read_form(form, LabelText)
    errors = {**result.errors, **errors}
    values = {**result.values, **values}
    if result.data is None or errors:
        return None, None, errors, values
    # Languages the deployment does not enable keep their labels; the enabled ones are as sent.
    label = {
        code: text
        for code, text in (current or {}).items()
        if code not in i18n.LANGUAGES and code != "de"
    }
    label["de"] = result.data.label
    label.update({code: texts["label"] for code, texts in change.items() if texts})
    try:
        return result.data, msgspec.convert(label, s.Text), {}, values
    except msgspec.ValidationError as error:
        return None, None, {"label": message_for(error)}, values


def _values(category: NeedCategory) -> dict[str, Any]:
    return {
        "key": category.key,
        "label": category.label.get("de", ""),
        "position": category.position,
        **{
            f"label_{suffix}": category.label.get(code, "")
            for code, suffix, _name in shared_translations.form_languages()
        },
    }


async def _category(db_session: AsyncSession, category_id: UUID) -> NeedCategory:
    category = await db_session.get(NeedCategory, category_id)
    if category is None:
        raise NotFound(f"No need category {category_id}.")
    return category


def _context(**values: Any) -> dict[str, Any]:
    return {
        "languages": shared_translations.form_languages(),
        "german": i18n.language_names()["de"],
        **values,
    }


async def _list_page(
    db_session: AsyncSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    categories = await services.list_need_categories(db_session, include_inactive=True)
    return Template(
        template_name="workspace/need_categories.html",
        context=_context(
            categories=categories.items,
            given={
                category.id: [i18n.ENDONYMS[code] for code in msgspec.to_builtins(category.label)]
                for category in categories.items
            },
            values=values or {"position": 0},
            errors=errors or {},
            notice=notice,
        ),
        status_code=status,
    )


@get(PAGE, include_in_schema=False, **ADMIN_PAGE)
async def categories_page(db_session: AsyncSession, done: Done = None) -> Template:
    """Every need category, active or not, and the form for a new one."""
    notices = {
        "saved": _("The need category was saved."),
        "deactivated": _("The need category was deactivated."),
        "reactivated": _("The need category was reactivated."),
    }
    return await _list_page(db_session, notice=notices.get(done or ""))


@post(PAGE, include_in_schema=False, status_code=303, **ADMIN_PAGE)
async def create_submit(request: AnyRequest, db_session: AsyncSession) -> Template | Redirect:
    data, label, errors, values = _read(await request.form(), NewCategoryForm)
    if data is None or label is None:
        return await _list_page(db_session, values=values, errors=errors, status=400)
    try:
        await services.create_need_category(
            db_session, s.NeedCategoryCreate(key=data.key, label=label, position=data.position)
        )
    except Conflict:
        errors = {"key": _("A need category with this key exists already")}
        return await _list_page(db_session, values=values, errors=errors, status=409)
    return Redirect(f"{PAGE}?done=saved", status_code=303)


def _edit_page(
    category: NeedCategory, values: dict[str, Any], errors: dict[str, str] | None = None
) -> Template:
    return Template(
        template_name="workspace/need_category.html",
        context=_context(
            category=services.need_category_out(category), values=values, errors=errors or {}
        ),
        status_code=400 if errors else 200,
    )


@get(f"{PAGE}/{{category_id:uuid}}", include_in_schema=False, **ADMIN_PAGE)
async def category_page(db_session: AsyncSession, category_id: UUID) -> Template:
    category = await _category(db_session, category_id)
    return _edit_page(category, _values(category))


@post(f"{PAGE}/{{category_id:uuid}}", include_in_schema=False, status_code=303, **ADMIN_PAGE)
async def category_submit(
    request: AnyRequest, db_session: AsyncSession, category_id: UUID
) -> Template | Redirect:
    category = await _category(db_session, category_id)
    data, label, errors, values = _read(await request.form(), CategoryForm, category.label)
    if data is None or label is None:
        return _edit_page(category, {"key": category.key, **values}, errors)
    await services.update_need_category(
        db_session, category_id, s.NeedCategoryUpdate(label=label, position=data.position)
    )
    return Redirect(f"{PAGE}?done=saved", status_code=303)


@post(f"{PAGE}/{{category_id:uuid}}/active", include_in_schema=False, status_code=303, **ADMIN_PAGE)
async def active_submit(
    request: AnyRequest, db_session: AsyncSession, category_id: UUID
) -> Redirect:
    """Deactivate (no longer offered for tagging; what was tagged keeps it) or reactivate."""
    active = (await request.form()).get("active") == "true"
    await services.update_need_category(
        db_session, category_id, s.NeedCategoryUpdate(is_active=active)
    )
    done = "reactivated" if active else "deactivated"
    return Redirect(f"{PAGE}?done={done}", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    categories_page,
    create_submit,
    category_page,
    category_submit,
    active_submit,
]
