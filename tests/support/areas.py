"""A small social-area hierarchy for tests, inserted through the areas models."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel, SocialArea

# social_areas with the columns of revision 0002 (0024 added the validity columns), so that
# migration tests can insert areas into a database at an older revision.
_AREAS_AT_0002 = sa.table(
    "social_areas",
    *(
        column.copy()
        for column in SocialArea.__table__.columns
        if column.name not in ("valid_from", "valid_to", "boundary_from", "sa_orm_sentinel")
    ),
)

_LEVELS_AT_0002 = sa.table(
    "area_levels",
    *(
        column.copy()
        for column in AreaLevel.__table__.columns
        if column.name not in ("source", "licence", "attribution", "sa_orm_sentinel")
    ),
)

SQUARE = {
    "type": "MultiPolygon",
    "coordinates": [[[[13.3, 52.5], [13.4, 52.5], [13.4, 52.6], [13.3, 52.6], [13.3, 52.5]]]],
}


async def add_area_tree(
    db: AsyncSession, areas: Mapping[str, tuple[str, str | None]], levels: Sequence[str]
) -> dict[str, uuid.UUID]:
    """Insert `levels` (keys, top first) and `areas` (code → (name, parent code), parents
    first), each area at the level of its depth with a 0.01° square as boundary; their ids."""
    ids = {code: uuid.uuid4() for code in areas}
    level_ids = {depth: uuid.uuid4() for depth in range(len(levels))}
    for depth, key in enumerate(levels):
        now = datetime.datetime.now(datetime.UTC)
        await db.execute(
            insert(_LEVELS_AT_0002),
            {
                "id": level_ids[depth],
                "key": key,
                "depth": depth,
                "name_de": key,
                "name_en": key,
                "created_at": now,
                "updated_at": now,
            },
        )
    await db.flush()
    await _insert_areas(db, areas, ids, level_ids)
    return ids


async def add_areas(
    db: AsyncSession, areas: Mapping[str, tuple[str, str | None]]
) -> dict[str, uuid.UUID]:
    """Insert `areas` (code → (name, parent code), parents first) into the levels that exist,
    each at the level of its depth; their ids (a second tree beside `add_area_tree`'s)."""
    ids = {code: uuid.uuid4() for code in areas}
    level_ids = dict((await db.execute(sa.select(AreaLevel.depth, AreaLevel.id))).all())
    await _insert_areas(db, areas, ids, level_ids)
    return ids


async def _insert_areas(
    db: AsyncSession,
    areas: Mapping[str, tuple[str, str | None]],
    ids: dict[str, uuid.UUID],
    level_ids: Mapping[int, uuid.UUID],
) -> None:
    for code, (name, parent) in areas.items():
        path = [ids[code]]
        ancestor = parent
        while ancestor is not None:
            path.insert(0, ids[ancestor])
            ancestor = areas[ancestor][1]
        now = datetime.datetime.now(datetime.UTC)
        await db.execute(
            insert(_AREAS_AT_0002),
            {
                "id": ids[code],
                "code": code,
                "name": name,
                "search_name": name.lower(),
                "level_id": level_ids[len(path) - 1],
                "parent_id": ids[parent] if parent else None,
                "path": path,
                "boundary": SQUARE,
                "min_lon": 13.3,
                "min_lat": 52.5,
                "max_lon": 13.4,
                "max_lat": 52.6,
                "area_m2": 1_000_000.0,
                "created_at": now,
                "updated_at": now,
            },
        )
        await db.flush()
