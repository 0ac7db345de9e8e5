"""Social areas: queries (lists, hierarchy, population roll-up, point lookup, GeoJSON export)
and the import's database phase. Services never commit; the request (or the CLI's
`run_in_session`) does.

Population roll-up: only leaf areas carry figures; an area's population is the sum over the
leaves of its subtree (`path @> ARRAY[area.id]`) on the latest reference date found there,
computed in one grouped SQL query per page of areas.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from typing import cast as cast_type
from uuid import UUID

import anyio.to_thread
import msgspec
from sqlalchemy import (
    ARRAY,
    Select,
    String,
    Table,
    Text,
    all_,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import defer, joinedload
from uuid_utils.compat import uuid7

from quartier.areas import geometry as geo
from quartier.areas import importer
from quartier.areas.models import (
    BBOX_BOX_SQL,
    AgeBand,
    AreaLevel,
    AreaPopulation,
    AreaPopulationByAge,
    SocialArea,
)
from quartier.areas.schemas import (
    AgeBandCount,
    AreaLevelList,
    AreaLevelOut,
    ImportReport,
    LevelRef,
    MultiPolygonOut,
    PopulationOut,
    SocialAreaOut,
)
from quartier.areas.text import like_pattern, search_forms
from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput, NotFound, Unprocessable
from quartier.core.pagination import Page, decode_cursor, keyset_page

_ORDER = (SocialArea.code, SocialArea.id)


def _table(model: type[Any]) -> Table:
    return cast_type(Table, model.__table__)


class ImportFailed(Unprocessable):
    """An import with errors: nothing was changed; `report` says why."""

    slug, title = "import-failed", "Import failed"

    def __init__(self, report: ImportReport, detail: str | None = None) -> None:
        super().__init__(
            detail
            or f"The import has {report.errors} error(s) and changed nothing; see the report."
        )
        self.report = report


class ImportNeedsConfirmation(ImportFailed):
    """An import whose report has plausibility warnings that were not confirmed: nothing was
    changed; the same import with the warnings confirmed stores it."""

    slug, title = "import-needs-confirmation", "Import needs confirmation"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            report,
            f"The import has {report.needs_confirmation} warning(s) to confirm and changed "
            "nothing; check the report's rows with needs_confirmation and import again with "
            "the warnings confirmed.",
        )


# -- levels ------------------------------------------------------------------------------------


async def list_levels(session: AsyncSession) -> AreaLevelList:
    count = (
        select(func.count(SocialArea.id))
        .where(SocialArea.level_id == AreaLevel.id)
        .scalar_subquery()
    )
    rows = (await session.execute(select(AreaLevel, count).order_by(AreaLevel.depth))).all()
    return AreaLevelList(
        items=[
            AreaLevelOut(
                key=level.key,
                depth=level.depth,
                name=level.name,
                name_de=level.name_de,
                name_en=level.name_en,
                area_count=area_count,
            )
            for level, area_count in rows
        ]
    )


async def get_level(session: AsyncSession, key: str, *, field: str = "level") -> AreaLevel:
    level = await session.scalar(select(AreaLevel).where(AreaLevel.key == key))
    if level is None:
        known = (await session.scalars(select(AreaLevel.key).order_by(AreaLevel.depth))).all()
        raise InvalidInput(
            f"There is no level {key!r}; levels: {', '.join(known) or 'none yet'}.",
            errors=[FieldError(field=field, source="query", message="unknown level")],
        )
    return level


# -- presenting areas --------------------------------------------------------------------------


def _areas(*, boundaries: bool = False) -> Select[SocialArea]:
    statement = select(SocialArea).options(joinedload(SocialArea.level))
    if not boundaries:
        statement = statement.options(defer(SocialArea.boundary, raiseload=True))
    return statement


async def populations(
    session: AsyncSession, area_ids: Sequence[UUID] | Select[Any]
) -> dict[UUID, PopulationOut]:
    """Population on the latest reference date of each area's subtree, summed in SQL."""
    if isinstance(area_ids, Sequence) and not area_ids:
        return {}
    target = _table(SocialArea).alias("target")
    member = _table(SocialArea).alias("member")
    figures = _table(AreaPopulation)
    rows = (
        select(
            target.c.id.label("area_id"),
            figures.c.id.label("population_id"),
            figures.c.reference_date,
            figures.c.total,
            figures.c.female,
        )
        .select_from(
            target.join(member, member.c.path.contains(array([target.c.id]))).join(
                figures, figures.c.area_id == member.c.id
            )
        )
        .where(target.c.id.in_(area_ids))
        .cte("figures")
    )
    latest = (
        select(rows.c.area_id, func.max(rows.c.reference_date).label("reference_date"))
        .group_by(rows.c.area_id)
        .cte("latest")
    )
    current = (
        select(rows)
        .join(
            latest,
            and_(
                latest.c.area_id == rows.c.area_id,
                latest.c.reference_date == rows.c.reference_date,
            ),
        )
        .cte("current")
    )
    totals = await session.execute(
        select(
            current.c.area_id,
            current.c.reference_date,
            func.sum(current.c.total),
            func.sum(current.c.female),
            func.count(),
            func.count(current.c.female),
        ).group_by(current.c.area_id, current.c.reference_date)
    )
    result: dict[UUID, PopulationOut] = {}
    leaves: dict[UUID, int] = {}
    for area_id, reference_date, total, female, records, with_female in totals:
        leaves[area_id] = records
        result[area_id] = PopulationOut(
            reference_date=reference_date,
            total=int(total),
            female=int(female) if with_female == records else None,
            age_bands=[],
        )
    if not result:
        return result
    counts = _table(AreaPopulationByAge)
    bands = _table(AgeBand)
    by_band = await session.execute(
        select(
            current.c.area_id,
            bands.c.key,
            bands.c.label_de,
            bands.c.label_en,
            bands.c.min_age,
            bands.c.max_age,
            func.sum(counts.c.count),
            func.count(),
        )
        .select_from(current)
        .join(counts, counts.c.population_id == current.c.population_id)
        .join(bands, bands.c.id == counts.c.age_band_id)
        .group_by(
            current.c.area_id,
            bands.c.key,
            bands.c.label_de,
            bands.c.label_en,
            bands.c.min_age,
            bands.c.max_age,
        )
        .order_by(current.c.area_id, bands.c.min_age)
    )
    for area_id, key, label_de, label_en, min_age, max_age, count, records in by_band:
        if records != leaves[area_id]:
            continue  # not every sub-area has this band: a sum would understate it
        label = i18n.pick({"de": label_de, "en": label_en})
        result[area_id].age_bands.append(
            AgeBandCount(key=key, label=label, min_age=min_age, max_age=max_age, count=int(count))
        )
    return result


async def present(
    session: AsyncSession, areas: Sequence[SocialArea], *, boundaries: bool = False
) -> list[SocialAreaOut]:
    # Lookups and breadcrumbs present whole chains: their parents are already at hand.
    parent_codes = {a.id: a.code for a in areas}
    parent_ids = {a.parent_id for a in areas if a.parent_id is not None} - parent_codes.keys()
    if parent_ids:
        parent_codes.update(
            (
                await session.execute(
                    select(SocialArea.id, SocialArea.code).where(SocialArea.id.in_(parent_ids))
                )
            ).all()
        )
    figures = await populations(session, [a.id for a in areas])
    return [
        SocialAreaOut(
            id=area.id,
            code=area.code,
            name=area.name,
            level=LevelRef(key=area.level.key, depth=area.level.depth, name=area.level.name),
            parent_id=area.parent_id,
            parent_code=parent_codes.get(area.parent_id) if area.parent_id else None,
            area_m2=area.area_m2,
            bbox=[area.min_lon, area.min_lat, area.max_lon, area.max_lat],
            population=figures.get(area.id),
            boundary=msgspec.convert(area.boundary, MultiPolygonOut) if boundaries else None,
        )
        for area in areas
    ]


# -- queries -----------------------------------------------------------------------------------


def _check_cursor(cursor: str | None) -> None:
    # keyset_page compares (code, id) with the cursor's values; a forged cursor of other
    # types must be a 400, not a database type error.
    if cursor:
        code, area_id = decode_cursor(cursor, 2)
        if not isinstance(code, str) or not isinstance(area_id, UUID):
            raise InvalidInput(
                "The cursor is not valid; start again without it.",
                errors=[FieldError(field="cursor", source="query", message="invalid cursor")],
            )


@dataclass(frozen=True, slots=True)
class AreaFilter:
    level: str | None = None
    parent_id: UUID | None = None
    parent_code: str | None = None
    code: str | None = None
    q: str | None = None


async def list_areas(
    session: AsyncSession,
    filters: AreaFilter,
    *,
    limit: int,
    cursor: str | None,
    boundaries: bool = False,
) -> Page[SocialAreaOut]:
    _check_cursor(cursor)
    statement = _areas(boundaries=boundaries)
    if filters.level is not None:
        level = await get_level(session, filters.level)
        statement = statement.where(SocialArea.level_id == level.id)
    if filters.parent_id is not None:
        statement = statement.where(SocialArea.parent_id == filters.parent_id)
    if filters.parent_code is not None:
        parent_id = await session.scalar(
            select(SocialArea.id).where(SocialArea.code == filters.parent_code)
        )
        if parent_id is None:
            raise InvalidInput(
                f"There is no area with code {filters.parent_code!r}.",
                errors=[FieldError(field="parent", source="query", message="unknown area code")],
            )
        statement = statement.where(SocialArea.parent_id == parent_id)
    if filters.code is not None:
        statement = statement.where(SocialArea.code == filters.code)
    if filters.q is not None:
        statement = statement.where(SocialArea.search_name.like(like_pattern(filters.q), "\\"))
    areas, next_cursor = await keyset_page(session, statement, _ORDER, limit=limit, cursor=cursor)
    return Page(items=await present(session, areas, boundaries=boundaries), next_cursor=next_cursor)


async def top_level_areas(session: AsyncSession) -> list[SocialAreaOut]:
    areas = (
        await session.scalars(
            _areas().where(SocialArea.parent_id.is_(None)).order_by(SocialArea.code)
        )
    ).all()
    return await present(session, areas)


async def _load(session: AsyncSession, condition: Any, what: str) -> SocialArea:
    area = await session.scalar(_areas(boundaries=True).where(condition))
    if area is None:
        raise NotFound(f"There is no social area with {what}.")
    return area


async def get_area(
    session: AsyncSession, area_id: UUID, *, boundaries: bool = False
) -> SocialAreaOut:
    area = await _load(session, SocialArea.id == area_id, f"id {area_id}")
    return (await present(session, [area], boundaries=boundaries))[0]


async def get_area_by_code(
    session: AsyncSession, code: str, *, boundaries: bool = False
) -> SocialAreaOut:
    area = await _load(session, SocialArea.code == code, f"code {code!r}")
    return (await present(session, [area], boundaries=boundaries))[0]


async def area_boundary(session: AsyncSession, area_id: UUID) -> dict[str, Any]:
    boundary = await session.scalar(select(SocialArea.boundary).where(SocialArea.id == area_id))
    if boundary is None:
        raise NotFound(f"There is no social area with id {area_id}.")
    return dict(boundary)


async def children(
    session: AsyncSession, area_id: UUID, *, limit: int, cursor: str | None
) -> Page[SocialAreaOut]:
    _check_cursor(cursor)
    await _exists(session, area_id)
    statement = _areas().where(SocialArea.parent_id == area_id)
    areas, next_cursor = await keyset_page(session, statement, _ORDER, limit=limit, cursor=cursor)
    return Page(items=await present(session, areas), next_cursor=next_cursor)


async def all_children(session: AsyncSession, area_id: UUID) -> list[SocialAreaOut]:
    areas = (
        await session.scalars(
            _areas().where(SocialArea.parent_id == area_id).order_by(SocialArea.code)
        )
    ).all()
    return await present(session, areas)


async def _exists(session: AsyncSession, area_id: UUID) -> list[UUID]:
    path = await session.scalar(select(SocialArea.path).where(SocialArea.id == area_id))
    if path is None:
        raise NotFound(f"There is no social area with id {area_id}.")
    return list(path)


async def ancestors(session: AsyncSession, area_id: UUID) -> list[SocialAreaOut]:
    """The areas above this one, top level first."""
    path = await _exists(session, area_id)
    if len(path) <= 1:
        return []
    areas = (
        await session.scalars(
            _areas()
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
            .where(SocialArea.id.in_(path[:-1]))
            .order_by(AreaLevel.depth)
        )
    ).all()
    return await present(session, areas)


async def lookup_point(session: AsyncSession, lat: float, lon: float) -> list[SocialAreaOut]:
    """The areas at every level that contain the point (its boundary included): candidates by
    bounding box in SQL (GiST), then an exact test against cached prepared boundaries."""
    # GiST's box operator class has `box @> box` but no `box @> point`: compare with a
    # degenerate box so that the index is used.
    in_bbox = text(f"{BBOX_BOX_SQL} @> box(point(:lon, :lat), point(:lon, :lat))").bindparams(
        lon=lon, lat=lat
    )
    candidates = (
        await session.scalars(
            _areas()
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
            .where(in_bbox)
            .order_by(AreaLevel.depth, SocialArea.code)
        )
    ).all()
    if not candidates:
        return []
    prepared: dict[UUID, Any] = {}
    for area in candidates:
        if (hit := geo.PREPARED.get(area.id, area.updated_at)) is not None:
            prepared[area.id] = hit
    missing = [area.id for area in candidates if area.id not in prepared]
    if missing:
        loaded = await session.execute(
            select(SocialArea.id, SocialArea.updated_at, SocialArea.boundary).where(
                SocialArea.id.in_(missing)
            )
        )
        for area_id, updated_at, boundary in loaded:
            prepared[area_id] = geo.PREPARED.put(area_id, updated_at, boundary)
    where = geo.point(lon, lat)
    inside = [area for area in candidates if prepared[area.id].covers(where)]
    return await present(session, inside) if inside else []


# -- GeoJSON export ----------------------------------------------------------------------------


class _FeatureProperties(msgspec.Struct):
    code: str
    name: str
    level: str
    parent_code: str | None
    area_m2: float
    population: PopulationOut | None


@dataclass(frozen=True, slots=True)
class DataVersion:
    """A cheap version of all social areas and population figures: counts and latest changes
    (an import upserts and stamps `updated_at`; a deletion lowers a count)."""

    key: str
    modified: datetime.datetime | None


async def data_version(session: AsyncSession) -> DataVersion:
    """One round trip of counts and maxima, for ETags of streamed exports (core.conditional)."""
    row = (
        await session.execute(
            text(
                """
                SELECT (SELECT count(*) FROM area_levels),
                       (SELECT max(updated_at) FROM area_levels),
                       (SELECT count(*) FROM social_areas),
                       (SELECT max(updated_at) FROM social_areas),
                       (SELECT count(*) FROM area_populations),
                       (SELECT max(updated_at) FROM area_populations),
                       (SELECT count(*) FROM area_population_ages),
                       (SELECT max(updated_at) FROM area_population_ages)
                """
            )
        )
    ).one()
    moments = [value for value in row if isinstance(value, datetime.datetime)]
    key = "|".join("" if value is None else str(value) for value in row)
    return DataVersion(key=key, modified=max(moments) if moments else None)


async def export_level(
    session: AsyncSession, level_key: str
) -> tuple[AreaLevel, dict[UUID, PopulationOut]]:
    """The level and the population of each of its areas, read before the stream starts."""
    level = await get_level(session, level_key)
    ids = select(SocialArea.id).where(SocialArea.level_id == level.id)
    return level, await populations(session, ids)


async def stream_level_geojson(
    engine: AsyncEngine, level: AreaLevel, figures: dict[UUID, PopulationOut]
) -> AsyncIterator[bytes]:
    """The level as a GeoJSON FeatureCollection, one feature at a time. Boundaries are passed
    through as PostgreSQL renders the JSONB, never decoded here. Uses its own connection: the
    request's session is closed once the response starts."""
    encoder = msgspec.json.Encoder()
    header = {"type": "FeatureCollection", "name": level.key}
    yield encoder.encode(header)[:-1] + b',"features":['
    parent = _table(SocialArea).alias("parent")
    areas = _table(SocialArea)
    statement = (
        select(
            areas.c.id,
            areas.c.code,
            areas.c.name,
            areas.c.area_m2,
            parent.c.code,
            cast(areas.c.boundary, Text),
        )
        .select_from(areas.outerjoin(parent, parent.c.id == areas.c.parent_id))
        .where(areas.c.level_id == level.id)
        .order_by(areas.c.code)
    )
    async with engine.connect() as connection:
        result = await connection.stream(statement.execution_options(yield_per=100))
        separator = b""
        async for area_id, code, name, area_m2, parent_code, boundary in result:
            properties = _FeatureProperties(
                code=code,
                name=name,
                level=level.key,
                parent_code=parent_code,
                area_m2=area_m2,
                population=figures.get(area_id),
            )
            yield (
                separator
                + b'{"type":"Feature","id":'
                + encoder.encode(code)
                + b',"properties":'
                + encoder.encode(properties)
                + b',"geometry":'
                + boundary.encode()
                + b"}"
            )
            separator = b","
    yield b"]}"


# -- import ------------------------------------------------------------------------------------

_CODES = bindparam("codes", type_=ARRAY(String))


async def import_areas(
    session: AsyncSession,
    levels: list[importer.LevelSource],
    population: list[importer.PopulationSource],
    *,
    first_depth: int | None = None,
    parent_level: str | None = None,
    confirm_warnings: bool = False,
) -> ImportReport:
    """Import levels and population in the caller's transaction, inside a savepoint: on any
    error nothing changes and ImportFailed carries the report; with plausibility warnings
    (rows with `needs_confirmation`) that `confirm_warnings` does not confirm, nothing changes
    either and ImportNeedsConfirmation carries the report. Areas are matched by code, so a
    repeated import changes nothing (and leaves `updated_at` alone).

    The levels are listed from `first_depth` down (see `resolve_first_depth`): 0 imports the
    hierarchy from the top; a deeper start (one level on its own) places the first level under
    the stored areas of the level above it."""
    depth = await resolve_first_depth(session, levels, first_depth, parent_level)
    report, _, _ = await _import(session, levels, population, depth, confirm_warnings)
    return report


async def resolve_first_depth(
    session: AsyncSession,
    levels: list[importer.LevelSource],
    first_depth: int | None = None,
    parent_level: str | None = None,
) -> int:
    """The depth of the first level: `first_depth` when given; one below `parent_level` (a
    stored level's key) when given; the stored depth of the first level when it exists;
    otherwise 0, the top."""
    if first_depth is not None:
        return first_depth
    if parent_level is not None:
        depth = await session.scalar(select(AreaLevel.depth).where(AreaLevel.key == parent_level))
        if depth is None:
            raise InvalidInput(
                f"There is no level {parent_level!r} to import under.",
                errors=[FieldError(field="parent_level", source="body", message="unknown level")],
            )
        return int(depth) + 1
    if levels:
        stored = await session.scalar(select(AreaLevel.depth).where(AreaLevel.key == levels[0].key))
        if stored is not None:
            return int(stored)
    return 0


@dataclass(slots=True)
class AreaOutcome:
    """What an import would do with one area: `outcome` is created, updated or unchanged."""

    code: str
    name: str
    parent_code: str | None
    level: str
    outcome: str
    geometry: Any  # shapely MultiPolygon, WGS 84


@dataclass(slots=True)
class PopulationOutcome:
    code: str
    line: int
    reference_date: datetime.date
    total: int
    female: int | None
    imported: bool  # False: the row is skipped (a warning in the report says why)


@dataclass(slots=True)
class ImportPreview:
    report: ImportReport
    areas: list[AreaOutcome]
    population: list[PopulationOutcome]


async def preview_import(
    session: AsyncSession,
    levels: list[importer.LevelSource],
    population: list[importer.PopulationSource],
    *,
    first_depth: int | None = None,
) -> ImportPreview:
    """Run the import in a savepoint that is rolled back: the report, and per area and
    population row what the import would do, exactly as `import_areas` would do it (the same
    code runs). Raises ImportFailed like the import; warnings to confirm are in the report
    (`needs_confirmation`), for the importer to confirm."""
    depth = await resolve_first_depth(session, levels, first_depth)
    async with session.begin_nested() as savepoint:
        report, prepared, accepted = await _import(session, levels, population, depth, True)
        await savepoint.rollback()
    areas = [
        AreaOutcome(
            code=area.code,
            name=area.name,
            parent_code=area.parent_code,
            level=record.source.key,
            outcome=record.outcomes.get(area.code, "unchanged"),
            geometry=area.boundary.geometry,
        )
        for record in prepared.levels
        for area in record.areas.values()
    ]
    taken = {(r.code, r.reference_date) for r in accepted}
    rows = [
        PopulationOutcome(
            code=r.code,
            line=r.line,
            reference_date=r.reference_date,
            total=r.total,
            female=r.female,
            imported=(r.code, r.reference_date) in taken,
        )
        for r in prepared.population
    ]
    return ImportPreview(report=report, areas=areas, population=rows)


async def _stored_parents(
    session: AsyncSession, depth: int
) -> tuple[dict[str, importer.AreaRecord], dict[str, UUID]]:
    """The stored areas of the level at `depth` as parents for the level below, and their ids."""
    rows = (
        await session.execute(
            select(SocialArea.id, SocialArea.code, SocialArea.name, SocialArea.boundary)
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
            .where(AreaLevel.depth == depth)
        )
    ).all()
    parents: dict[str, importer.AreaRecord] = {}
    for row in rows:
        shape = geo.from_geojson(row.boundary)
        boundary = geo.Boundary(
            geometry=shape,
            geojson=row.boundary,
            bbox=tuple(float(v) for v in shape.bounds),  # type: ignore[arg-type]
            area_m2=0.0,
            repaired=None,
        )
        parents[row.code] = importer.AreaRecord(
            code=row.code,
            name=row.name,
            depth=depth,
            feature=-1,
            boundary=boundary,
            inside=shape.representative_point(),
        )
    return parents, {row.code: row.id for row in rows}


async def _previous_boundaries(
    session: AsyncSession, levels: list[importer.LevelSource]
) -> dict[str, dict[str, Any]]:
    """The stored boundaries (GeoJSON) of the areas on the levels being imported, by code."""
    if not levels:
        return {}
    rows = await session.execute(
        select(SocialArea.code, SocialArea.boundary)
        .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
        .where(AreaLevel.key.in_([level.key for level in levels]))
    )
    return {code: boundary for code, boundary in rows}


def _prepare(
    levels: list[importer.LevelSource],
    population: list[importer.PopulationSource],
    parents: dict[str, importer.AreaRecord] | None,
    first_depth: int,
    previous: dict[str, dict[str, Any]],
) -> importer.PreparedImport:
    shapes = {code: geo.from_geojson(boundary) for code, boundary in previous.items()}
    return importer.prepare(levels, population, parents, first_depth, shapes)


async def _import(
    session: AsyncSession,
    levels: list[importer.LevelSource],
    population: list[importer.PopulationSource],
    first_depth: int,
    confirm_warnings: bool,
) -> tuple[ImportReport, importer.PreparedImport, list[importer.PopulationRecord]]:
    parents: dict[str, importer.AreaRecord] | None = None
    parent_ids: dict[str, UUID] = {}
    if first_depth > 0 and levels:
        parents, parent_ids = await _stored_parents(session, first_depth - 1)
    previous = await _previous_boundaries(session, levels)
    # Parsing, transforming and validating boundaries is CPU work: keep the event loop free.
    prepared = await anyio.to_thread.run_sync(
        partial(_prepare, levels, population, parents, first_depth, previous)
    )
    report = prepared.report
    summaries = [record.summary for record in prepared.levels if record.summary is not None]

    existing_levels = {lv.key: lv for lv in (await session.scalars(select(AreaLevel))).all()}
    by_depth = {lv.depth: lv for lv in existing_levels.values()}
    for record in prepared.levels:
        key = record.source.key
        known = existing_levels.get(key)
        if known is not None and known.depth != record.depth:
            report.error(
                record.source.source,
                f"level {key} is at depth {known.depth}, not {record.depth}: list the levels "
                "from the top in their order",
            )
        holder = by_depth.get(record.depth)
        if holder is not None and holder.key != key:
            report.error(
                record.source.source,
                f"depth {record.depth} belongs to level {holder.key}, not {key}",
            )

    codes = [code for record in prepared.levels for code in record.areas]
    level_of_code = {code: record.source.key for record in prepared.levels for code in record.areas}
    existing = {
        code: (area_id, level_key)
        for area_id, code, level_key in (
            await session.execute(
                select(SocialArea.id, SocialArea.code, AreaLevel.key)
                .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
                .where(SocialArea.code == any_(_CODES)),
                {"codes": codes},
            )
        ).all()
    }
    for code, (_, level_key) in existing.items():
        if level_key != level_of_code[code]:
            report.error(
                "database",
                f"code {code} belongs to level {level_key}, not {level_of_code[code]}",
                code=code,
            )

    accepted = await _check_population(session, prepared)
    absent = await _absent_areas(session, prepared, existing_levels)
    for code in absent:
        report.warning("database", "not in this import; the area is kept", code=code)

    if report.errors:
        raise ImportFailed(report.build(summaries, prepared.population_summary))
    if report.to_confirm and not confirm_warnings:
        raise ImportNeedsConfirmation(
            report.build(summaries, prepared.population_summary, confirmed=False)
        )

    async with session.begin_nested():
        level_ids = await _write_levels(session, prepared, existing_levels)
        await _write_areas(session, prepared, level_ids, existing, parent_ids)
        await _write_population(session, prepared, accepted)
        await session.flush()
    return report.build(summaries, prepared.population_summary), prepared, accepted


async def _check_population(
    session: AsyncSession,
    prepared: importer.PreparedImport,
) -> list[importer.PopulationRecord]:
    """Population records whose area exists and is a leaf; the rest are warnings."""
    summary = prepared.population_summary
    summary.rows = len(prepared.population)
    if not prepared.population:
        return []
    report = prepared.report
    imported_codes = {code for record in prepared.levels for code in record.areas}
    parents_in_import = {
        area.parent_code
        for record in prepared.levels
        for area in record.areas.values()
        if area.parent_code
    }
    population_codes = [r.code for r in prepared.population]
    known_codes = set(
        (
            await session.scalars(
                select(SocialArea.code).where(SocialArea.code == any_(_CODES)),
                {"codes": population_codes},
            )
        ).all()
    )
    child = _table(SocialArea).alias("child")
    with_children = set(
        (
            await session.scalars(
                select(SocialArea.code).where(
                    SocialArea.code == any_(_CODES),
                    select(child.c.id).where(child.c.parent_id == SocialArea.id).exists(),
                ),
                {"codes": population_codes},
            )
        ).all()
    )
    unmatched = [r.code for r in prepared.population if r.code not in imported_codes | known_codes]
    if len(unmatched) > importer.UNMATCHED_SHARE * len(prepared.population):
        await _most_codes_unmatched(session, prepared, unmatched, imported_codes)
    accepted: list[importer.PopulationRecord] = []
    for record in prepared.population:
        where = {"line": record.line, "code": record.code}
        if record.code not in imported_codes and record.code not in known_codes:
            report.warning(
                record.source,
                f"no area with code {record.code}; {record.total} inhabitants skipped",
                **where,
            )
        elif record.code in parents_in_import or record.code in with_children:
            report.warning(
                record.source,
                f"area {record.code} has sub-areas, whose figures add up to its population; "
                "row skipped",
                **where,
            )
        else:
            accepted.append(record)
            continue
        summary.skipped += 1
    summary.imported = len(accepted)
    summary.inhabitants_imported = sum(r.total for r in accepted)
    return accepted


async def _most_codes_unmatched(
    session: AsyncSession,
    prepared: importer.PreparedImport,
    unmatched: list[str],
    imported_codes: set[str],
) -> None:
    """Most population rows match no area: a warning to confirm, per table; when the codes
    match once zeros are put back in front, say that a spreadsheet dropped them."""
    padded = {
        "0" * zeros + code: code for code in unmatched if code.isdigit() for zeros in range(1, 4)
    }
    # original code → the stored or imported code it matches with zeros in front
    restorable = {padded[code]: code for code in imported_codes if code in padded}
    restorable.update(
        (padded[code], code)
        for code in (
            await session.scalars(
                select(SocialArea.code).where(SocialArea.code == any_(_CODES)),
                {"codes": list(padded)},
            )
        ).all()
    )
    by_source: dict[str, list[importer.PopulationRecord]] = {}
    for record in prepared.population:
        by_source.setdefault(record.source, []).append(record)
    missing = set(unmatched)
    for source, records in by_source.items():
        lost = [r.code for r in records if r.code in missing]
        if len(lost) <= importer.UNMATCHED_SHARE * len(records):
            continue
        message = f"{len(lost)} of {len(records)} codes match no area"
        zeros = [code for code in lost if code in restorable]
        if zeros:
            example = zeros[0]
            message += (
                f"; {len(zeros)} of them match once leading zeros are restored (e.g. "
                f"{example} → {restorable[example]}): the leading zeros were probably lost in "
                "a spreadsheet that read the codes as numbers; format the code column as text "
                "and export the table again"
            )
        else:
            message += "; check the code column and that the areas are imported"
        prepared.report.confirm(source, message)


async def _absent_areas(
    session: AsyncSession,
    prepared: importer.PreparedImport,
    existing_levels: dict[str, AreaLevel],
) -> list[str]:
    level_ids = [
        existing_levels[r.source.key].id for r in prepared.levels if r.source.key in existing_levels
    ]
    if not level_ids:
        return []
    codes = [code for record in prepared.levels for code in record.areas]
    return list(
        (
            await session.scalars(
                select(SocialArea.code)
                .where(SocialArea.level_id.in_(level_ids), SocialArea.code != all_(_CODES))
                .order_by(SocialArea.code),
                {"codes": codes},
            )
        ).all()
    )


def _level_name(key: str) -> str:
    return key.replace("_", " ").capitalize()


async def _write_levels(
    session: AsyncSession, prepared: importer.PreparedImport, existing: dict[str, AreaLevel]
) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    for record in prepared.levels:
        source = record.source
        level = existing.get(source.key)
        if level is None:
            level = AreaLevel(
                key=source.key,
                depth=record.depth,
                name_de=source.name_de or _level_name(source.key),
                name_en=source.name_en or _level_name(source.key),
            )
            session.add(level)
        else:
            level.name_de = source.name_de or level.name_de
            level.name_en = source.name_en or level.name_en
        await session.flush()
        ids[source.key] = level.id
    return ids


async def _write_areas(
    session: AsyncSession,
    prepared: importer.PreparedImport,
    level_ids: dict[str, UUID],
    existing: dict[str, tuple[UUID, str]],
    parent_ids: dict[str, UUID],
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    table = _table(SocialArea)
    code_ids: dict[str, UUID] = dict(parent_ids)
    changing = ("name", "search_name", "level_id", "parent_id", "boundary", "area_m2")
    for record in prepared.levels:
        assert record.summary is not None
        rows = []
        for area in record.areas.values():
            area_id = uuid7()
            west, south, east, north = area.boundary.bbox
            rows.append(
                {
                    "id": area_id,
                    "code": area.code,
                    "name": area.name,
                    "search_name": search_forms(area.name),
                    "level_id": level_ids[record.source.key],
                    "parent_id": code_ids[area.parent_code] if area.parent_code else None,
                    "path": [area_id],
                    "boundary": area.boundary.geojson,
                    "min_lon": west,
                    "min_lat": south,
                    "max_lon": east,
                    "max_lat": north,
                    "area_m2": area.boundary.area_m2,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if not rows:
            continue
        upsert = insert(table)
        excluded = upsert.excluded
        statement = upsert.on_conflict_do_update(
            index_elements=[table.c.code],
            set_={
                **{name: excluded[name] for name in changing},
                "min_lon": excluded.min_lon,
                "min_lat": excluded.min_lat,
                "max_lon": excluded.max_lon,
                "max_lat": excluded.max_lat,
                "updated_at": excluded.updated_at,
            },
            where=or_(*(table.c[name].is_distinct_from(excluded[name]) for name in changing)),
        ).returning(table.c.code)
        written = set((await session.execute(statement, rows)).scalars().all())
        record.summary.created = len(written - existing.keys())
        record.summary.updated = len(written & existing.keys())
        record.summary.unchanged = len(rows) - len(written)
        for row in rows:
            code = str(row["code"])
            record.outcomes[code] = (
                ("updated" if code in existing else "created") if code in written else "unchanged"
            )
        code_ids.update(
            (
                await session.execute(
                    select(SocialArea.code, SocialArea.id).where(SocialArea.code == any_(_CODES)),
                    {"codes": [row["code"] for row in rows]},
                )
            ).all()
        )
    # The materialised paths follow the parent links; recomputed for the whole tree, which is
    # one statement and touches only rows whose path changed.
    await session.execute(
        text(
            """
            WITH RECURSIVE tree(id, path) AS (
                SELECT id, ARRAY[id] FROM social_areas WHERE parent_id IS NULL
                UNION ALL
                SELECT child.id, tree.path || child.id
                FROM social_areas child JOIN tree ON child.parent_id = tree.id
            )
            UPDATE social_areas SET path = tree.path
            FROM tree
            WHERE social_areas.id = tree.id AND social_areas.path IS DISTINCT FROM tree.path
            """
        )
    )


async def _write_population(
    session: AsyncSession,
    prepared: importer.PreparedImport,
    accepted: list[importer.PopulationRecord],
) -> None:
    if not accepted:
        return
    now = datetime.datetime.now(datetime.UTC)
    band_ids: dict[str, UUID] = {}
    if prepared.bands:
        bands = insert(_table(AgeBand))
        await session.execute(
            bands.on_conflict_do_update(
                index_elements=[_table(AgeBand).c.key],
                set_={
                    "min_age": bands.excluded.min_age,
                    "max_age": bands.excluded.max_age,
                    "label_de": bands.excluded.label_de,
                    "label_en": bands.excluded.label_en,
                },
            ),
            [
                {
                    "id": uuid7(),
                    "key": b.key,
                    "min_age": b.min_age,
                    "max_age": b.max_age,
                    "label_de": b.label_de,
                    "label_en": b.label_en,
                    "created_at": now,
                    "updated_at": now,
                }
                for b in prepared.bands
            ],
        )
        band_ids = dict((await session.execute(select(AgeBand.key, AgeBand.id))).all())
    area_ids = dict(
        (
            await session.execute(
                select(SocialArea.code, SocialArea.id).where(SocialArea.code == any_(_CODES)),
                {"codes": [r.code for r in accepted]},
            )
        ).all()
    )
    table = _table(AreaPopulation)
    upsert = insert(table)
    statement = upsert.on_conflict_do_update(
        constraint="uq_area_populations_area_date",
        set_={
            "total": upsert.excluded.total,
            "female": upsert.excluded.female,
            "updated_at": upsert.excluded.updated_at,
        },
    ).returning(table.c.id, table.c.area_id, table.c.reference_date)
    rows = [
        {
            "id": uuid7(),
            "area_id": area_ids[r.code],
            "reference_date": r.reference_date,
            "total": r.total,
            "female": r.female,
            "created_at": now,
            "updated_at": now,
        }
        for r in accepted
    ]
    written = (await session.execute(statement, rows)).all()
    population_ids = {(area_id, date): pid for pid, area_id, date in written}
    await session.execute(
        delete(AreaPopulationByAge).where(
            AreaPopulationByAge.population_id.in_([pid for pid, _, _ in written])
        )
    )
    counts = [
        {
            "id": uuid7(),
            "population_id": population_ids[(area_ids[r.code], r.reference_date)],
            "age_band_id": band_ids[key],
            "count": count,
            "created_at": now,
            "updated_at": now,
        }
        for r in accepted
        for key, count in r.bands.items()
    ]
    if counts:
        await session.execute(insert(_table(AreaPopulationByAge)), counts)
