"""Expressed vs measured need: for a planning process, a need category and a level, each area's
expressed need (the surveys' disclosure-controlled share with its Wilson interval, weighted by
age where the surveys allow it) beside the indicators planners linked to the category, and the
gaps planners marked."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput, NotFound, Problem
from quartier.indicators import schemas as s
from quartier.indicators import services
from quartier.indicators.models import NOTE_MAX, NeedGap
from quartier.processes.models import PlanningProcess
from quartier.surveys import aggregation
from quartier.surveys.models import NeedCategory


class GapIn(Struct, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, Meta(min_length=1, max_length=NOTE_MAX, pattern=r"^[^\x00]*$")]


class GapOut(Struct, kw_only=True):
    area_code: str
    need_category: str
    note: str
    marked_at: datetime.datetime


class MeasuredValue(Struct, kw_only=True):
    indicator: str
    value: float | None
    reference_date: datetime.date | None
    rolled_up: bool = False


class ComparisonArea(Struct, kw_only=True):
    area_id: UUID
    code: str
    name: str
    respondents: Annotated[int | None, Meta(description="null when the area is withheld")]
    expressed: aggregation.NeedFigure | None
    measured: list[MeasuredValue]
    gap: GapOut | None = None


class NeedComparison(Struct, kw_only=True):
    process_id: UUID
    need_category: aggregation.CategoryRef
    level: str
    k_threshold: int
    min_respondents: int
    weighting: aggregation.Weighting
    indicators: list[s.IndicatorOut]
    unavailable: Annotated[
        list[str], Meta(description="Linked indicators that cannot be shown at this level")
    ]
    areas: list[ComparisonArea]


async def _category(session: AsyncSession, key: str) -> NeedCategory:
    category = await session.scalar(select(NeedCategory).where(NeedCategory.key == key))
    if category is None:
        raise NotFound(f"There is no need category {key!r}.")
    return category


async def _process(session: AsyncSession, process_id: UUID) -> PlanningProcess:
    process = await session.get(PlanningProcess, process_id)
    if process is None:
        raise NotFound(f"No planning process {process_id}.")
    return process


async def compare(
    session: AsyncSession, process_id: UUID, need: str, level_key: str
) -> NeedComparison:
    await _process(session, process_id)
    category = await _category(session, need)
    try:
        needs = await aggregation.process_aggregated_needs(
            session, process_id, level_key=level_key, weighting=aggregation.Weighting.AGE
        )
    except Problem:
        needs = await aggregation.process_aggregated_needs(session, process_id, level_key=level_key)
    keys = [c.key for c in needs.categories]
    index = keys.index(need) if need in keys else None
    linked = await services.indicators_for_need(session, category.id)
    measured: dict[str, dict[UUID, s.AreaValue]] = {}
    dates: dict[str, datetime.date | None] = {}
    unavailable: list[str] = []
    presented: list[s.IndicatorOut] = []
    for indicator in linked:
        try:
            values = await services.level_values(session, indicator.key, level_key)
        except Problem:
            unavailable.append(indicator.key)
            continue
        presented.append(values.indicator)
        measured[indicator.key] = {item.area_id: item for item in values.items}
        dates[indicator.key] = values.reference_date
    gaps = {
        gap.area_id: gap
        for gap in (
            await session.scalars(
                select(NeedGap).where(
                    NeedGap.process_id == process_id, NeedGap.need_category_id == category.id
                )
            )
        ).all()
    }
    areas: list[ComparisonArea] = []
    for area in needs.areas:
        figure = area.needs[index] if index is not None and index < len(area.needs) else None
        gap = gaps.get(area.id)
        areas.append(
            ComparisonArea(
                area_id=area.id,
                code=area.code,
                name=area.name,
                respondents=area.respondents,
                expressed=figure,
                measured=[
                    MeasuredValue(
                        indicator=item.key,
                        value=(found.value if (found := measured[item.key].get(area.id)) else None),
                        reference_date=dates[item.key],
                        rolled_up=bool(found and found.rolled_up),
                    )
                    for item in presented
                ],
                gap=(
                    GapOut(
                        area_code=area.code,
                        need_category=need,
                        note=gap.note,
                        marked_at=gap.updated_at,
                    )
                    if gap
                    else None
                ),
            )
        )
    return NeedComparison(
        process_id=process_id,
        need_category=aggregation.CategoryRef(key=category.key, label=i18n.pick(category.label)),
        level=needs.metadata.level.key,
        k_threshold=needs.metadata.k_threshold,
        min_respondents=needs.metadata.min_respondents,
        weighting=needs.metadata.weighting,
        indicators=presented,
        unavailable=unavailable,
        areas=areas,
    )


async def mark_gap(
    session: AsyncSession, process_id: UUID, need: str, code: str, note: str
) -> GapOut:
    await _process(session, process_id)
    category = await _category(session, need)
    area = await session.scalar(select(SocialArea).where(SocialArea.code == code))
    if area is None:
        raise InvalidInput(
            f"There is no social area {code!r}.",
            errors=[FieldError(field="code", source="path", message="unknown area")],
        )
    now = datetime.datetime.now(datetime.UTC)
    statement = pg_insert(NeedGap).values(
        process_id=process_id,
        area_id=area.id,
        need_category_id=category.id,
        note=note,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_need_gaps_process_area_need",
            set_={"note": statement.excluded.note, "updated_at": now},
        )
    )
    return GapOut(area_code=code, need_category=need, note=note, marked_at=now)


async def unmark_gap(session: AsyncSession, process_id: UUID, need: str, code: str) -> None:
    await _process(session, process_id)
    category = await _category(session, need)
    area_id = await session.scalar(select(SocialArea.id).where(SocialArea.code == code))
    if area_id is None:
        raise InvalidInput(
            f"There is no social area {code!r}.",
            errors=[FieldError(field="code", source="path", message="unknown area")],
        )
    await session.execute(
        delete(NeedGap).where(
            NeedGap.process_id == process_id,
            NeedGap.need_category_id == category.id,
            NeedGap.area_id == area_id,
        )
    )
