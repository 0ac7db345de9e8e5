"""The `webhooks.deliver` job: send one delivery, signed; log the attempt; retry with
exponential backoff for about a day; disable the subscription when a delivery has failed
for that long."""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select

from quartier.jobs.queue import JobContext, Retry, RetryPolicy, job
from quartier.webhooks import signing
from quartier.webhooks.events import DELIVER_KIND
from quartier.webhooks.models import WebhookDelivery, WebhookSubscription

# 30 s, 1 min, 2 min, … capped at 6 h: 14 attempts span about 26 hours.
DELIVERY_RETRY = RetryPolicy(max_attempts=14, base_seconds=30, cap_seconds=6 * 3600)
REQUEST_TIMEOUT_SECONDS = 10.0
USER_AGENT = "Quartier-Webhooks/1"


def current_secrets(subscription: WebhookSubscription, now: datetime.datetime) -> list[str]:
    valid = [subscription.secret]
    if (
        subscription.previous_secret
        and subscription.previous_secret_expires_at
        and subscription.previous_secret_expires_at > now
    ):
        valid.append(subscription.previous_secret)
    return valid


_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    """One client per event loop: its connection pool and TLS context are reused (building a
    TLS context costs more than a delivery)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        for stale in [other for other in _clients if other.is_closed()]:
            del _clients[stale]
        client = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT_SECONDS,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        _clients[loop] = client
    return client


async def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await _client().post(url, content=body, headers=headers)


@job(DELIVER_KIND, retry=DELIVERY_RETRY, timeout_seconds=REQUEST_TIMEOUT_SECONDS + 20)
async def deliver(context: JobContext, payload: dict[str, Any]) -> None:
    session = context.session
    delivery = (
        await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == UUID(payload["delivery_id"]))
            .with_for_update()
        )
    ).one_or_none()
    if delivery is None or delivery.status == "succeeded":
        return  # deleted with its subscription, or already delivered (a replayed job)
    subscription = await session.get_one(WebhookSubscription, delivery.subscription_id)
    now = datetime.datetime.now(datetime.UTC)
    if not subscription.enabled:
        delivery.status = "failed"
        delivery.last_error = "the subscription is disabled"
        return
    body = delivery.body.encode()
    headers = {
        **signing.headers(
            current_secrets(subscription, now), str(delivery.id), int(time.time()), body
        ),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        response = await post(subscription.url, body, headers)
    except httpx.HTTPError as error:
        delivery.last_status_code = None
        delivery.last_error = f"{type(error).__name__}: {error}"[:1000] or type(error).__name__
    else:
        delivery.last_status_code = response.status_code
        if 200 <= response.status_code < 300:
            delivery.status = "succeeded"
            delivery.delivered_at = now
            delivery.last_error = None
            return
        delivery.last_error = f"HTTP {response.status_code}"
    if context.is_last_attempt:
        delivery.status = "failed"
        subscription.enabled = False
        subscription.disabled_at = now
        subscription.disabled_reason = (
            f"Delivery {delivery.id} failed {context.attempt} times over about a day "
            f"(last: {delivery.last_error})."
        )[:500]
        return
    delivery.status = "retrying"
    raise Retry(delivery.last_error or "delivery failed")
