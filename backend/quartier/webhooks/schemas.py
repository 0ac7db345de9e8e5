"""Request and response bodies of the webhooks API."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from quartier.webhooks.events import EventType

WebhookUrl = Annotated[
    str,
    msgspec.Meta(
        min_length=10,
        max_length=2000,
        pattern=r"^https?://[^\x00-\x20\x7f]+$",
        description="Where deliveries are POSTed (https in production).",
        examples=["https://fachverfahren.example.org/quartier/webhooks"],
    ),
]
EventTypes = Annotated[
    list[EventType],
    msgspec.Meta(min_length=1, max_length=7, description="The event types to deliver."),
]
Description = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[^\x00]*$")]
DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]


class WebhookSubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: WebhookUrl
    event_types: EventTypes
    process_id: UUID | None = None
    description: Description = ""


class WebhookSubscriptionUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: Annotated[
        bool | None,
        msgspec.Meta(description="Re-enable a subscription disabled after persistent failure."),
    ] = None


class WebhookSubscription(msgspec.Struct, kw_only=True):
    id: UUID
    url: str
    event_types: list[str]
    process_id: UUID | None
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime.datetime | None
    previous_secret_expires_at: datetime.datetime | None
    created_at: datetime.datetime


class WebhookSubscriptionWithSecret(WebhookSubscription, kw_only=True):
    secret: Annotated[
        str,
        msgspec.Meta(
            description="`whsec_…`: the signing secret, shown only when created or rotated."
        ),
    ]


class WebhookDelivery(msgspec.Struct, kw_only=True):
    id: Annotated[UUID, msgspec.Meta(description="The `webhook-id` header of the delivery.")]
    subscription_id: UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    created_at: datetime.datetime
