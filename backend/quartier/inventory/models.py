"""ORM models of the inventory: services of organisations (with their need categories and the
social areas they serve), inventory rounds of a planning process, and each round's request to
one organisation with its progress.

A service that ends keeps its row (`ends_on`): the inventory is also its own history. Capacity
figures describe services, not residents, so they need no disclosure control.
"""

from __future__ import annotations

import datetime
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from quartier.db import Base, metadata

NAME_MAX = 200
TEXT_MAX = 2000
UNIT_MAX = 80
HOURS_MAX = 500
ACCESSIBILITY_MAX = 1000
ADDRESS_MAX = 300
EMAIL_MAX = 254
PHONE_MAX = 50
WEBSITE_MAX = 500
CAPACITY_MAX = 1_000_000
ROUND_STATUSES = ("pending", "confirmed", "updated")

# Target groups with the age range whose residents they count (min inclusive, max exclusive;
# None = open-ended): the denominator of "per 1,000 residents of the target group".
TARGET_GROUPS: dict[str, tuple[int, int | None]] = {
    "all_residents": (0, None),
    "young_children": (0, 6),
    "school_children": (6, 15),
    "children_and_young_people": (0, 18),
    "young_people": (15, 27),
    "working_age": (18, 65),
    "older_people": (65, None),
}


class Service(Base):
    """A service an organisation offers (Angebot), e.g. a family centre or a debt advice desk."""

    __tablename__ = "inventory_services"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="ends_after_start"
        ),
        Index("ix_inventory_services_organisation", "organisation_id", "name"),
    )

    organisation_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    target_groups: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    capacity: Mapped[int | None] = mapped_column(Integer)
    capacity_unit: Mapped[str] = mapped_column(String(UNIT_MAX), default="")
    opening_hours: Mapped[str] = mapped_column(String(HOURS_MAX), default="")
    accessibility: Mapped[str] = mapped_column(String(ACCESSIBILITY_MAX), default="")
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX), default="")
    contact_email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")
    contact_phone: Mapped[str] = mapped_column(String(PHONE_MAX), default="")
    website: Mapped[str] = mapped_column(String(WEBSITE_MAX), default="")
    starts_on: Mapped[datetime.date | None] = mapped_column(Date)
    ends_on: Mapped[datetime.date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


service_need_categories = Table(
    "inventory_service_needs",
    metadata,
    Column(
        "service_id",
        ForeignKey("inventory_services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "need_category_id",
        ForeignKey("need_categories.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)

service_areas = Table(
    "inventory_service_areas",
    metadata,
    Column(
        "service_id",
        ForeignKey("inventory_services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "area_id",
        ForeignKey("social_areas.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class InventoryRound(Base):
    """Planners ask the organisations to confirm or update their services by `due_on`."""

    __tablename__ = "inventory_rounds"
    __table_args__ = (
        # One open round per process at a time.
        Index(
            "uq_inventory_rounds_open",
            "process_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    process_id: Mapped[UUID] = mapped_column(
        ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    due_on: Mapped[datetime.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text, default="")
    started_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class RoundRequest(Base):
    """One organisation asked in one round, and how far it got."""

    __tablename__ = "inventory_round_requests"
    __table_args__ = (
        UniqueConstraint("round_id", "organisation_id", name="uq_inventory_round_requests_org"),
        CheckConstraint("status IN ('pending', 'confirmed', 'updated')", name="status_known"),
        Index("ix_inventory_round_requests_organisation", "organisation_id"),
    )

    round_id: Mapped[UUID] = mapped_column(ForeignKey("inventory_rounds.id", ondelete="CASCADE"))
    organisation_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # The organisation's public contact address (from its services), not a person's.
    contact_email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")
    mailed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    responded_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
