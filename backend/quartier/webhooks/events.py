"""The event types a subscription can ask for, and `emit`, which other modules call.

`await emit(session, "survey.published", {...}, process_id=...)` records one delivery per
matching enabled subscription and enqueues its sending, all in the caller's transaction: a
webhook is sent if and only if the change it reports committed. Event data carries ids and
states, never personal data.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal, get_args
from uuid import UUID

import msgspec
from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from quartier.jobs.queue import enqueue
from quartier.webhooks.models import WebhookDelivery, WebhookSubscription

EventType = Literal[
    "phase.activated",
    "survey.published",
    "survey.closed",
    "idea.submitted",
    "idea.status_changed",
    "measure.status_changed",
    "report.published",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
DELIVER_KIND = "webhooks.deliver"


def _jsonable(value: Any) -> Any:
    return msgspec.to_builtins(value)


async def emit(
    session: AsyncSession, event: str, data: dict[str, Any], *, process_id: UUID | None = None
) -> int:
    """Queue `event` for every enabled subscription to it (and to this process, or to all
    processes). The event's data gets `process_id` when one is given. Returns the number of
    deliveries queued."""
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event!r}")
    condition = WebhookSubscription.enabled & (
        literal(event) == any_(WebhookSubscription.event_types)
    )
    if process_id is None:
        condition &= WebhookSubscription.process_id.is_(None)
    else:
        condition &= WebhookSubscription.process_id.is_(None) | (
            WebhookSubscription.process_id == process_id
        )
    subscriptions = (await session.scalars(select(WebhookSubscription.id).where(condition))).all()
    if not subscriptions:
        return 0
    now = datetime.datetime.now(datetime.UTC)
    if process_id is not None:
        data = {"process_id": process_id, **data}
    body = msgspec.json.encode(
        {"type": event, "timestamp": now.isoformat(), "data": _jsonable(data)}
    ).decode()
    for subscription_id in subscriptions:
        delivery = WebhookDelivery(
            id=uuid7(), subscription_id=subscription_id, event_type=event, body=body
        )
        session.add(delivery)
        await enqueue(
            session, DELIVER_KIND, {"delivery_id": str(delivery.id)}, dedupe_key=f"{delivery.id}"
        )
    await session.flush()
    return len(subscriptions)
