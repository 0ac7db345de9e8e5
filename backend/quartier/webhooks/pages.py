"""Staff pages for webhooks (administrators): subscriptions, a new one, the delivery log with
replay, secret rotation, pausing and re-enabling. Plain forms; the same services as the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import Conflict, InvalidInput
from quartier.core.i18n import gettext as _
from quartier.core.security import ADMINS, access
from quartier.webhooks import schemas as s
from quartier.webhooks import services
from quartier.webhooks.events import EVENT_TYPES
from quartier.webhooks.models import WebhookSubscription

ADMIN = access(roles=ADMINS)
AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 50


async def _processes(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(
        text("SELECT id, title FROM planning_processes ORDER BY title, id LIMIT 500")
    )
    return [(str(row.id), row.title) for row in rows]


async def _list_page(
    session: AsyncSession,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    page = await services.list_subscriptions(session, limit=200, cursor=None)
    return Template(
        template_name="webhooks/list.html",
        context={
            "subscriptions": page.items,
            "event_options": [(event, event) for event in EVENT_TYPES],
            "processes": await _processes(session),
            "errors": errors or {},
            "form": form or {"event_types": [], "url": "", "description": "", "process_id": ""},
        },
        status_code=status,
    )


async def _detail_page(
    session: AsyncSession,
    subscription: WebhookSubscription,
    *,
    secret: str | None = None,
    message: str | None = None,
) -> Template:
    deliveries = await services.list_deliveries(
        session, subscription.id, limit=PAGE_SIZE, cursor=None
    )
    return Template(
        template_name="webhooks/detail.html",
        context={
            "subscription": services.subscription_view(subscription),
            "deliveries": deliveries.items,
            "secret": secret,
            "message": message,
        },
    )


@get("/dashboard/webhooks", name="webhooks:list", include_in_schema=False, **ADMIN)
async def subscriptions_page(db_session: AsyncSession) -> Template:
    return await _list_page(db_session)


@post("/dashboard/webhooks", include_in_schema=False, status_code=200, **ADMIN)
async def create_subscription(request: AnyRequest, db_session: AsyncSession) -> Template:
    form = await request.form()
    values: dict[str, Any] = {
        "url": (form.get("url") or "").strip(),
        "event_types": [v for v in form.getall("event_types") if v]
        if "event_types" in form
        else [],
        "description": (form.get("description") or "").strip(),
        "process_id": form.get("process_id") or "",
    }
    errors: dict[str, str] = {}
    try:
        data = msgspec.convert(
            {**values, "process_id": values["process_id"] or None}, s.WebhookSubscriptionCreate
        )
    except msgspec.ValidationError as error:
        where = str(error)
        if "event_types" in where:
            errors["event_types"] = _("Choose at least one event")
        elif "description" in where:
            errors["description"] = _("The description can have at most 500 characters")
        elif "process_id" in where:
            errors["process_id"] = _("Choose a planning process from the list")
        else:
            errors["url"] = _("Enter the receiver's address, starting with https://")
        return await _list_page(db_session, errors=errors, form=values, status=400)
    try:
        subscription = await services.create_subscription(db_session, data)
    except InvalidInput:
        errors["process_id"] = _("Choose a planning process from the list")
        return await _list_page(db_session, errors=errors, form=values, status=400)
    return await _detail_page(db_session, subscription, secret=subscription.secret)


@get("/dashboard/webhooks/{subscription_id:uuid}", include_in_schema=False, **ADMIN)
async def subscription_page(db_session: AsyncSession, subscription_id: UUID) -> Template:
    subscription = await services.get_subscription(db_session, subscription_id)
    return await _detail_page(db_session, subscription)


@post(
    "/dashboard/webhooks/{subscription_id:uuid}/rotate",
    include_in_schema=False,
    status_code=200,
    **ADMIN,
)
async def rotate_secret(db_session: AsyncSession, subscription_id: UUID) -> Template:
    subscription = await services.rotate_secret(db_session, subscription_id)
    return await _detail_page(db_session, subscription, secret=subscription.secret)


@post(
    "/dashboard/webhooks/{subscription_id:uuid}/enabled",
    include_in_schema=False,
    status_code=303,
    **ADMIN,
)
async def set_enabled(
    request: AnyRequest, db_session: AsyncSession, subscription_id: UUID
) -> Redirect:
    form = await request.form()
    enabled = form.get("enabled") == "true"
    await services.update_subscription(
        db_session, subscription_id, s.WebhookSubscriptionUpdate(enabled=enabled)
    )
    return Redirect(f"/dashboard/webhooks/{subscription_id}", status_code=303)


@post(
    "/dashboard/webhooks/{subscription_id:uuid}/deliveries/{delivery_id:uuid}/replay",
    include_in_schema=False,
    status_code=200,
    **ADMIN,
)
async def replay_delivery(
    db_session: AsyncSession, subscription_id: UUID, delivery_id: UUID
) -> Template:
    try:
        await services.replay_delivery(db_session, subscription_id, delivery_id)
        message = _("The delivery is queued again.")
    except Conflict:
        message = _("The subscription is disabled: enable it before replaying deliveries.")
    subscription = await services.get_subscription(db_session, subscription_id)
    return await _detail_page(db_session, subscription, message=message)


PAGES: list[ControllerRouterHandler] = [
    subscriptions_page,
    create_subscription,
    subscription_page,
    rotate_secret,
    set_enabled,
    replay_delivery,
]
