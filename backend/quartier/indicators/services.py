"""Indicators: import (all-or-nothing), presentation, values per level with roll-up, series per
area, links to need categories. Services never commit; aggregation happens in SQL.

Indicators are official aggregate statistics (a statistics office's published figures per
area), not figures derived from Quartier's participants; they are shown as published.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel, SocialArea
from quartier.areas.services import get_level
from quartier.core.errors import FieldError, InvalidInput, NotFound
from quartier.core.pagination import Page, keyset_page
from quartier.indicators import importer
from quartier.indicators import schemas as s
from quartier.indicators.models import Indicator, IndicatorValue, indicator_need_categories
from quartier.surveys.models import NeedCategory

RATIO_TOLERANCE = 0.01  # a given value may differ from numerator / denominator × scale by 1 %


# -- presenting ----------------------------------------------------------------------------------


async def present(session: AsyncSession, indicator: Indicator) -> s.IndicatorOut:
    dates = (
        await session.scalars(
            select(IndicatorValue.reference_date)
            .where(IndicatorValue.indicator_id == indicator.id)
            .distinct()
            .order_by(IndicatorValue.reference_date)
        )
    ).all()
    levels = (
        await session.execute(
            select(AreaLevel.key, AreaLevel.depth)
            .join(SocialArea, SocialArea.level_id == AreaLevel.id)
            .join(IndicatorValue, IndicatorValue.area_id == SocialArea.id)
            .where(IndicatorValue.indicator_id == indicator.id)
            .distinct()
            .order_by(AreaLevel.depth)
        )
    ).all()
    needs = (
        await session.scalars(
            select(NeedCategory.key)
            .join(
                indicator_need_categories,
                indicator_need_categories.c.need_category_id == NeedCategory.id,
            )
            .where(indicator_need_categories.c.indicator_id == indicator.id)
            .order_by(NeedCategory.position, NeedCategory.key)
        )
    ).all()
    return s.IndicatorOut(
        id=indicator.id,
        key=indicator.key,
        name=indicator.name,
        name_de=indicator.name_de,
        name_en=indicator.name_en,
        unit=indicator.unit,
        direction=cast(s.Direction, indicator.direction),
        aggregation=cast(s.Aggregation, indicator.aggregation),
        scale=indicator.scale,
        decimals=indicator.decimals,
        source=indicator.source,
        licence=indicator.licence,
        reference_dates=list(dates),
        levels=[key for key, _depth in levels],
        need_categories=list(needs),
    )


async def load(session: AsyncSession, key: str) -> Indicator:
    indicator = await session.scalar(select(Indicator).where(Indicator.key == key))
    if indicator is None:
        raise NotFound(f"There is no indicator {key!r}.")
    return indicator


async def get_indicator(session: AsyncSession, key: str) -> s.IndicatorOut:
    return await present(session, await load(session, key))


async def list_indicators(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[s.IndicatorOut]:
    rows, next_cursor = await keyset_page(
        session, select(Indicator), [Indicator.key], limit=limit, cursor=cursor
    )
    return Page(items=[await present(session, row) for row in rows], next_cursor=next_cursor)


async def all_indicators(session: AsyncSession) -> list[Indicator]:
    return list((await session.scalars(select(Indicator).order_by(Indicator.key))).all())


# -- importing -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    where: str  # "values[3]" or "line 4"
    area_code: str
    reference_date: datetime.date
    value: float | None
    numerator: float | None
    denominator: float | None


async def _resolve_codes(
    session: AsyncSession, codes: set[str], warnings: list[str]
) -> dict[str, UUID]:
    """Area ids by code; a numeric code that lost its leading zeros (a spreadsheet did it) is
    matched by padding it to the length of known codes, when exactly one matches."""
    found = dict(
        (
            await session.execute(
                select(SocialArea.code, SocialArea.id).where(SocialArea.code.in_(codes))
            )
        )
        .tuples()
        .all()
    )
    missing = [code for code in codes if code not in found and code.isdigit()]
    if missing:
        lengths = (await session.scalars(select(func.length(SocialArea.code)).distinct())).all()
        padded = {
            code: [code.zfill(length) for length in lengths if length > len(code)]
            for code in missing
        }
        candidates = {c for options in padded.values() for c in options}
        known = dict(
            (
                await session.execute(
                    select(SocialArea.code, SocialArea.id).where(SocialArea.code.in_(candidates))
                )
            )
            .tuples()
            .all()
        )
        for code, options in padded.items():
            matches = [option for option in options if option in known]
            if len(matches) == 1:
                found[code] = known[matches[0]]
                warnings.append(f"area code {code!r} read as {matches[0]!r} (leading zeros added)")
    return found


def _check_definition(definition: s.IndicatorIn, field: str) -> None:
    if definition.aggregation != "ratio" and definition.scale != 1.0:
        raise InvalidInput(
            "Only ratio indicators have a scale.",
            errors=[FieldError(field=f"{field}.scale", source="body", message="only for ratio")],
        )


async def import_indicator(
    session: AsyncSession,
    definition: s.IndicatorIn,
    values: Sequence[s.IndicatorValueIn],
) -> s.ImportResult:
    """Create or update the indicator and add or replace its values, all or nothing."""
    _check_definition(definition, "indicator")
    rows = [
        _Row(
            f"values[{index}]",
            item.area_code,
            item.reference_date,
            item.value,
            item.numerator,
            item.denominator,
        )
        for index, item in enumerate(values)
    ]
    return await _import(session, definition, rows, source="body", prefix=True)


async def import_csv(
    session: AsyncSession, key: str, data: bytes, default_date: datetime.date | None
) -> s.ImportResult:
    """Add or replace values of an existing indicator from a statistics office's CSV."""
    indicator = await load(session, key)
    parsed = importer.parse_csv(data, default_date)
    if parsed.errors:
        raise InvalidInput(
            f"The CSV has {len(parsed.errors)} error(s); nothing was imported.",
            errors=[FieldError(field="body", source="body", message=m) for m in parsed.errors],
        )
    definition = s.IndicatorIn(
        key=indicator.key,
        name_de=indicator.name_de,
        name_en=indicator.name_en,
        unit=indicator.unit,
        direction=cast(s.Direction, indicator.direction),
        aggregation=cast(s.Aggregation, indicator.aggregation),
        scale=indicator.scale,
        decimals=indicator.decimals,
        source=indicator.source,
        licence=indicator.licence,
    )
    rows = [
        _Row(f"line {r.line}", r.area_code, r.reference_date, r.value, r.numerator, r.denominator)
        for r in parsed.rows
    ]
    result = await _import(session, definition, rows, source="body", prefix=False)
    if parsed.encoding != "utf-8":
        result.warnings.insert(0, f"read as {parsed.encoding}")
    return result


async def import_csv_body(
    session: AsyncSession, key: str, data: s.IndicatorCsvImport
) -> s.ImportResult:
    """ImportIndicatorValuesCsv: the file as text or as Base64 bytes, exactly one."""
    if (data.csv is None) == (data.csv_base64 is None):
        raise InvalidInput(
            "Send the file either as `csv` or as `csv_base64`.",
            errors=[
                FieldError(field="csv", source="body", message="exactly one of csv, csv_base64")
            ],
        )
    if data.csv is not None:
        raw = data.csv.encode()
    else:
        try:
            raw = base64.b64decode(data.csv_base64 or "", validate=True)
        except binascii.Error as error:
            raise InvalidInput(
                "`csv_base64` is not valid Base64.",
                errors=[FieldError(field="csv_base64", source="body", message="invalid Base64")],
            ) from error
    return await import_csv(session, key, raw, data.reference_date)


async def _import(
    session: AsyncSession,
    definition: s.IndicatorIn,
    rows: list[_Row],
    *,
    source: str,
    prefix: bool,
) -> s.ImportResult:
    errors: list[FieldError] = []
    warnings: list[str] = []

    def error(row: _Row, what: str, message: str) -> None:
        if len(errors) < importer.MAX_ERRORS:
            field = f"{row.where}.{what}" if prefix else "body"
            errors.append(
                FieldError(
                    field=field,
                    source=source,
                    message=message if prefix else f"{row.where}: {message}",
                )
            )

    existing = await session.scalar(select(Indicator).where(Indicator.key == definition.key))
    if existing is not None and existing.aggregation != definition.aggregation:
        has_values = await session.scalar(
            select(func.count()).where(IndicatorValue.indicator_id == existing.id)
        )
        if has_values:
            raise InvalidInput(
                "The indicator has values; its aggregation cannot change.",
                errors=[
                    FieldError(
                        field="indicator.aggregation", source="body", message="cannot change"
                    )
                ],
            )
    ids = await _resolve_codes(session, {row.area_code for row in rows}, warnings)
    seen: set[tuple[str, datetime.date]] = set()
    prepared: list[dict[str, Any]] = []
    for row in rows:
        area_id = ids.get(row.area_code)
        if area_id is None:
            error(row, "area_code", f"unknown area code {row.area_code!r}")
            continue
        if (row.area_code, row.reference_date) in seen:
            error(row, "area_code", f"area {row.area_code} twice for {row.reference_date}")
            continue
        seen.add((row.area_code, row.reference_date))
        value = row.value
        if definition.aggregation == "ratio":
            if row.numerator is None or row.denominator is None:
                error(row, "numerator", "a ratio indicator needs numerator and denominator")
                continue
            if row.numerator < 0 or row.denominator <= 0:
                error(row, "denominator", "numerator ≥ 0 and denominator > 0 are required")
                continue
            computed = row.numerator / row.denominator * definition.scale
            if value is not None and not math.isclose(
                value, computed, rel_tol=RATIO_TOLERANCE, abs_tol=10**-definition.decimals
            ):
                error(
                    row, "value", f"{value} differs from numerator / denominator ({computed:.4g})"
                )
                continue
            value = computed
        elif value is None:
            error(row, "value", "the value is missing")
            continue
        prepared.append(
            {
                "area_id": area_id,
                "reference_date": row.reference_date,
                "value": value,
                "numerator": row.numerator,
                "denominator": row.denominator,
            }
        )
    if errors:
        raise InvalidInput(
            f"The import has {len(errors)} error(s); nothing was imported.", errors=errors
        )
    if existing is None:
        existing = Indicator(**{f: getattr(definition, f) for f in definition.__struct_fields__})
        session.add(existing)
    else:
        for name in definition.__struct_fields__:
            setattr(existing, name, getattr(definition, name))
    await session.flush()
    updated = 0
    if prepared:
        keys = {(p["area_id"], p["reference_date"]) for p in prepared}
        present_keys = set(
            (
                await session.execute(
                    select(IndicatorValue.area_id, IndicatorValue.reference_date).where(
                        IndicatorValue.indicator_id == existing.id,
                        IndicatorValue.reference_date.in_({k[1] for k in keys}),
                    )
                )
            )
            .tuples()
            .all()
        )
        updated = len(keys & present_keys)
        now = datetime.datetime.now(datetime.UTC)
        for start in range(0, len(prepared), 5000):
            chunk = prepared[start : start + 5000]
            statement = pg_insert(IndicatorValue).values(
                [
                    {**p, "indicator_id": existing.id, "created_at": now, "updated_at": now}
                    for p in chunk
                ]
            )
            statement = statement.on_conflict_do_update(
                constraint="uq_indicator_values_date_area",
                set_={
                    "value": statement.excluded.value,
                    "numerator": statement.excluded.numerator,
                    "denominator": statement.excluded.denominator,
                    "updated_at": statement.excluded.updated_at,
                },
            )
            await session.execute(statement)
    return s.ImportResult(
        indicator=await present(session, existing),
        values_created=len(prepared) - updated,
        values_updated=updated,
        warnings=warnings,
    )


# -- values per level, with roll-up ------------------------------------------------------------

_DEPTHS = text(
    """
    SELECT DISTINCT l.depth FROM indicator_values v
    JOIN social_areas a ON a.id = v.area_id JOIN area_levels l ON l.id = a.level_id
    WHERE v.indicator_id = :indicator AND v.reference_date = :day
    """
)
_ROLL_UP = text(
    """
    SELECT a.path[(:position)] AS target, sum(v.value) AS value, sum(v.numerator) AS numerator,
           sum(v.denominator) AS denominator, count(*) AS n
    FROM indicator_values v
    JOIN social_areas a ON a.id = v.area_id JOIN area_levels l ON l.id = a.level_id
    WHERE v.indicator_id = :indicator AND v.reference_date = :day AND l.depth = :source
    GROUP BY 1
    """
)
_EXPECTED = text(
    """
    SELECT a.path[(:position)] AS target, count(*) AS n
    FROM social_areas a JOIN area_levels l ON l.id = a.level_id
    WHERE l.depth = :source GROUP BY 1
    """
)


def _refuse_roll_up(indicator: Indicator, field: str = "level") -> InvalidInput:
    return InvalidInput(
        f"The indicator {indicator.key!r} is not additive (aggregation `none`); it has no "
        "values at this level and is not rolled up.",
        errors=[FieldError(field=field, source="query", message="not additive at this level")],
    )


async def latest_date(session: AsyncSession, indicator: Indicator) -> datetime.date | None:
    return await session.scalar(
        select(func.max(IndicatorValue.reference_date)).where(
            IndicatorValue.indicator_id == indicator.id
        )
    )


def _combined(indicator: Indicator, value: float, numerator: Any, denominator: Any) -> float:
    if indicator.aggregation == "ratio" and denominator:
        return float(numerator) / float(denominator) * indicator.scale
    return float(value)


async def level_values(
    session: AsyncSession,
    key: str,
    level_key: str,
    reference_date: datetime.date | None = None,
    *,
    within: str | None = None,
) -> s.LevelValues:
    """The values of every area of a level (optionally only those inside the area with code
    `within`) on a reference date (default: the latest), rolled up from the nearest finer level
    with values when the level has none of its own."""
    indicator = await load(session, key)
    level = await get_level(session, level_key)
    day = reference_date or await latest_date(session, indicator)
    areas_query = select(SocialArea.id, SocialArea.code, SocialArea.name).where(
        SocialArea.level_id == level.id
    )
    if within is not None:
        parent = await session.scalar(select(SocialArea.id).where(SocialArea.code == within))
        if parent is None:
            raise InvalidInput(
                f"There is no area {within!r}.",
                errors=[FieldError(field="within", source="query", message="unknown area")],
            )
        areas_query = areas_query.where(SocialArea.path.contains([parent]))
    areas = (await session.execute(areas_query.order_by(SocialArea.code))).all()
    items: dict[UUID, s.AreaValue] = {
        row.id: s.AreaValue(area_id=row.id, code=row.code, name=row.name, value=None)
        for row in areas
    }
    if day is not None:
        params = {"indicator": indicator.id, "day": day}
        depths = set((await session.scalars(_DEPTHS, params)).all())
        if level.depth in depths:
            rows = (
                await session.execute(
                    select(IndicatorValue).where(
                        IndicatorValue.indicator_id == indicator.id,
                        IndicatorValue.reference_date == day,
                        IndicatorValue.area_id.in_(list(items)),
                    )
                )
            ).scalars()
            for value in rows:
                item = items[value.area_id]
                item.value, item.numerator, item.denominator = (
                    value.value,
                    value.numerator,
                    value.denominator,
                )
        elif finer := sorted(d for d in depths if d > level.depth):
            if indicator.aggregation == "none":
                raise _refuse_roll_up(indicator)
            source = finer[0]
            position = level.depth + 1
            sums = (
                await session.execute(
                    _ROLL_UP,
                    {**params, "source": source, "position": position},
                )
            ).all()
            expected: dict[UUID, int] = dict(
                (
                    await session.execute(
                        _EXPECTED,
                        {"source": source, "position": position},
                    )
                )
                .tuples()
                .all()
            )
            for row in sums:
                found = items.get(row.target)
                if found is None:
                    continue
                item = found
                item.value = _combined(indicator, row.value, row.numerator, row.denominator)
                if indicator.aggregation == "ratio":
                    item.numerator, item.denominator = row.numerator, row.denominator
                item.rolled_up = True
                item.complete = row.n == expected.get(row.target, 0)
    return s.LevelValues(
        indicator=await present(session, indicator),
        level=level.key,
        reference_date=day,
        items=list(items.values()),
    )


async def area_series(session: AsyncSession, key: str, code: str) -> s.AreaSeries:
    """The indicator's values for one area over all reference dates, rolled up from the
    nearest finer level with values on each date where the area has no value of its own."""
    indicator = await load(session, key)
    area = await session.scalar(select(SocialArea).where(SocialArea.code == code))
    if area is None:
        raise NotFound(f"There is no social area with code {code!r}.")
    depth = await session.scalar(select(AreaLevel.depth).where(AreaLevel.id == area.level_id))
    rows = (
        await session.execute(
            text(
                """
                SELECT v.reference_date AS day, l.depth AS depth, sum(v.value) AS value,
                       sum(v.numerator) AS numerator, sum(v.denominator) AS denominator,
                       count(*) AS n
                FROM indicator_values v
                JOIN social_areas a ON a.id = v.area_id JOIN area_levels l ON l.id = a.level_id
                WHERE v.indicator_id = :indicator AND a.path @> ARRAY[CAST(:area AS uuid)]
                GROUP BY 1, 2 ORDER BY 1, 2
                """
            ),
            {"indicator": indicator.id, "area": area.id},
        )
    ).all()
    sizes = dict(
        (
            await session.execute(
                select(AreaLevel.depth, func.count())
                .join(SocialArea, SocialArea.level_id == AreaLevel.id)
                .where(SocialArea.path.contains([area.id]))
                .group_by(AreaLevel.depth)
            )
        )
        .tuples()
        .all()
    )
    by_day: dict[datetime.date, list[Any]] = defaultdict(list)
    for row in rows:
        by_day[row.day].append(row)
    points: list[s.SeriesPoint] = []
    for day, found in by_day.items():
        nearest = found[0]  # ordered by depth: the area's own level, else the nearest finer one
        if nearest.depth != depth and indicator.aggregation == "none":
            continue
        points.append(
            s.SeriesPoint(
                reference_date=day,
                value=_combined(indicator, nearest.value, nearest.numerator, nearest.denominator),
                rolled_up=nearest.depth != depth,
                complete=nearest.depth == depth or nearest.n == sizes.get(nearest.depth, 0),
            )
        )
    return s.AreaSeries(
        indicator=await present(session, indicator),
        area_id=area.id,
        code=area.code,
        name=area.name,
        points=points,
    )


# -- links to need categories -----------------------------------------------------------------


async def _category(session: AsyncSession, key: str) -> NeedCategory:
    category = await session.scalar(select(NeedCategory).where(NeedCategory.key == key))
    if category is None:
        raise NotFound(f"There is no need category {key!r}.")
    return category


async def link_need(session: AsyncSession, key: str, category_key: str) -> s.IndicatorOut:
    indicator = await load(session, key)
    category = await _category(session, category_key)
    await session.execute(
        pg_insert(indicator_need_categories)
        .values(indicator_id=indicator.id, need_category_id=category.id)
        .on_conflict_do_nothing()
    )
    return await present(session, indicator)


async def unlink_need(session: AsyncSession, key: str, category_key: str) -> s.IndicatorOut:
    indicator = await load(session, key)
    category = await _category(session, category_key)
    await session.execute(
        delete(indicator_need_categories).where(
            indicator_need_categories.c.indicator_id == indicator.id,
            indicator_need_categories.c.need_category_id == category.id,
        )
    )
    return await present(session, indicator)


async def indicators_for_need(session: AsyncSession, category_id: UUID) -> list[Indicator]:
    return list(
        (
            await session.scalars(
                select(Indicator)
                .join(
                    indicator_need_categories,
                    indicator_need_categories.c.indicator_id == Indicator.id,
                )
                .where(indicator_need_categories.c.need_category_id == category_id)
                .order_by(Indicator.key)
            )
        ).all()
    )
