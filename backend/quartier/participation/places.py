"""Where a contribution applies: a social area chosen from a list, or a point resolved to the
areas that contain it — always within the scope of the process (the descendants of its areas,
or their ancestors; any area when the process names none), and always among the areas valid
today (a retired area is no longer offered; its successors are).

The statements are built once with bind parameters (`:process_id`, `:level`, and `:code` or
`:codes`), so that submission paths skip SQL construction and compiling.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from quartier.areas import services as area_services
from quartier.areas.models import AreaLevel, SocialArea
from quartier.processes.models import process_areas


def _in_scope() -> ColumnElement[bool]:
    process = bindparam("process_id", type_=Uuid)
    scope = select(process_areas.c.area_id).where(process_areas.c.process_id == process)
    scope_area = aliased(SocialArea)
    ancestors_of_scope = select(func.unnest(scope_area.path)).where(scope_area.id.in_(scope))
    return or_(
        ~scope.exists(),
        SocialArea.path.overlap(
            select(func.array_agg(process_areas.c.area_id))
            .where(process_areas.c.process_id == process)
            .scalar_subquery()
        ),
        SocialArea.id.in_(ancestors_of_scope),
    )


# Today in UTC, as areas.services.today(), evaluated by the database.
_TODAY = cast(func.timezone("UTC", func.now()), Date)


def area_candidates() -> Select[UUID, str, str]:
    """Areas valid today at the level `:level` within the scope of the process `:process_id`."""
    return (
        select(SocialArea.id, SocialArea.code, SocialArea.name)
        .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
        .where(
            AreaLevel.key == bindparam("level", type_=String),
            SocialArea.valid_on(_TODAY),
            _in_scope(),
        )
    )


def scoped_areas() -> Select[UUID, str, str]:
    """Areas at any level within the scope of the process `:process_id`."""
    return select(SocialArea.id, SocialArea.code, SocialArea.name).where(_in_scope())


AREA_CHOICES = area_candidates().order_by(SocialArea.name, SocialArea.code)
AREAS_BY_CODE = area_candidates().where(
    SocialArea.code == any_(bindparam("codes", type_=ARRAY(String)))
)
AREA_BY_CODE_ID = (
    area_candidates()
    .where(SocialArea.code == bindparam("code", type_=String))
    .with_only_columns(SocialArea.id)
    .limit(1)
    .scalar_subquery()
)


async def area_choices(
    session: AsyncSession, process_id: UUID, level: str
) -> list[tuple[UUID, str, str]]:
    """(id, code, name) of the areas a resident can choose, ordered by name."""
    rows = await session.execute(AREA_CHOICES, {"process_id": process_id, "level": level})
    return [(row[0], row[1], row[2]) for row in rows]


async def areas_by_code(
    session: AsyncSession, process_id: UUID, level: str, codes: set[str]
) -> dict[str, UUID]:
    """Area ids by code, for the codes that name an area at `level` within the scope."""
    if not codes:
        return {}
    rows = await session.execute(
        AREAS_BY_CODE, {"process_id": process_id, "level": level, "codes": sorted(codes)}
    )
    return {row[1]: row[0] for row in rows}


async def area_by_code(session: AsyncSession, process_id: UUID, code: str) -> UUID | None:
    """The area with this code at any level within the process's scope (None if none)."""
    return await session.scalar(
        scoped_areas().with_only_columns(SocialArea.id).where(SocialArea.code == code),
        {"process_id": process_id},
    )


async def area_at_point(
    session: AsyncSession, process_id: UUID, lat: float, lon: float
) -> UUID | None:
    """The most detailed area valid today within the process's scope that contains the point
    (None if the point lies outside every such area)."""
    containing = await area_services.lookup_point(session, lat, lon)
    if not containing:
        return None
    codes = [area.code for area in containing]  # ordered from the top level down
    in_scope = set(
        (
            await session.scalars(
                scoped_areas().with_only_columns(SocialArea.code).where(SocialArea.code.in_(codes)),
                {"process_id": process_id},
            )
        ).all()
    )
    for area in reversed(containing):
        if area.code in in_scope:
            return area.id
    return None
