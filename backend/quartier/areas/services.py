"""Social areas: queries (lists, hierarchy, population roll-up, point lookup, GeoJSON export)
and the import's database phase. Services never commit; the request (or the CLI's
`run_in_session`) does.

Population roll-up: only leaf areas carry figures; an area's population is the sum over the
leaves of its subtree (`path @> ARRAY[area.id]`) valid on the date asked for, on the latest
reference date found there, computed in one grouped SQL query per page of areas.

Dates: lists, children, the GeoJSON export and the point lookup take a date `at` (default
today) and give the areas valid then with the boundary version valid then; a single area read
by id or code is given whatever its validity, as on `at` moved into its validity (a retired
area as on its last day). So a retired area and its successor are never counted together.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal
from typing import cast as cast_type
from uuid import UUID

import anyio.to_thread
import msgspec
from sqlalchemy import (
    ARRAY,
    Date,
    Select,
    String,
    Table,
    Text,
    Uuid,
    all_,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased, defer, joinedload
from sqlalchemy.sql.elements import ColumnElement
from uuid_utils.compat import uuid7

from quartier.areas import geometry as geo
from quartier.areas import importer
from quartier.areas.models import (
    BBOX_BOX_SQL,
    AgeBand,
    AreaLevel,
    AreaPopulation,
    AreaPopulationByAge,
    AreaSuccession,
    AreaVersion,
    SocialArea,
    today,
    valid_between,
)
from quartier.areas.schemas import (
    AgeBandCount,
    AreaChange,
    AreaLevelList,
    AreaLevelOut,
    AreaVersionList,
    AreaVersionOut,
    ImportReport,
    LevelRef,
    MultiPolygonOut,
    PopulationOut,
    Provenance,
    ProvenanceOut,
    SocialAreaOut,
    VersionOut,
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


async def list_levels(session: AsyncSession, fallback: str = "") -> AreaLevelList:
    """The levels from the top, with their areas valid today; `fallback`: see provenance_of."""
    count = (
        select(func.count(SocialArea.id))
        .where(SocialArea.level_id == AreaLevel.id, SocialArea.valid_on(today()))
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
                provenance=provenance_of(level, fallback),
            )
            for level, area_count in rows
        ]
    )


def provenance_of(level: AreaLevel, fallback: str) -> ProvenanceOut:
    """A level's recorded provenance; `fallback` (the deployment's configured attribution of
    area data) where its import stated none."""
    return ProvenanceOut(
        source=level.source, licence=level.licence, attribution=level.attribution or fallback
    )


async def attribution(
    session: AsyncSession, fallback: str, level_ids: Sequence[UUID] | None = None
) -> str:
    """The attribution an export of area data repeats: the distinct attributions recorded on
    the levels it uses (all levels when `level_ids` is None), in level order, joined by `; `;
    `fallback` where a level has none recorded."""
    statement = select(AreaLevel.attribution).order_by(AreaLevel.depth)
    if level_ids is not None:
        statement = statement.where(AreaLevel.id.in_(level_ids))
    found = [text or fallback for text in (await session.scalars(statement)).all()]
    return "; ".join(dict.fromkeys(found)) or fallback


async def _record_provenance(
    session: AsyncSession,
    provenance: Provenance,
    level_keys: Sequence[str],
    population_codes: Sequence[str],
) -> None:
    touched = select(SocialArea.level_id).where(SocialArea.code.in_(population_codes))
    await session.execute(
        update(AreaLevel)
        .where(or_(AreaLevel.key.in_(level_keys), AreaLevel.id.in_(touched)))
        .values(
            source=provenance.source,
            licence=provenance.licence,
            attribution=provenance.attribution,
            updated_at=func.now(),  # the ETags of the level's reads and exports change
        )
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


def _state_on(day: datetime.date) -> Any:
    """SQL: per area, the name, parent and path of the version valid on `day` (the row's own
    from `boundary_from`, an earlier one from social_area_versions before it); areas not valid
    on `day` may appear with their row's values, so join it with SocialArea.valid_on(day)."""
    return (
        select(
            SocialArea.id.label("area_id"),
            SocialArea.name,
            SocialArea.search_name,
            SocialArea.parent_id,
            SocialArea.path,
        )
        .where(or_(SocialArea.boundary_from.is_(None), SocialArea.boundary_from <= day))
        .union_all(
            select(
                AreaVersion.area_id,
                AreaVersion.name,
                AreaVersion.search_name,
                AreaVersion.parent_id,
                AreaVersion.path,
            ).where(valid_between(AreaVersion.valid_from, AreaVersion.valid_to, day))
        )
        .subquery("state")
    )


def _periods() -> Any:
    """SQL: every version of every area with its path (name, parent) and period [valid_from,
    valid_to) — the row's own from `boundary_from` (or the area's start) to the area's end,
    and the earlier ones. The path of a day is that of the version whose period holds it."""
    areas = _table(SocialArea)
    earlier = _table(AreaVersion)
    return (
        select(
            areas.c.id.label("area_id"),
            areas.c.path,
            func.coalesce(areas.c.boundary_from, areas.c.valid_from).label("valid_from"),
            areas.c.valid_to,
            areas.c.name,
            areas.c.parent_id,
        )
        .union_all(
            select(
                earlier.c.area_id,
                earlier.c.path,
                earlier.c.valid_from,
                earlier.c.valid_to,
                earlier.c.name,
                earlier.c.parent_id,
            )
        )
        .subquery("periods")
    )


def _day_within(valid_from: Any, valid_to: Any, day: datetime.date | ColumnElement[Any]) -> Any:
    """SQL: `day` (a date or a date-valued SQL expression) moved into [valid_from, valid_to) —
    SocialArea.day_within in SQL."""
    last = cast(valid_to - datetime.timedelta(days=1), Date)
    return case(
        (valid_to <= day, last),
        (valid_from > day, valid_from),
        else_=day if isinstance(day, ColumnElement) else literal(day, Date),
    )


def hierarchy_on(day: datetime.date | ColumnElement[Any]) -> Select[Any]:
    """SQL: every area as on `day` (a date or a date-valued SQL expression): id, code and
    level_id, the name, parent_id and path of its version of that day, and `valid` — whether
    it exists on `day`. An area not valid then is given as on its last or first valid day, the
    day `populations` takes for it (`_day_within` over `_periods`), so a response given in a
    retired area rolls up along the path that area last had. Aggregates of responses use it
    in place of `social_areas` to roll up along the hierarchy of a date; statements written
    as text use `hierarchy_on_sql`."""
    area = _table(SocialArea).alias("dated_area")
    version = _periods()
    on = day if isinstance(day, ColumnElement) else literal(day, Date)
    within = _day_within(area.c.valid_from, area.c.valid_to, on)
    return select(
        area.c.id,
        area.c.code,
        area.c.level_id,
        version.c.name,
        version.c.parent_id,
        version.c.path,
        valid_between(area.c.valid_from, area.c.valid_to, on).label("valid"),
    ).select_from(
        area.join(
            version,
            and_(
                version.c.area_id == area.c.id,
                valid_between(version.c.valid_from, version.c.valid_to, within),
            ),
        )
    )


def _earlier_version_holds(areas: Any, earlier: Any, day: datetime.date) -> Any:
    """SQL: the join of an area to its earlier version (`social_area_versions`) that holds
    `day` — none when the area's own row does (`boundary_from` on or before the day)."""
    return and_(
        earlier.c.area_id == areas.c.id,
        areas.c.boundary_from > day,
        valid_between(earlier.c.valid_from, earlier.c.valid_to, day),
    )


def boundaries_on(day: datetime.date) -> Select[Any]:
    """SQL: id, code and boundary (GeoJSON text) of every area, the boundary of its version
    valid on `day` (the row's own unless an earlier version holds the day)."""
    areas = _table(SocialArea)
    earlier = _table(AreaVersion).alias("earlier")
    return select(
        areas.c.id,
        areas.c.code,
        cast(func.coalesce(earlier.c.boundary, areas.c.boundary), Text).label("boundary"),
    ).select_from(areas.outerjoin(earlier, _earlier_version_holds(areas, earlier, day)))


def hierarchy_on_sql(parameter: str) -> str:
    """`hierarchy_on` as SQL text for statements written with `text()`, the day being the
    bound date parameter `:parameter` (a CTE or subquery: `WITH area_on AS (...)`)."""
    day = literal_column(f"CAST(:{parameter} AS date)", Date)
    dialect = PGDialect()  # type: ignore[no-untyped-call]
    return str(hierarchy_on(day).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def populations(
    session: AsyncSession,
    area_ids: Sequence[UUID] | Select[Any],
    *,
    at: datetime.date | None = None,
) -> dict[UUID, PopulationOut]:
    """Population of each area on `at` (default today; for an area not valid then, its last
    or first valid day): the sum over the leaves of its subtree valid on that day, on the
    latest reference date found there, in SQL. A retired area and its successor are never
    both valid on one day, so neither counts twice; the subtree is the one of that day (an
    area moved to another parent counts under the parent of the day, never under both)."""
    if isinstance(area_ids, Sequence) and not area_ids:
        return {}
    target = _table(SocialArea).alias("target")
    member = _periods()
    figures = _table(AreaPopulation)
    day = _day_within(target.c.valid_from, target.c.valid_to, at or today())
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
                figures, figures.c.area_id == member.c.area_id
            )
        )
        .where(
            target.c.id.in_(area_ids), valid_between(member.c.valid_from, member.c.valid_to, day)
        )
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


@dataclass(frozen=True, slots=True)
class _Version:
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    bbox: list[float]
    area_m2: float
    boundary: dict[str, Any] | None
    name: str
    parent_id: UUID | None


def _current_version(area: SocialArea, boundaries: bool) -> _Version:
    return _Version(
        valid_from=area.boundary_from,
        valid_to=area.valid_to,
        name=area.name,
        parent_id=area.parent_id,
        bbox=[area.min_lon, area.min_lat, area.max_lon, area.max_lat],
        area_m2=area.area_m2,
        boundary=area.boundary if boundaries else None,
    )


def _earlier_version(version: AreaVersion, boundaries: bool) -> _Version:
    return _Version(
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        name=version.name,
        parent_id=version.parent_id,
        bbox=[version.min_lon, version.min_lat, version.max_lon, version.max_lat],
        area_m2=version.area_m2,
        boundary=version.boundary if boundaries else None,
    )


async def _versions_on(
    session: AsyncSession, areas: Sequence[SocialArea], day: datetime.date, boundaries: bool
) -> dict[UUID, _Version]:
    """The boundary version of each area valid on `day` moved into the area's validity: the
    row's own (newest) version, or an earlier one from social_area_versions."""
    found: dict[UUID, _Version] = {}
    earlier: dict[UUID, datetime.date] = {}
    for area in areas:
        on = area.day_within(day)
        if area.boundary_from is None or area.boundary_from <= on:
            found[area.id] = _current_version(area, boundaries)
        else:
            earlier[area.id] = on
    if earlier:
        statement = select(AreaVersion).where(AreaVersion.area_id.in_(list(earlier)))
        if not boundaries:
            statement = statement.options(defer(AreaVersion.boundary, raiseload=True))
        for version in (await session.scalars(statement)).all():
            on = earlier[version.area_id]
            if (version.valid_from is None or version.valid_from <= on) and on < version.valid_to:
                found[version.area_id] = _earlier_version(version, boundaries)
    return found


async def _successions(
    session: AsyncSession, area_ids: Sequence[UUID]
) -> tuple[dict[UUID, list[str]], dict[UUID, list[str]]]:
    """(predecessor codes, successor codes) by area id."""
    predecessors: dict[UUID, list[str]] = {}
    successors: dict[UUID, list[str]] = {}
    if not area_ids:
        return predecessors, successors
    before = aliased(SocialArea)
    after = aliased(SocialArea)
    rows = await session.execute(
        select(AreaSuccession.predecessor_id, before.code, AreaSuccession.successor_id, after.code)
        .join(before, before.id == AreaSuccession.predecessor_id)
        .join(after, after.id == AreaSuccession.successor_id)
        .where(
            or_(
                AreaSuccession.predecessor_id.in_(area_ids),
                AreaSuccession.successor_id.in_(area_ids),
            )
        )
        .order_by(before.code, after.code)
    )
    for predecessor_id, predecessor_code, successor_id, successor_code in rows:
        successors.setdefault(predecessor_id, []).append(successor_code)
        predecessors.setdefault(successor_id, []).append(predecessor_code)
    return predecessors, successors


async def present(
    session: AsyncSession,
    areas: Sequence[SocialArea],
    *,
    boundaries: bool = False,
    at: datetime.date | None = None,
) -> list[SocialAreaOut]:
    """The areas as on `at` (default today), each moved into its validity: the boundary
    version, bbox, area and population of that day."""
    day = at or today()
    versions = await _versions_on(session, areas, day, boundaries)
    # Lookups and breadcrumbs present whole chains: their parents are already at hand.
    parent_codes = {a.id: a.code for a in areas}
    parent_ids = {
        v.parent_id for v in versions.values() if v.parent_id is not None
    } - parent_codes.keys()
    if parent_ids:
        parent_codes.update(
            (
                await session.execute(
                    select(SocialArea.id, SocialArea.code).where(SocialArea.id.in_(parent_ids))
                )
            ).all()
        )
    ids = [a.id for a in areas]
    figures = await populations(session, ids, at=day)
    predecessors, successors = await _successions(session, ids)
    result = []
    for area in areas:
        version = versions.get(area.id) or _current_version(area, boundaries)
        result.append(
            SocialAreaOut(
                id=area.id,
                code=area.code,
                name=version.name,
                level=LevelRef(key=area.level.key, depth=area.level.depth, name=area.level.name),
                parent_id=version.parent_id,
                parent_code=parent_codes.get(version.parent_id) if version.parent_id else None,
                area_m2=version.area_m2,
                bbox=version.bbox,
                population=figures.get(area.id),
                boundary=(
                    msgspec.convert(version.boundary, MultiPolygonOut)
                    if version.boundary is not None
                    else None
                ),
                valid_from=area.valid_from,
                valid_to=area.valid_to,
                version=VersionOut(valid_from=version.valid_from, valid_to=version.valid_to),
                predecessors=predecessors.get(area.id, []),
                successors=successors.get(area.id, []),
            )
        )
    return result


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
    at: datetime.date | None = None  # default today


async def list_areas(
    session: AsyncSession,
    filters: AreaFilter,
    *,
    limit: int,
    cursor: str | None,
    boundaries: bool = False,
) -> Page[SocialAreaOut]:
    _check_cursor(cursor)
    day = filters.at or today()
    statement = _areas(boundaries=boundaries).where(SocialArea.valid_on(day))
    if filters.level is not None:
        level = await get_level(session, filters.level)
        statement = statement.where(SocialArea.level_id == level.id)
    state = _state_on(day)
    if filters.parent_id is not None or filters.parent_code is not None or filters.q is not None:
        # parent and name of that day
        statement = statement.join(state, state.c.area_id == SocialArea.id)
    if filters.parent_id is not None:
        statement = statement.where(state.c.parent_id == filters.parent_id)
    if filters.parent_code is not None:
        parent_id = await session.scalar(
            select(SocialArea.id).where(SocialArea.code == filters.parent_code)
        )
        if parent_id is None:
            raise InvalidInput(
                f"There is no area with code {filters.parent_code!r}.",
                errors=[FieldError(field="parent", source="query", message="unknown area code")],
            )
        statement = statement.where(state.c.parent_id == parent_id)
    if filters.code is not None:
        statement = statement.where(SocialArea.code == filters.code)
    if filters.q is not None:
        statement = statement.where(state.c.search_name.like(like_pattern(filters.q), "\\"))
    areas, next_cursor = await keyset_page(session, statement, _ORDER, limit=limit, cursor=cursor)
    return Page(
        items=await present(session, areas, boundaries=boundaries, at=day),
        next_cursor=next_cursor,
    )


async def top_level_areas(session: AsyncSession) -> list[SocialAreaOut]:
    """The top-level areas valid today."""
    areas = (
        await session.scalars(
            _areas()
            .where(SocialArea.parent_id.is_(None), SocialArea.valid_on(today()))
            .order_by(SocialArea.code)
        )
    ).all()
    return await present(session, areas)


def _validity(area: SocialArea) -> str:
    start = area.valid_from.isoformat() if area.valid_from else "always"
    end = f"before {area.valid_to.isoformat()}" if area.valid_to else "today"
    return f"from {start} until {end}"


async def _load(
    session: AsyncSession, condition: Any, what: str, at: datetime.date | None = None
) -> SocialArea:
    area = await session.scalar(_areas(boundaries=True).where(condition))
    if area is None:
        raise NotFound(f"There is no social area with {what}.")
    if at is not None and not area.is_valid_on(at):
        raise NotFound(
            f"The social area with {what} did not exist on {at.isoformat()}; it is valid "
            f"{_validity(area)}."
        )
    return area


async def get_area(
    session: AsyncSession,
    area_id: UUID,
    *,
    boundaries: bool = False,
    at: datetime.date | None = None,
) -> SocialAreaOut:
    """The area whatever its validity (as on its last day when retired), or as on `at`,
    when given (NotFound when it did not exist then)."""
    area = await _load(session, SocialArea.id == area_id, f"id {area_id}", at)
    return (await present(session, [area], boundaries=boundaries, at=at))[0]


async def get_area_by_code(
    session: AsyncSession,
    code: str,
    *,
    boundaries: bool = False,
    at: datetime.date | None = None,
) -> SocialAreaOut:
    area = await _load(session, SocialArea.code == code, f"code {code!r}", at)
    return (await present(session, [area], boundaries=boundaries, at=at))[0]


async def area_boundary(
    session: AsyncSession, area_id: UUID, at: datetime.date | None = None
) -> dict[str, Any]:
    """The boundary valid on `at` (default today, moved into the area's validity)."""
    area = await _load(session, SocialArea.id == area_id, f"id {area_id}")
    version = (await _versions_on(session, [area], at or today(), True)).get(area.id)
    boundary = version.boundary if version is not None else area.boundary
    return dict(boundary or area.boundary)


async def area_versions(
    session: AsyncSession, area_id: UUID, *, boundaries: bool = False
) -> AreaVersionList:
    """Every boundary version of the area, oldest first; the last is the row's own."""
    area = await _load(session, SocialArea.id == area_id, f"id {area_id}")
    statement = (
        select(AreaVersion).where(AreaVersion.area_id == area_id).order_by(AreaVersion.valid_to)
    )
    if not boundaries:
        statement = statement.options(defer(AreaVersion.boundary, raiseload=True))
    versions = [_earlier_version(v, boundaries) for v in (await session.scalars(statement)).all()]
    versions.append(_current_version(area, boundaries))
    parent_ids = {v.parent_id for v in versions if v.parent_id is not None}
    parent_codes: dict[UUID, str] = {}
    if parent_ids:
        parent_codes.update(
            (
                await session.execute(
                    select(SocialArea.id, SocialArea.code).where(SocialArea.id.in_(parent_ids))
                )
            ).all()
        )
    return AreaVersionList(
        items=[
            AreaVersionOut(
                valid_from=v.valid_from,
                valid_to=v.valid_to,
                area_m2=v.area_m2,
                bbox=v.bbox,
                boundary=(
                    msgspec.convert(v.boundary, MultiPolygonOut) if v.boundary is not None else None
                ),
                name=v.name,
                parent_id=v.parent_id,
                parent_code=parent_codes.get(v.parent_id) if v.parent_id else None,
            )
            for v in versions
        ]
    )


async def children(
    session: AsyncSession,
    area_id: UUID,
    *,
    limit: int,
    cursor: str | None,
    at: datetime.date | None = None,
) -> Page[SocialAreaOut]:
    """The sub-areas valid on `at` (default today)."""
    _check_cursor(cursor)
    await _exists(session, area_id)
    day = at or today()
    state = _state_on(day)
    statement = (
        _areas()
        .join(state, state.c.area_id == SocialArea.id)
        .where(state.c.parent_id == area_id, SocialArea.valid_on(day))
    )
    areas, next_cursor = await keyset_page(session, statement, _ORDER, limit=limit, cursor=cursor)
    return Page(items=await present(session, areas, at=day), next_cursor=next_cursor)


async def all_children(session: AsyncSession, area_id: UUID) -> list[SocialAreaOut]:
    """The sub-areas valid today."""
    state = _state_on(today())
    areas = (
        await session.scalars(
            _areas()
            .join(state, state.c.area_id == SocialArea.id)
            .where(state.c.parent_id == area_id, SocialArea.valid_on(today()))
            .order_by(SocialArea.code)
        )
    ).all()
    return await present(session, areas)


async def _exists(session: AsyncSession, area_id: UUID) -> list[UUID]:
    path = await session.scalar(select(SocialArea.path).where(SocialArea.id == area_id))
    if path is None:
        raise NotFound(f"There is no social area with id {area_id}.")
    return list(path)


async def ancestors(
    session: AsyncSession, area_id: UUID, at: datetime.date | None = None
) -> list[SocialAreaOut]:
    """The areas above this one, top level first (as on `at`, default today): the parent of
    each as on that day (moved into the area's validity)."""
    await _exists(session, area_id)
    day = at or today()
    chain: list[SocialArea] = []
    current = await session.scalar(_areas().where(SocialArea.id == area_id))
    seen = {area_id}
    while current is not None:
        version = (await _versions_on(session, [current], day, False)).get(current.id)
        parent_id = version.parent_id if version is not None else current.parent_id
        if parent_id is None or parent_id in seen:
            break
        seen.add(parent_id)
        current = await session.scalar(_areas().where(SocialArea.id == parent_id))
        if current is not None:
            chain.append(current)
    chain.reverse()
    return await present(session, chain, at=at)


async def lookup_point(
    session: AsyncSession, lat: float, lon: float, at: datetime.date | None = None
) -> list[SocialAreaOut]:
    """The areas valid on `at` (default today) at every level whose boundary version of that
    day contains the point (its boundary included): candidates by bounding box in SQL (GiST,
    on the areas' newest boundaries and on the earlier versions), then an exact test against
    cached prepared boundaries."""
    day = at or today()
    # GiST's box operator class has `box @> box` but no `box @> point`: compare with a
    # degenerate box so that the index is used.
    in_bbox = text(f"{BBOX_BOX_SQL} @> box(point(:lon, :lat), point(:lon, :lat))").bindparams(
        lon=lon, lat=lat
    )
    current = (
        await session.scalars(
            _areas().where(
                in_bbox,
                SocialArea.valid_on(day),
                or_(SocialArea.boundary_from.is_(None), SocialArea.boundary_from <= day),
            )
        )
    ).all()
    # (version id, area id, updated_at) of earlier versions valid that day
    earlier = (
        await session.execute(
            select(AreaVersion.id, AreaVersion.area_id, AreaVersion.updated_at).where(
                in_bbox, valid_between(AreaVersion.valid_from, AreaVersion.valid_to, day)
            )
        )
    ).all()
    # A boundary is cached under the id of what holds it (area or earlier version).
    holders: dict[UUID, tuple[UUID, datetime.datetime]] = {
        area.id: (area.id, area.updated_at) for area in current
    }
    holders.update((area_id, (version_id, stamp)) for version_id, area_id, stamp in earlier)
    candidates = list(current)
    if earlier:
        candidates += (
            await session.scalars(
                _areas().where(
                    SocialArea.id.in_([area_id for _, area_id, _ in earlier]),
                    SocialArea.valid_on(day),
                )
            )
        ).all()
    if not candidates:
        return []
    prepared: dict[UUID, Any] = {}
    for area in candidates:
        key, stamp = holders[area.id]
        if (hit := geo.PREPARED.get(key, stamp)) is not None:
            prepared[area.id] = hit
    missing = [holders[area.id][0] for area in candidates if area.id not in prepared]
    if missing:
        loaded = (
            await session.execute(
                select(
                    SocialArea.id,
                    SocialArea.id.label("area_id"),
                    SocialArea.updated_at,
                    SocialArea.boundary,
                )
                .where(SocialArea.id.in_(missing))
                .union_all(
                    select(
                        AreaVersion.id,
                        AreaVersion.area_id,
                        AreaVersion.updated_at,
                        AreaVersion.boundary,
                    ).where(AreaVersion.id.in_(missing))
                )
            )
        ).all()
        for key, area_id, updated_at, boundary in loaded:
            prepared[area_id] = geo.PREPARED.put(key, updated_at, boundary)
    depths = {area.id: area.level.depth for area in candidates}
    where = geo.point(lon, lat)
    inside = sorted(
        (area for area in candidates if prepared[area.id].covers(where)),
        key=lambda area: (depths[area.id], area.code),
    )
    return await present(session, inside, at=day) if inside else []


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
                       (SELECT max(updated_at) FROM area_population_ages),
                       (SELECT count(*) FROM social_area_versions),
                       (SELECT max(updated_at) FROM social_area_versions),
                       (SELECT count(*) FROM social_area_successions),
                       (SELECT max(updated_at) FROM social_area_successions)
                """
            )
        )
    ).one()
    moments = [value for value in row if isinstance(value, datetime.datetime)]
    key = "|".join("" if value is None else str(value) for value in row)
    return DataVersion(key=key, modified=max(moments) if moments else None)


async def export_level(
    session: AsyncSession, level_key: str, at: datetime.date | None = None
) -> tuple[AreaLevel, dict[UUID, PopulationOut]]:
    """The level and the population of each of its areas valid on `at` (default today), read
    before the stream starts."""
    level = await get_level(session, level_key)
    day = at or today()
    ids = select(SocialArea.id).where(SocialArea.level_id == level.id, SocialArea.valid_on(day))
    return level, await populations(session, ids, at=day)


async def stream_level_geojson(
    engine: AsyncEngine,
    level: AreaLevel,
    figures: dict[UUID, PopulationOut],
    at: datetime.date | None = None,
    provenance: ProvenanceOut | None = None,
) -> AsyncIterator[bytes]:
    """The level's areas valid on `at` (default today) with the boundary version of that day,
    as a GeoJSON FeatureCollection, one feature at a time. Boundaries are passed through as
    PostgreSQL renders the JSONB, never decoded here. Uses its own connection: the request's
    session is closed once the response starts."""
    day = at or today()
    encoder = msgspec.json.Encoder()
    header: dict[str, Any] = {"type": "FeatureCollection", "name": level.key}
    if provenance is not None:  # foreign members (RFC 7946 §6.1)
        header.update(
            attribution=provenance.attribution,
            licence=provenance.licence,
            source=provenance.source,
        )
    yield encoder.encode(header)[:-1] + b',"features":['
    parent = _table(SocialArea).alias("parent")
    areas = _table(SocialArea)
    earlier = _table(AreaVersion).alias("earlier")
    # name and parent of that day: the earlier version's when one holds the day
    parent_id = case((earlier.c.id.is_not(None), earlier.c.parent_id), else_=areas.c.parent_id)
    statement = (
        select(
            areas.c.id,
            areas.c.code,
            func.coalesce(earlier.c.name, areas.c.name),
            func.coalesce(earlier.c.area_m2, areas.c.area_m2),
            parent.c.code,
            cast(func.coalesce(earlier.c.boundary, areas.c.boundary), Text),
        )
        .select_from(
            areas.outerjoin(earlier, _earlier_version_holds(areas, earlier, day)).outerjoin(
                parent, parent.c.id == parent_id
            )
        )
        .where(
            areas.c.level_id == level.id,
            valid_between(areas.c.valid_from, areas.c.valid_to, day),
        )
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


@dataclass(frozen=True, slots=True)
class Validity:
    """When an import's changes take effect and which missing areas it retires.

    `valid_from` (default today): a changed boundary becomes a new version from that day (the
    previous one is kept for earlier days), retired areas end the day before, and new areas of
    a level that has areas already start on it (the areas of a level imported for the first
    time are valid since ever unless `valid_from` is given). `retire_missing` retires every
    stored area of the imported levels that the import lacks; `successors` (old code → new
    codes) retires the areas it names and records what took their place. Stored areas missing
    from the import and not retired are a warning to confirm: confirming keeps them valid."""

    valid_from: datetime.date | None = None
    retire_missing: bool = False
    successors: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def day(self) -> datetime.date:
        return self.valid_from or today()


async def import_areas(
    session: AsyncSession,
    levels: list[importer.LevelSource],
    population: list[importer.PopulationSource],
    *,
    first_depth: int | None = None,
    parent_level: str | None = None,
    confirm_warnings: bool = False,
    validity: Validity | None = None,
    provenance: Provenance | None = None,
) -> ImportReport:
    """Import levels and population in the caller's transaction, inside a savepoint: on any
    error nothing changes and ImportFailed carries the report; with plausibility warnings
    (rows with `needs_confirmation`) that `confirm_warnings` does not confirm, nothing changes
    either and ImportNeedsConfirmation carries the report. Areas are matched by code, so a
    repeated import changes nothing (and leaves `updated_at` alone).

    The levels are listed from `first_depth` down (see `resolve_first_depth`): 0 imports the
    hierarchy from the top; a deeper start (one level on its own) places the first level under
    the stored areas of the level above it. `validity`: see Validity. `provenance` is recorded
    on the imported levels and on the levels whose areas' population the import sets."""
    depth = await resolve_first_depth(session, levels, first_depth, parent_level)
    report, _, figures = await _import(
        session, levels, population, depth, confirm_warnings, validity or Validity()
    )
    if provenance is not None:
        await _record_provenance(
            session,
            provenance,
            [level.key for level in levels],
            sorted({record.code for record in figures}),
        )
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
    validity: Validity | None = None,
) -> ImportPreview:
    """Run the import in a savepoint that is rolled back: the report, and per area and
    population row what the import would do, exactly as `import_areas` would do it (the same
    code runs). Raises ImportFailed like the import; warnings to confirm are in the report
    (`needs_confirmation`), for the importer to confirm."""
    depth = await resolve_first_depth(session, levels, first_depth)
    async with session.begin_nested() as savepoint:
        report, prepared, accepted = await _import(
            session, levels, population, depth, True, validity or Validity()
        )
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
    ] + [
        AreaOutcome(
            code=area.code,
            name=area.name,
            parent_code=area.parent_code,
            level=record.source.key,
            outcome="retired",
            geometry=geo.from_geojson(area.boundary),
        )
        for record in prepared.levels
        for area in record.retired
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
            .where(AreaLevel.depth == depth, SocialArea.valid_to.is_(None))
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
    """The stored boundaries (GeoJSON) of the areas still valid on the levels being imported,
    by code."""
    if not levels:
        return {}
    rows = await session.execute(
        select(SocialArea.code, SocialArea.boundary)
        .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
        .where(AreaLevel.key.in_([level.key for level in levels]), SocialArea.valid_to.is_(None))
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
    validity: Validity,
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
    stored_parent = aliased(SocialArea)
    stored = {
        row.code: _Stored(
            row.id,
            row.key,
            row.valid_from,
            row.valid_to,
            row.boundary_from,
            row.name,
            row.parent_code,
        )
        for row in (
            await session.execute(
                select(
                    SocialArea.id,
                    SocialArea.code,
                    AreaLevel.key,
                    SocialArea.valid_from,
                    SocialArea.valid_to,
                    SocialArea.boundary_from,
                    SocialArea.name,
                    stored_parent.code.label("parent_code"),
                )
                .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
                .outerjoin(stored_parent, stored_parent.id == SocialArea.parent_id)
                .where(SocialArea.code == any_(_CODES)),
                {"codes": codes},
            )
        ).all()
    }
    existing = {code: (found.id, found.level) for code, found in stored.items()}
    for code, found in stored.items():
        if found.level != level_of_code[code]:
            report.error(
                "database",
                f"code {code} belongs to level {found.level}, not {level_of_code[code]}",
                code=code,
            )
        if found.valid_to is not None:
            report.error(
                "database",
                f"area {code} was retired on {found.valid_to.isoformat()}; a retired code "
                "cannot be imported again",
                code=code,
            )
    changed = _changed_versions(prepared, stored, previous, validity.day)
    below = await _below_moved(session, prepared, stored, changed, validity.day)

    accepted = await _check_population(session, prepared)
    retiring = await _plan_retirement(session, prepared, existing_levels, validity)

    if report.errors:
        raise ImportFailed(report.build(summaries, prepared.population_summary))
    if report.to_confirm and not confirm_warnings:
        raise ImportNeedsConfirmation(
            report.build(summaries, prepared.population_summary, confirmed=False)
        )

    populated = set(
        (
            await session.scalars(
                select(AreaLevel.key)
                .join(SocialArea, SocialArea.level_id == AreaLevel.id)
                .where(SocialArea.valid_to.is_(None))
                .distinct()
            )
        ).all()
    )
    async with session.begin_nested():
        level_ids = await _write_levels(session, prepared, existing_levels)
        await _keep_earlier_versions(
            session,
            [(stored[code].id, stored[code].boundary_start) for code in changed]
            + [(found.id, found.boundary_start) for found in below],
            validity.day,
        )
        await _write_areas(
            session,
            prepared,
            level_ids,
            existing,
            parent_ids,
            _Dates(validity, stored, changed, populated),
        )
        if below:  # their path changes with the moved area's: a new version from that day
            await session.execute(
                update(SocialArea)
                .where(SocialArea.id.in_([found.id for found in below]))
                .values(boundary_from=validity.day)
            )
        await _retire(session, retiring, validity.day)
        await _write_population(session, prepared, accepted)
        await session.flush()
    return report.build(summaries, prepared.population_summary), prepared, accepted


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored area that the import names."""

    id: UUID
    level: str
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    boundary_from: datetime.date | None
    name: str = ""
    parent_code: str | None = None

    @property
    def boundary_start(self) -> datetime.date | None:
        return self.boundary_from or self.valid_from


def _changed_versions(
    prepared: importer.PreparedImport,
    stored: dict[str, _Stored],
    previous: dict[str, dict[str, Any]],
    day: datetime.date,
) -> set[str]:
    """Codes of stored areas whose boundary, name or parent the import changes (each change
    goes into the report); a change before the stored version starts is an error (versions
    follow each other in time)."""
    changed: set[str] = set()
    report = prepared.report
    for record in prepared.levels:
        for code, area in record.areas.items():
            found = stored.get(code)
            if found is None or found.valid_to is not None:
                continue
            fields: list[tuple[Literal["name", "parent", "boundary"], str | None, str | None]] = []
            if found.name != area.name:
                fields.append(("name", found.name, area.name))
            if found.parent_code != area.parent_code:
                fields.append(("parent", found.parent_code, area.parent_code))
            if code in previous and area.boundary.geojson != previous[code]:
                fields.append(("boundary", None, None))
            if not fields:
                continue
            changed.add(code)
            report.changes.extend(
                AreaChange(
                    code=code,
                    level=record.source.key,
                    field=name,
                    before=before,
                    after=after,
                    valid_from=day,
                )
                for name, before, after in fields
            )
            start = found.boundary_start
            if start is not None and start > day:
                report.error(
                    record.source.source,
                    f"the stored version is valid from {start.isoformat()}; a new version "
                    f"cannot start before it, on {day.isoformat()}",
                    feature=area.feature,
                    code=code,
                    field="geometry" if fields[0][0] == "boundary" else fields[0][0],
                )
    return changed


async def _below_moved(
    session: AsyncSession,
    prepared: importer.PreparedImport,
    stored: dict[str, _Stored],
    changed: set[str],
    day: datetime.date,
) -> list[_Stored]:
    """The valid areas below an area that the import moves to another parent: their path
    changes with it, so they get a new version from `day` too. Those the import names join
    `changed`; the others are returned."""
    moved = [
        stored[c.code].id
        for c in prepared.report.changes
        if c.field == "parent" and c.code in changed
    ]
    if not moved:
        return []
    rows = (
        await session.execute(
            select(
                SocialArea.id,
                SocialArea.code,
                SocialArea.valid_from,
                SocialArea.valid_to,
                SocialArea.boundary_from,
            ).where(
                SocialArea.path.overlap(cast(array(moved), ARRAY(Uuid))),
                SocialArea.id.not_in(moved),
                SocialArea.valid_to.is_(None),
            )
        )
    ).all()
    others: list[_Stored] = []
    for row in rows:
        start = row.boundary_from or row.valid_from
        if start is not None and start > day:
            prepared.report.error(
                "database",
                f"area {row.code} lies below a moved area and has a version valid from "
                f"{start.isoformat()}; a new version cannot start before it, on "
                f"{day.isoformat()}",
                code=row.code,
            )
        if row.code in stored:
            changed.add(row.code)
        else:
            others.append(_Stored(row.id, "", row.valid_from, row.valid_to, row.boundary_from))
    return others


@dataclass(frozen=True, slots=True)
class _Dates:
    """The validity columns the import writes for each area."""

    validity: Validity
    stored: dict[str, _Stored]
    changed: set[str]
    populated_levels: set[str]

    def columns(self, code: str, level: str) -> dict[str, datetime.date | None]:
        found = self.stored.get(code)
        if found is None:
            explicit = self.validity.valid_from
            start = explicit or (self.validity.day if level in self.populated_levels else None)
            return {"valid_from": start, "boundary_from": start}
        boundary_from = self.validity.day if code in self.changed else found.boundary_from
        return {"valid_from": found.valid_from, "boundary_from": boundary_from}


async def _keep_earlier_versions(
    session: AsyncSession,
    changing: list[tuple[UUID, datetime.date | None]],
    day: datetime.date,
) -> None:
    """Before a changed boundary, name or parent is written, keep the stored version (with
    its boundary, name, parent and path) as an earlier version ending the day before `day` —
    unless it started that very day (a correction replaces it). `changing`: (area id, start of
    its stored version)."""
    ids = [area_id for area_id, start in changing if start is None or start < day]
    if not ids:
        return
    now = datetime.datetime.now(datetime.UTC)
    rows = await session.execute(
        select(
            SocialArea.id,
            SocialArea.valid_from,
            SocialArea.boundary_from,
            SocialArea.boundary,
            SocialArea.min_lon,
            SocialArea.min_lat,
            SocialArea.max_lon,
            SocialArea.max_lat,
            SocialArea.area_m2,
            SocialArea.name,
            SocialArea.search_name,
            SocialArea.parent_id,
            SocialArea.path,
        ).where(SocialArea.id.in_(ids))
    )
    await session.execute(
        insert(_table(AreaVersion)),
        [
            {
                "id": uuid7(),
                "area_id": row.id,
                "valid_from": row.boundary_from or row.valid_from,
                "valid_to": day,
                "boundary": row.boundary,
                "min_lon": row.min_lon,
                "min_lat": row.min_lat,
                "max_lon": row.max_lon,
                "max_lat": row.max_lat,
                "area_m2": row.area_m2,
                "name": row.name,
                "search_name": row.search_name,
                "parent_id": row.parent_id,
                "path": row.path,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ],
    )


@dataclass(slots=True)
class _Retiring:
    id: UUID
    code: str
    successors: list[str]


async def _plan_retirement(
    session: AsyncSession,
    prepared: importer.PreparedImport,
    existing_levels: dict[str, AreaLevel],
    validity: Validity,
) -> list[_Retiring]:
    """The stored areas missing from the import that it retires (`retire_missing`, or named in
    `successors`), checked; the others missing are a warning to confirm. Fills each level
    record's `retired` and summary."""
    report = prepared.report
    day = validity.day
    absent = {row.code: row for row in await _absent_areas(session, prepared, existing_levels)}
    imported = {code: record for record in prepared.levels for code in record.areas}
    wanted = {c for codes in validity.successors.values() for c in codes} - imported.keys()
    valid_stored = set(
        (
            await session.scalars(
                select(SocialArea.code).where(
                    SocialArea.code == any_(_CODES), SocialArea.valid_to.is_(None)
                ),
                {"codes": sorted(wanted)},
            )
        ).all()
    )
    named: dict[str, list[str]] = {}
    for index, (old, new_codes) in enumerate(validity.successors.items()):
        source = f"successors[{index}]"
        if old in imported:
            report.error(
                source,
                f"area {old} is in this import; only an area missing from it can be retired",
                code=old,
                field="code",
            )
        elif old not in absent:
            report.error(
                source,
                f"there is no valid stored area {old} on the imported levels to retire",
                code=old,
                field="code",
            )
        for new in new_codes:
            if new == old or (new not in imported and new not in valid_stored):
                report.error(
                    source,
                    f"successor {new} is neither in this import nor a valid stored area",
                    code=old,
                    field="successors",
                )
        named[old] = list(dict.fromkeys(new_codes))
    retiring: list[_Retiring] = []
    records = {record.source.key: record for record in prepared.levels}
    for code, row in absent.items():
        if not validity.retire_missing and code not in named:
            report.confirm(
                "database",
                "not in this import; it would stay valid next to the imported areas: retire "
                "the areas missing from the import (or name this one's successors), or "
                "confirm to keep it",
                code=code,
            )
            continue
        record = records[row.level]
        start = max((d for d in (row.valid_from, row.boundary_from) if d), default=None)
        if start is not None and start >= day:
            report.error(
                record.source.source,
                f"area {code} is valid from {start.isoformat()}; it cannot be retired on "
                f"{day.isoformat()}",
                code=code,
            )
        successors = named.get(code, [])
        retiring.append(_Retiring(row.id, code, successors))
        record.retired.append(
            importer.RetiredArea(
                code=code,
                name=row.name,
                parent_code=row.parent_code,
                boundary=row.boundary,
                successors=successors,
            )
        )
        if record.summary is not None:
            record.summary.retired += 1
        then = f" (successors: {', '.join(successors)})" if successors else ""
        report.warning(
            record.source.source,
            f"not in this import; retired as of {day.isoformat()}{then}",
            code=code,
        )
    await _check_retired_parents(session, prepared, {r.code: r.id for r in retiring})
    return retiring


async def _check_retired_parents(
    session: AsyncSession, prepared: importer.PreparedImport, retiring: dict[str, UUID]
) -> None:
    """No valid area may lie in a retired one: neither one of the import nor a stored one."""
    if not retiring:
        return
    report = prepared.report
    imported = {code for record in prepared.levels for code in record.areas}
    for record in prepared.levels:
        for area in record.areas.values():
            if area.parent_code in retiring:
                report.error(
                    record.source.source,
                    f"its parent {area.parent_code} is retired by this import",
                    feature=area.feature,
                    code=area.code,
                )
    parent = aliased(SocialArea)
    children = await session.execute(
        select(SocialArea.code, parent.code)
        .join(parent, parent.id == SocialArea.parent_id)
        .where(SocialArea.parent_id.in_(list(retiring.values())), SocialArea.valid_to.is_(None))
        .order_by(SocialArea.code)
    )
    for child, parent_code in children:
        if child not in imported and child not in retiring:
            report.error(
                "database",
                f"area {child} lies in {parent_code}, which this import retires: import the "
                f"level of {child} as well, or retire {child} too",
                code=child,
            )


async def _retire(session: AsyncSession, retiring: list[_Retiring], day: datetime.date) -> None:
    """End the areas' validity (their newest boundary version ends with it) and record their
    successors."""
    if not retiring:
        return
    now = datetime.datetime.now(datetime.UTC)
    await session.execute(
        _table(SocialArea)
        .update()
        .where(_table(SocialArea).c.id.in_([r.id for r in retiring]))
        .values(valid_to=day, updated_at=now)
    )
    codes = sorted({code for r in retiring for code in r.successors})
    if not codes:
        return
    ids = dict(
        (
            await session.execute(
                select(SocialArea.code, SocialArea.id).where(SocialArea.code == any_(_CODES)),
                {"codes": codes},
            )
        ).all()
    )
    table = _table(AreaSuccession)
    await session.execute(
        insert(table).on_conflict_do_nothing(constraint="uq_social_area_successions_pair"),
        [
            {
                "id": uuid7(),
                "predecessor_id": r.id,
                "successor_id": ids[code],
                "valid_from": day,
                "created_at": now,
                "updated_at": now,
            }
            for r in retiring
            for code in r.successors
        ],
    )


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
) -> list[Any]:
    """The stored areas still valid on the imported levels that the import does not contain."""
    level_ids = [
        existing_levels[r.source.key].id for r in prepared.levels if r.source.key in existing_levels
    ]
    if not level_ids:
        return []
    codes = [code for record in prepared.levels for code in record.areas]
    parent = aliased(SocialArea)
    return list(
        (
            await session.execute(
                select(
                    SocialArea.id,
                    SocialArea.code,
                    SocialArea.name,
                    SocialArea.valid_from,
                    SocialArea.boundary_from,
                    SocialArea.boundary,
                    AreaLevel.key.label("level"),
                    parent.code.label("parent_code"),
                )
                .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
                .outerjoin(parent, parent.id == SocialArea.parent_id)
                .where(
                    SocialArea.level_id.in_(level_ids),
                    SocialArea.valid_to.is_(None),
                    SocialArea.code != all_(_CODES),
                )
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
    dates: _Dates,
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    table = _table(SocialArea)
    code_ids: dict[str, UUID] = dict(parent_ids)
    changing = (
        "name",
        "search_name",
        "level_id",
        "parent_id",
        "boundary",
        "area_m2",
        "boundary_from",
    )
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
                    **dates.columns(area.code, record.source.key),
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
