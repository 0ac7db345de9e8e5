"""Indicators per social area as time series, their links to need categories, and the gaps
planners mark where expressed and measured need meet.

An indicator's `aggregation` says how its values combine over sub-areas: `sum` (a count:
the parent's value is the sum), `ratio` (a share or rate with a known denominator: the parent's
value is Σ numerator / Σ denominator × `scale`), or `none` (not additive: a mean, a median, an
index — never rolled up).
"""

from __future__ import annotations

import datetime
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from quartier.core import i18n
from quartier.db import Base, metadata

KEY_MAX = 64
NAME_MAX = 200
UNIT_MAX = 40
SOURCE_MAX = 500
LICENCE_MAX = 200
NOTE_MAX = 2000
DIRECTIONS = ("higher_is_better", "higher_is_worse", "neutral")
AGGREGATIONS = ("sum", "ratio", "none")


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (
        CheckConstraint(
            "direction IN ('higher_is_better', 'higher_is_worse', 'neutral')",
            name="direction_known",
        ),
        CheckConstraint("aggregation IN ('sum', 'ratio', 'none')", name="aggregation_known"),
        CheckConstraint("scale > 0", name="scale_positive"),
        CheckConstraint("decimals BETWEEN 0 AND 4", name="decimals_in_range"),
    )

    key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    name_de: Mapped[str] = mapped_column(String(NAME_MAX))
    name_en: Mapped[str] = mapped_column(String(NAME_MAX))
    unit: Mapped[str] = mapped_column(String(UNIT_MAX))
    direction: Mapped[str] = mapped_column(String(20))
    aggregation: Mapped[str] = mapped_column(String(10))
    scale: Mapped[float] = mapped_column(Double)
    decimals: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    licence: Mapped[str] = mapped_column(String(LICENCE_MAX))

    @property
    def name(self) -> str:
        return i18n.pick({"de": self.name_de, "en": self.name_en})


class IndicatorValue(Base):
    """One value of an indicator for one area on one reference date."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        UniqueConstraint(
            "indicator_id", "reference_date", "area_id", name="uq_indicator_values_date_area"
        ),
        CheckConstraint("denominator IS NULL OR denominator > 0", name="denominator_positive"),
        Index("ix_indicator_values_area", "area_id"),
    )

    indicator_id: Mapped[UUID] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    area_id: Mapped[UUID] = mapped_column(ForeignKey("social_areas.id", ondelete="CASCADE"))
    reference_date: Mapped[datetime.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Double)
    numerator: Mapped[float | None] = mapped_column(Double)
    denominator: Mapped[float | None] = mapped_column(Double)


indicator_need_categories = Table(
    "indicator_need_categories",
    metadata,
    Column("indicator_id", ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "need_category_id",
        ForeignKey("need_categories.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class NeedGap(Base):
    """A planner's mark: in this process, this area has a gap in this need category."""

    __tablename__ = "need_gaps"
    __table_args__ = (
        UniqueConstraint(
            "process_id", "area_id", "need_category_id", name="uq_need_gaps_process_area_need"
        ),
    )

    process_id: Mapped[UUID] = mapped_column(
        ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    area_id: Mapped[UUID] = mapped_column(ForeignKey("social_areas.id", ondelete="CASCADE"))
    need_category_id: Mapped[UUID] = mapped_column(
        ForeignKey("need_categories.id", ondelete="CASCADE")
    )
    note: Mapped[str] = mapped_column(Text)
