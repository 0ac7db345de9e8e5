"""Webhooks API (administrators): subscriptions, secret rotation, the delivery log, replay."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problems
from quartier.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from quartier.core.security import ADMINS, access
from quartier.webhooks import schemas as s
from quartier.webhooks import services

TAGS = ["Webhooks"]
LOCATION = [
    ResponseHeader(
        name="Location", description="Path of the created resource", documentation_only=True
    )
]
SIGNING = (
    "Deliveries are POSTed as JSON `{type, timestamp, data}` and signed as the Standard "
    "Webhooks specification says: headers `webhook-id` (the delivery id, the same on retries), "
    "`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "
    "id.timestamp.body>` with the `whsec_` secret; during a rotation one signature per valid "
    "secret, separated by spaces)."
)


class WebhookController(Controller):
    path = "/webhooks"
    tags = TAGS

    @get(
        operation_id="ListWebhookSubscriptions",
        summary="List webhook subscriptions",
        description="Every subscription, oldest first, without secrets. Administrators only.",
        **access(roles=ADMINS),
    )
    async def list_subscriptions(
        self, db_session: AsyncSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[s.WebhookSubscription]:
        return await services.list_subscriptions(db_session, limit=limit, cursor=cursor)

    @post(
        operation_id="CreateWebhookSubscription",
        summary="Subscribe a system to events",
        description="Events of the given types (of one planning process, or of all) are "
        f"delivered to `url`. {SIGNING} The answer holds the secret, shown only here and on "
        "rotation. Failed deliveries are retried with exponential backoff for about a day; a "
        "delivery that still fails then disables the subscription. 422 for an unknown "
        "process. Answers 201 with a `Location` header.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        **access(roles=ADMINS),
    )
    @idempotent
    async def create_subscription(
        self, db_session: AsyncSession, data: s.WebhookSubscriptionCreate
    ) -> Response[s.WebhookSubscriptionWithSecret]:
        subscription = await services.create_subscription(db_session, data)
        return Response(
            services.with_secret(subscription),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"/api/v1/webhooks/{subscription.id}"},
        )

    @get(
        "/{subscription_id:uuid}",
        operation_id="GetWebhookSubscription",
        summary="One webhook subscription",
        description="The subscription without its secret, with why it was disabled if it was.",
        **access(roles=ADMINS),
    )
    async def get_subscription(
        self, db_session: AsyncSession, subscription_id: UUID
    ) -> s.WebhookSubscription:
        return services.subscription_view(
            await services.get_subscription(db_session, subscription_id)
        )

    @patch(
        "/{subscription_id:uuid}",
        operation_id="UpdateWebhookSubscription",
        summary="Change a webhook subscription",
        description="Change its URL, event types or description; `enabled: true` re-enables "
        "a subscription that was disabled after persistent failure (`false` pauses it).",
        **access(roles=ADMINS),
    )
    async def update_subscription(
        self, db_session: AsyncSession, subscription_id: UUID, data: s.WebhookSubscriptionUpdate
    ) -> s.WebhookSubscription:
        return services.subscription_view(
            await services.update_subscription(db_session, subscription_id, data)
        )

    @delete(
        "/{subscription_id:uuid}",
        operation_id="DeleteWebhookSubscription",
        summary="Delete a webhook subscription",
        description="Deletes the subscription and its delivery log; queued deliveries are dropped.",
        status_code=HTTP_204_NO_CONTENT,
        **access(roles=ADMINS),
    )
    async def delete_subscription(self, db_session: AsyncSession, subscription_id: UUID) -> None:
        await services.delete_subscription(db_session, subscription_id)

    @post(
        "/{subscription_id:uuid}/rotate-secret",
        operation_id="RotateWebhookSecret",
        summary="Rotate the signing secret",
        description="A new secret signs every delivery from now on; for 24 hours the previous "
        "secret signs beside it (two signatures in `webhook-signature`), so the receiver can "
        "switch without losing deliveries. The answer holds the new secret.",
        status_code=HTTP_200_OK,
        **access(roles=ADMINS),
    )
    async def rotate_secret(
        self, db_session: AsyncSession, subscription_id: UUID
    ) -> s.WebhookSubscriptionWithSecret:
        return services.with_secret(await services.rotate_secret(db_session, subscription_id))

    @get(
        "/{subscription_id:uuid}/deliveries",
        operation_id="ListWebhookDeliveries",
        summary="The delivery log of a subscription",
        description="Deliveries, newest first: event type, status (pending, retrying, "
        "succeeded, failed), attempts, the last HTTP status or error.",
        **access(roles=ADMINS),
    )
    async def list_deliveries(
        self,
        db_session: AsyncSession,
        subscription_id: UUID,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.WebhookDelivery]:
        return await services.list_deliveries(
            db_session, subscription_id, limit=limit, cursor=cursor
        )

    @post(
        "/{subscription_id:uuid}/deliveries/{delivery_id:uuid}/replay",
        operation_id="ReplayWebhookDelivery",
        summary="Send a delivery again",
        description="Queues the delivery once more (same `webhook-id` and body, new timestamp "
        "and signature). 409 (`webhook-disabled`) while the subscription is disabled.",
        status_code=HTTP_202_ACCEPTED,
        responses=problems(409),
        **access(roles=ADMINS),
    )
    async def replay_delivery(
        self, db_session: AsyncSession, subscription_id: UUID, delivery_id: UUID
    ) -> s.WebhookDelivery:
        return services.delivery_view(
            await services.replay_delivery(db_session, subscription_id, delivery_id)
        )


API_ROUTES: list[ControllerRouterHandler] = [WebhookController]
