"""Managing webhook subscriptions (administrators) and their delivery log."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound
from quartier.core.pagination import Page, decode_cursor, encode_cursor, keyset_page
from quartier.jobs.queue import enqueue
from quartier.webhooks import schemas as s
from quartier.webhooks import signing
from quartier.webhooks.events import DELIVER_KIND
from quartier.webhooks.models import WebhookDelivery, WebhookSubscription

# How long the previous secret keeps signing after a rotation.
ROTATION_OVERLAP = datetime.timedelta(hours=24)


def subscription_view(subscription: WebhookSubscription) -> s.WebhookSubscription:
    return s.WebhookSubscription(
        id=subscription.id,
        url=subscription.url,
        event_types=list(subscription.event_types),
        process_id=subscription.process_id,
        description=subscription.description,
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
        previous_secret_expires_at=subscription.previous_secret_expires_at,
        created_at=subscription.created_at,
    )


def with_secret(subscription: WebhookSubscription) -> s.WebhookSubscriptionWithSecret:
    view = subscription_view(subscription)
    fields: dict[str, Any] = {f: getattr(view, f) for f in view.__struct_fields__}
    return s.WebhookSubscriptionWithSecret(**fields, secret=subscription.secret)


def delivery_view(delivery: WebhookDelivery) -> s.WebhookDelivery:
    return s.WebhookDelivery(
        id=delivery.id,
        subscription_id=delivery.subscription_id,
        event_type=delivery.event_type,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


async def _process_exists(session: AsyncSession, process_id: UUID) -> None:
    found = await session.scalar(
        text("SELECT 1 FROM planning_processes WHERE id = :id"), {"id": process_id}
    )
    if not found:
        raise InvalidInput(
            "There is no planning process with this id.",
            errors=[FieldError(field="process_id", source="body", message="unknown process")],
        )


async def create_subscription(
    session: AsyncSession, data: s.WebhookSubscriptionCreate
) -> WebhookSubscription:
    if data.process_id is not None:
        await _process_exists(session, data.process_id)
    subscription = WebhookSubscription(
        id=uuid7(),
        url=data.url,
        event_types=sorted(set(data.event_types)),
        process_id=data.process_id,
        description=data.description,
        secret=signing.new_secret(),
        enabled=True,
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def get_subscription(
    session: AsyncSession, subscription_id: UUID, *, lock: bool = False
) -> WebhookSubscription:
    statement = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if lock:
        statement = statement.with_for_update()
    subscription = (await session.scalars(statement)).one_or_none()
    if subscription is None:
        raise NotFound("There is no webhook subscription with this id.")
    return subscription


async def list_subscriptions(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[s.WebhookSubscription]:
    rows, next_cursor = await keyset_page(
        session, select(WebhookSubscription), [WebhookSubscription.id], limit=limit, cursor=cursor
    )
    return Page(items=[subscription_view(r) for r in rows], next_cursor=next_cursor)


async def update_subscription(
    session: AsyncSession, subscription_id: UUID, data: s.WebhookSubscriptionUpdate
) -> WebhookSubscription:
    subscription = await get_subscription(session, subscription_id, lock=True)
    if data.url is not None:
        subscription.url = data.url
    if data.event_types is not None:
        subscription.event_types = sorted(set(data.event_types))
    if data.description is not None:
        subscription.description = data.description
    if data.enabled is True:
        enable(subscription)
    elif data.enabled is False:
        disable(subscription, "Disabled by an administrator.")
    await session.flush()
    return subscription


def enable(subscription: WebhookSubscription) -> None:
    subscription.enabled = True
    subscription.disabled_at = None
    subscription.disabled_reason = None


def disable(subscription: WebhookSubscription, reason: str) -> None:
    if subscription.enabled:
        subscription.enabled = False
        subscription.disabled_at = datetime.datetime.now(datetime.UTC)
        subscription.disabled_reason = reason


async def delete_subscription(session: AsyncSession, subscription_id: UUID) -> None:
    subscription = await get_subscription(session, subscription_id, lock=True)
    await session.delete(subscription)
    await session.flush()


async def rotate_secret(session: AsyncSession, subscription_id: UUID) -> WebhookSubscription:
    """A new secret signs from now on; the old one keeps signing beside it for a day."""
    subscription = await get_subscription(session, subscription_id, lock=True)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = datetime.datetime.now(datetime.UTC) + ROTATION_OVERLAP
    subscription.secret = signing.new_secret()
    await session.flush()
    return subscription


async def list_deliveries(
    session: AsyncSession, subscription_id: UUID, *, limit: int, cursor: str | None
) -> Page[s.WebhookDelivery]:
    """The delivery log, newest first (ids are UUIDv7, so ordered by time)."""
    await get_subscription(session, subscription_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        statement = statement.where(WebhookDelivery.id < before)
    rows = list(
        await session.scalars(statement.order_by(WebhookDelivery.id.desc()).limit(limit + 1))
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].id])
    return Page(items=[delivery_view(r) for r in rows], next_cursor=next_cursor)


async def replay_delivery(
    session: AsyncSession, subscription_id: UUID, delivery_id: UUID
) -> WebhookDelivery:
    """Send a delivery again (same `webhook-id` and body, a fresh signature and timestamp)."""
    subscription = await get_subscription(session, subscription_id)
    delivery = (
        await session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.subscription_id == subscription_id,
            )
            .with_for_update()
        )
    ).one_or_none()
    if delivery is None:
        raise NotFound("This subscription has no delivery with this id.")
    if not subscription.enabled:
        raise Conflict(
            "The subscription is disabled: enable it before replaying deliveries.",
            slug="webhook-disabled",
            title="Webhook subscription disabled",
        )
    delivery.status = "pending"
    await enqueue(session, DELIVER_KIND, {"delivery_id": str(delivery.id)})
    await session.flush()
    return delivery
