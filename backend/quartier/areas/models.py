"""Social areas (Sozialräume): the level table, the area hierarchy with boundaries, and
population figures by reference date and age band.

Hierarchy: every area keeps `path`, the ids of its ancestors and itself from the top level down,
maintained by the importer. Descendants of X are the rows whose `path` contains X (GIN index),
ancestors of X are the ids in X's `path` (primary key). Boundaries are GeoJSON MultiPolygons in
WGS 84 kept as JSONB, with bounding-box columns indexed as a PostgreSQL `box` (GiST, core
PostgreSQL, no extension) for finding candidate areas of a point.

Validity: an area is one row for its whole life (same id, same code). `valid_from`/`valid_to`
bound the dates on which it exists (NULL: since ever / still valid; `valid_to` is exclusive, the
first day it no longer exists). The row holds the newest version — boundary, name and parent —
valid from `boundary_from` (NULL: since the area exists); earlier versions (a changed boundary,
a new name, another parent) are kept in `social_area_versions`, each with its own period. A
retired area keeps its row (responses, ideas and feedback keep pointing at it) and names its
successors in `social_area_successions`. `valid_on(day)` is the condition every dated query
uses.

Population is stored only for leaf areas (the importer refuses figures for areas with children);
the population of any other area is the sum over its subtree, computed in SQL (services).
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    and_,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from quartier.core import i18n
from quartier.db import Base

CODE_MAX = 32
NAME_MAX = 200
LEVEL_KEY_MAX = 40
LEVEL_NAME_MAX = 100
SOURCE_MAX = 500
LICENCE_MAX = 200
ATTRIBUTION_MAX = 1000
BAND_KEY_MAX = 40

# The expression the GiST index is built on; queries must use the same expression to use it.
BBOX_BOX_SQL = "box(point(min_lon, min_lat), point(max_lon, max_lat))"


class AreaLevel(Base):
    """A named level of the hierarchy, e.g. Berlin's district (depth 0) … planning area (3)."""

    __tablename__ = "area_levels"
    __table_args__ = (CheckConstraint("depth >= 0", name="depth_not_negative"),)

    key: Mapped[str] = mapped_column(String(LEVEL_KEY_MAX), unique=True)
    depth: Mapped[int] = mapped_column(SmallInteger, unique=True)
    name_de: Mapped[str] = mapped_column(String(LEVEL_NAME_MAX))
    name_en: Mapped[str] = mapped_column(String(LEVEL_NAME_MAX))
    # Provenance of the level's data (boundaries and population) as the last import stated it;
    # every export of the level repeats it (CC BY and similar licences require the attribution).
    source: Mapped[str | None] = mapped_column(String(SOURCE_MAX))
    licence: Mapped[str | None] = mapped_column(String(LICENCE_MAX))
    attribution: Mapped[str | None] = mapped_column(String(ATTRIBUTION_MAX))

    @property
    def name(self) -> str:
        """The name in the negotiated language (German for de and de-x-simple)."""
        return i18n.pick({"de": self.name_de, "en": self.name_en})


class SocialArea(Base):
    """One social area: official code, name, place in the hierarchy, boundary, size."""

    __tablename__ = "social_areas"
    __table_args__ = (
        Index("ix_social_areas_path", "path", postgresql_using="gin"),
        Index("ix_social_areas_bbox", text(BBOX_BOX_SQL), postgresql_using="gist"),
        CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox_ordered"),
        CheckConstraint(
            "min_lon >= -180 AND max_lon <= 180 AND min_lat >= -90 AND max_lat <= 90",
            name="bbox_in_wgs84_range",
        ),
        CheckConstraint("area_m2 >= 0", name="area_not_negative"),
        CheckConstraint("path[cardinality(path)] = id", name="path_ends_with_self"),
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to", name="valid_period"
        ),
        CheckConstraint(
            "boundary_from IS NULL OR valid_to IS NULL OR boundary_from < valid_to",
            name="boundary_within_period",
        ),
    )

    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # Case- and umlaut-folded forms of the name (see areas.text), for `q` searches without
    # the unaccent extension.
    search_name: Mapped[str] = mapped_column(Text)
    level_id: Mapped[UUID] = mapped_column(
        ForeignKey("area_levels.id", ondelete="RESTRICT"), index=True
    )
    parent_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("social_areas.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    boundary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    min_lon: Mapped[float] = mapped_column(Double)
    min_lat: Mapped[float] = mapped_column(Double)
    max_lon: Mapped[float] = mapped_column(Double)
    max_lat: Mapped[float] = mapped_column(Double)
    area_m2: Mapped[float] = mapped_column(Double)
    valid_from: Mapped[datetime.date | None] = mapped_column(Date)
    valid_to: Mapped[datetime.date | None] = mapped_column(Date)
    boundary_from: Mapped[datetime.date | None] = mapped_column(Date)

    level: Mapped[AreaLevel] = relationship(lazy="raise")
    parent: Mapped[SocialArea | None] = relationship(remote_side="SocialArea.id", lazy="raise")

    @classmethod
    def valid_on(cls, day: Any) -> ColumnElement[bool]:
        """The area exists on `day` (a date or a date-valued SQL expression)."""
        return valid_between(cls.valid_from, cls.valid_to, day)

    def is_valid_on(self, day: datetime.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )

    def day_within(self, day: datetime.date) -> datetime.date:
        """`day` moved into the area's validity: a retired area answers as on its last day,
        a future one as on its first."""
        if self.valid_to is not None and day >= self.valid_to:
            day = self.valid_to - datetime.timedelta(days=1)
        if self.valid_from is not None and day < self.valid_from:
            day = self.valid_from
        return day


def today() -> datetime.date:
    """The date validity questions take when none is given (UTC)."""
    return datetime.datetime.now(datetime.UTC).date()


def valid_between(valid_from: Any, valid_to: Any, day: Any) -> ColumnElement[bool]:
    """`day` lies in [valid_from, valid_to) where NULL is open."""
    return and_(
        or_(valid_from.is_(None), valid_from <= day), or_(valid_to.is_(None), valid_to > day)
    )


class AreaVersion(Base):
    """An earlier version of an area — its boundary, name and parent (with the `path` that
    parent gave it) — valid from `valid_from` (NULL: since the area exists) up to the day
    before `valid_to`, when the next version (or the row's own) starts."""

    __tablename__ = "social_area_versions"
    __table_args__ = (
        Index("ix_social_area_versions_path", "path", postgresql_using="gin"),
        UniqueConstraint("area_id", "valid_to", name="uq_social_area_versions_area_end"),
        Index("ix_social_area_versions_bbox", text(BBOX_BOX_SQL), postgresql_using="gist"),
        CheckConstraint("valid_from IS NULL OR valid_from < valid_to", name="valid_period"),
        CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox_ordered"),
        CheckConstraint("area_m2 >= 0", name="area_not_negative"),
    )

    area_id: Mapped[UUID] = mapped_column(
        ForeignKey("social_areas.id", ondelete="CASCADE"), index=True
    )
    valid_from: Mapped[datetime.date | None] = mapped_column(Date)
    valid_to: Mapped[datetime.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    search_name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("social_areas.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    boundary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    min_lon: Mapped[float] = mapped_column(Double)
    min_lat: Mapped[float] = mapped_column(Double)
    max_lon: Mapped[float] = mapped_column(Double)
    max_lat: Mapped[float] = mapped_column(Double)
    area_m2: Mapped[float] = mapped_column(Double)


class AreaSuccession(Base):
    """A retired area and one of the areas that took its place from `valid_from` (the day
    the predecessor's validity ends)."""

    __tablename__ = "social_area_successions"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id", name="uq_social_area_successions_pair"),
        CheckConstraint("predecessor_id <> successor_id", name="not_own_successor"),
    )

    predecessor_id: Mapped[UUID] = mapped_column(ForeignKey("social_areas.id", ondelete="CASCADE"))
    successor_id: Mapped[UUID] = mapped_column(
        ForeignKey("social_areas.id", ondelete="CASCADE"), index=True
    )
    valid_from: Mapped[datetime.date] = mapped_column(Date)


class AgeBand(Base):
    """An age band as the population data gives it, e.g. `6_15` = 6 to under 15."""

    __tablename__ = "population_age_bands"
    __table_args__ = (
        CheckConstraint("min_age >= 0", name="min_age_not_negative"),
        CheckConstraint("max_age IS NULL OR max_age > min_age", name="max_age_above_min_age"),
    )

    key: Mapped[str] = mapped_column(String(BAND_KEY_MAX), unique=True)
    min_age: Mapped[int] = mapped_column(SmallInteger)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)  # exclusive; None = open-ended
    label_de: Mapped[str] = mapped_column(String(LEVEL_NAME_MAX))
    label_en: Mapped[str] = mapped_column(String(LEVEL_NAME_MAX))

    @property
    def label(self) -> str:
        return i18n.pick({"de": self.label_de, "en": self.label_en})


class AreaPopulation(Base):
    """The population of one leaf area on one reference date."""

    __tablename__ = "area_populations"
    __table_args__ = (
        UniqueConstraint("area_id", "reference_date", name="uq_area_populations_area_date"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("female IS NULL OR female BETWEEN 0 AND total", name="female_in_range"),
    )

    area_id: Mapped[UUID] = mapped_column(ForeignKey("social_areas.id", ondelete="CASCADE"))
    reference_date: Mapped[datetime.date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(Integer)
    female: Mapped[int | None] = mapped_column(Integer)

    area: Mapped[SocialArea] = relationship(lazy="raise")


class AreaPopulationByAge(Base):
    """The count of one age band within one population record."""

    __tablename__ = "area_population_ages"
    __table_args__ = (
        UniqueConstraint("population_id", "age_band_id", name="uq_area_population_ages_band"),
        CheckConstraint("count >= 0", name="count_not_negative"),
    )

    population_id: Mapped[UUID] = mapped_column(
        ForeignKey("area_populations.id", ondelete="CASCADE")
    )
    age_band_id: Mapped[UUID] = mapped_column(
        ForeignKey("population_age_bands.id", ondelete="RESTRICT"), index=True
    )
    count: Mapped[int] = mapped_column(Integer)

    population: Mapped[AreaPopulation] = relationship(lazy="raise")
    age_band: Mapped[AgeBand] = relationship(lazy="raise")
