"""Webhook subscriptions, their deliveries (one per event and subscription) and the attempts."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from quartier.db import Base

MAX_URL_LENGTH = 2000


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    description: Mapped[str] = mapped_column(String(500), server_default="")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(100)))
    # Only events of this process (None: every process).
    process_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("planning_processes.id", ondelete="CASCADE"), index=True
    )
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret also signs until it expires (receivers switch over).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime.datetime | None] = mapped_column(
        DateTime(timezone=True)
    )
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event for one subscription. Its id is the `webhook-id` the receiver sees, the same on
    every retry and replay, so a receiver can drop duplicates."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),)

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(100))
    # The exact body that is signed and sent.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_attempt_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
