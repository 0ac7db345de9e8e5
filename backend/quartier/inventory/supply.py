"""Supply beside need: for a planning process, a need category, a level and a target group,
each area's active services and their capacity per 1,000 residents of the target group, beside
the residents' expressed need (the surveys' disclosure-controlled aggregates, as the need
comparison gives them) and the measured need (the indicators linked to the category).

How services count (computed in SQL):
- a service counts in an area when it serves the area, an area containing it or a part of it;
- its capacity is split evenly over the areas it serves, and an area's capacity is the sum of
  the shares of the served areas inside it (a service serving a whole district adds nothing
  to the capacity of its planning areas, only to the district's);
- with a target group other than all residents, services for that group or for all residents
  count; the population is the sum of the age bands the group spans (null when the bands do
  not cover it exactly).
Capacity describes services, not residents, so it needs no disclosure control; expressed need
comes only from the protected aggregates.
"""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from quartier.areas import services as areas
from quartier.areas.models import SocialArea, today
from quartier.areas.schemas import PopulationOut
from quartier.indicators import comparison
from quartier.inventory import models as m
from quartier.inventory import schemas as s
from quartier.inventory.services import active_condition
from quartier.processes.models import process_areas
from quartier.surveys.models import NeedCategory

METHOD = (
    "Active services of the need category serving the area, a containing area or a part of "
    "it; capacity split evenly over the areas a service serves and summed inside each area; "
    "per 1,000 residents of the target group (latest population table). Expressed need: the "
    "surveys' disclosure-controlled shares (cell key method); measured need: linked indicators."
)


def group_population(population: PopulationOut | None, group: str) -> int | None:
    """Residents of the target group: the age bands spanning its range exactly."""
    if population is None:
        return None
    low, high = m.TARGET_GROUPS[group]
    if low == 0 and high is None:
        return population.total
    bands = sorted(
        (
            band
            for band in population.age_bands
            if band.min_age >= low
            and (high is None or (band.max_age is not None and band.max_age <= high))
        ),
        key=lambda band: band.min_age,
    )
    edge: int | None = low
    for band in bands:
        if band.min_age != edge:
            return None
        edge = band.max_age
    if not bands or edge != high:
        return None
    return sum(band.count for band in bands)


def _eligible(category_id: UUID, group: str) -> sa.Select[Any]:
    statement = sa.select(m.Service.id).where(
        active_condition(),
        m.Service.id.in_(
            sa.select(m.service_need_categories.c.service_id).where(
                m.service_need_categories.c.need_category_id == category_id
            )
        ),
    )
    if group != "all_residents":
        statement = statement.where(
            m.Service.target_groups.op("&&")(array([group, "all_residents"], type_=sa.String(40)))
        )
    return statement


async def _supply(
    session: AsyncSession, area_ids: list[UUID], eligible: sa.Select[Any]
) -> dict[UUID, tuple[int, float]]:
    """Per target area: (services, capacity) in one query."""
    if not area_ids:
        return {}
    served_area = aliased(SocialArea)
    served = (
        sa.select(
            m.service_areas.c.service_id,
            served_area.id.label("area_id"),
            served_area.path,
            sa.cast(m.Service.capacity, sa.Double).label("capacity"),
            sa.func.count().over(partition_by=m.service_areas.c.service_id).label("served_count"),
        )
        .join(served_area, served_area.id == m.service_areas.c.area_id)
        .join(m.Service, m.Service.id == m.service_areas.c.service_id)
        .where(m.Service.id.in_(eligible))
        .cte("served")
    )
    target = aliased(SocialArea)
    inside = target.id == sa.func.any_(served.c.path)
    rows = await session.execute(
        sa.select(
            target.id,
            sa.func.count(sa.distinct(served.c.service_id)),
            sa.func.coalesce(
                sa.func.sum(served.c.capacity / served.c.served_count).filter(inside), 0.0
            ),
        )
        .select_from(target)
        .join(served, sa.or_(inside, served.c.area_id == sa.func.any_(target.path)))
        .where(target.id.in_(area_ids))
        .group_by(target.id)
    )
    return {area_id: (int(count), float(capacity)) for area_id, count, capacity in rows}


def _per_1000(value: float, population: int | None) -> float | None:
    if not population:
        return None
    return round(value * 1000 / population, 4)


async def _level_areas(
    session: AsyncSession, process_id: UUID, level_key: str
) -> list[tuple[UUID, str, str]]:
    """The areas of the level valid today within the process's scope (all of them for an
    unscoped process): inside a scope area, or containing one."""
    level = await areas.get_level(session, level_key)
    scope = list(
        await session.scalars(
            sa.select(process_areas.c.area_id).where(process_areas.c.process_id == process_id)
        )
    )
    statement = sa.select(SocialArea.id, SocialArea.code, SocialArea.name).where(
        SocialArea.level_id == level.id, SocialArea.valid_on(today())
    )
    if scope:
        containing = sa.select(sa.func.unnest(SocialArea.path)).where(SocialArea.id.in_(scope))
        statement = statement.where(
            sa.or_(
                SocialArea.path.op("&&")(sa.literal(scope, type_=ARRAY(sa.Uuid))),
                SocialArea.id.in_(containing),
            )
        )
    rows = await session.execute(statement.order_by(SocialArea.code))
    return [(area_id, code, name) for area_id, code, name in rows]


async def supply_comparison(
    session: AsyncSession, process_id: UUID, need: str, level: str, group: str
) -> s.SupplyComparison:
    level_areas = await _level_areas(session, process_id, level)
    found = await comparison.compare(session, process_id, need, level)
    expressed = {area.area_id: area for area in found.areas}
    category = await session.scalar(sa.select(NeedCategory.id).where(NeedCategory.key == need))
    assert category is not None  # compare() refused an unknown category
    eligible = _eligible(category, group)
    area_ids = [area_id for area_id, _code, _name in level_areas]
    supply = await _supply(session, area_ids, eligible)
    populations = await areas.populations(session, area_ids)
    counted = len((await session.scalars(eligible)).all())
    dates = [p.reference_date for p in populations.values()]
    result: list[s.SupplyArea] = []
    for area_id, code, name in level_areas:
        services, capacity = supply.get(area_id, (0, 0.0))
        population = group_population(populations.get(area_id), group)
        area = expressed.get(area_id)
        result.append(
            s.SupplyArea(
                area_id=area_id,
                code=code,
                name=name,
                population=population,
                services=services,
                capacity=round(capacity, 4),
                services_per_1000=_per_1000(services, population),
                capacity_per_1000=_per_1000(capacity, population),
                respondents=area.respondents if area else None,
                expressed=area.expressed if area else None,
                measured=area.measured if area else [],
                gap=area.gap if area else None,
            )
        )
    return s.SupplyComparison(
        process_id=process_id,
        need_category=found.need_category,
        indicators=found.indicators,
        metadata=s.SupplyMetadata(
            generated_at=datetime.datetime.now(datetime.UTC),
            level=found.level,
            target_group=group,
            population_reference_date=max(dates) if dates else None,
            k_threshold=found.k_threshold,
            min_respondents=found.min_respondents,
            weighting=found.weighting,
            services_counted=counted,
            method=METHOD,
        ),
        areas=result,
    )


def _number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def csv_text(result: s.SupplyComparison) -> str:
    """The figures as CSV (UTF-8, comma): `# key: value` metadata lines, then one row per
    area; protected expressed need is empty with `expressed_suppressed` true."""
    out = io.StringIO()
    meta = result.metadata
    for key, value in (
        ("process_id", result.process_id),
        ("need_category", result.need_category.key),
        ("level", meta.level),
        ("target_group", meta.target_group),
        ("population_reference_date", meta.population_reference_date or ""),
        ("k_threshold", meta.k_threshold),
        ("min_respondents", meta.min_respondents),
        ("weighting", meta.weighting.value),
        ("services_counted", meta.services_counted),
        ("generated_at", meta.generated_at.isoformat()),
        ("method", meta.method),
    ):
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "area_code",
            "area_name",
            "population",
            "services",
            "capacity",
            "services_per_1000",
            "capacity_per_1000",
            "respondents",
            "expressed_share",
            "expressed_suppressed",
            *[f"indicator:{indicator.key}" for indicator in result.indicators],
            "gap",
        ]
    )
    for area in result.areas:
        figure = area.expressed
        writer.writerow(
            [
                area.code,
                area.name,
                _number(area.population),
                area.services,
                _number(area.capacity),
                _number(area.services_per_1000),
                _number(area.capacity_per_1000),
                _number(area.respondents),
                _number(figure.share if figure else None),
                "true" if figure is None or figure.share is None else "false",
                *[_number(value.value) for value in area.measured],
                area.gap.note if area.gap else "",
            ]
        )
    return out.getvalue()
