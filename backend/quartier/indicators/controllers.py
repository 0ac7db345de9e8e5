"""JSON API of the area indicators: list, get, import (JSON and CSV), values per level with
roll-up, series per area, links to need categories. Handlers call indicators.services."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.conditional import cached
from quartier.core.openapi import problems
from quartier.core.pagination import Cursor, Limit, Page
from quartier.core.security import PLANNERS, access
from quartier.indicators import comparison, services
from quartier.indicators import schemas as s

TAGS = ["Indicators"]
KeyParam = Annotated[str, Parameter(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_]{1,63}$")]
CodeParam = Annotated[str, Parameter(min_length=1, max_length=32)]
NeedParam = Annotated[str, Parameter(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
WRITE = access(roles=PLANNERS, scopes={"indicators:write"})


class IndicatorController(Controller):
    path = "/indicators"
    tags = TAGS

    @get(
        operation_id="ListIndicators",
        summary="List area indicators",
        description="Indicators ordered by key, cursor-paginated, with unit, direction, "
        "aggregation, source, licence, reference dates, levels and linked need categories.",
        **cached(access(public=True)),
    )
    async def list_indicators(
        self, db_session: AsyncSession, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[s.IndicatorOut]:
        return await services.list_indicators(db_session, limit=limit, cursor=cursor)

    @get(
        "/{key:str}",
        operation_id="GetIndicator",
        summary="Get an area indicator",
        description="One indicator by key.",
        **cached(access(public=True)),
    )
    async def get_indicator(self, db_session: AsyncSession, key: KeyParam) -> s.IndicatorOut:
        return await services.get_indicator(db_session, key)

    @get(
        "/{key:str}/values",
        operation_id="ListIndicatorValues",
        summary="Values of an indicator per area of a level",
        description="Every area of the level (optionally only those inside the area `within`) "
        "with its value on the reference date (default: the latest). Where the level has no "
        "values of its own, they are rolled up from the nearest finer level: sums for counts, "
        "Σ numerator / Σ denominator for ratios (`rolled_up`, and `complete` false when a "
        "sub-area has no value); a non-additive indicator is refused (422). Areas without a "
        "value have `value` null.",
        responses=problems(422),
        **cached(access(public=True)),
    )
    async def list_values(
        self,
        db_session: AsyncSession,
        key: KeyParam,
        level: Annotated[str, Parameter(min_length=1, max_length=40, description="Level key.")],
        reference_date: Annotated[
            datetime.date | None, Parameter(description="Reference date (default: latest).")
        ] = None,
        within: Annotated[
            str | None, Parameter(min_length=1, max_length=32, description="Code of an area.")
        ] = None,
    ) -> s.LevelValues:
        return await services.level_values(db_session, key, level, reference_date, within=within)

    @get(
        "/{key:str}/areas/{code:str}",
        operation_id="GetIndicatorAreaSeries",
        summary="An indicator's time series for one area",
        description="The area's value on every reference date, rolled up from sub-areas where "
        "the area has no value of its own (not for non-additive indicators).",
        **cached(access(public=True)),
    )
    async def area_series(
        self, db_session: AsyncSession, key: KeyParam, code: CodeParam
    ) -> s.AreaSeries:
        return await services.area_series(db_session, key, code)

    @post(
        "/import",
        operation_id="ImportIndicator",
        summary="Import an indicator with its values (JSON)",
        description="Creates the indicator, or updates its definition when the key exists, and "
        "adds its values (replacing the value of the same area and reference date). All or "
        "nothing: any error (an unknown area code, a missing numerator of a ratio, a value "
        "that disagrees with numerator / denominator, an area twice on one date) refuses the "
        "whole import with 422 naming each value. Planners and admins, or a token with scope "
        "`indicators:write`.",
        status_code=200,
        responses=problems(422),
        **WRITE,
    )
    async def import_indicator(
        self, db_session: AsyncSession, data: s.IndicatorImport
    ) -> s.ImportResult:
        return await services.import_indicator(db_session, data.indicator, data.values)

    @post(
        "/{key:str}/values/csv",
        operation_id="ImportIndicatorValuesCsv",
        summary="Import values of an indicator from a statistics office's CSV",
        description="The body carries the CSV file, as text (`csv`) or byte for byte in "
        "Base64 (`csv_base64`, e.g. for Windows-1252 files): `;`, `,` or tab separated, "
        "decimal commas allowed, UTF-8 or Windows-1252, header with the columns `code` (or "
        "`Schlüssel`/`Gebiet`), `date` (or `Stichtag`; or `reference_date` in the body), "
        "`value` (or `Wert`) and for ratios `numerator`/`denominator` (or `Zähler`/`Nenner`). "
        "Codes keep their leading zeros; a numeric code that lost them is matched by padding "
        "(reported as a warning). All or nothing: 422 names each line in error.",
        status_code=200,
        responses=problems(422),
        **WRITE,
    )
    async def import_csv(
        self, db_session: AsyncSession, key: KeyParam, data: s.IndicatorCsvImport
    ) -> s.ImportResult:
        return await services.import_csv_body(db_session, key, data)

    @put(
        "/{key:str}/need-categories/{need:str}",
        operation_id="LinkIndicatorNeedCategory",
        summary="Link an indicator to a need category",
        description="The indicator then measures that need: it is shown beside the surveys' "
        "expressed need of the category. Idempotent.",
        status_code=200,
        **WRITE,
    )
    async def link(
        self, db_session: AsyncSession, key: KeyParam, need: NeedParam
    ) -> s.IndicatorOut:
        return await services.link_need(db_session, key, need)

    @delete(
        "/{key:str}/need-categories/{need:str}",
        operation_id="UnlinkIndicatorNeedCategory",
        summary="Unlink an indicator from a need category",
        description="Removes the link; idempotent.",
        status_code=200,
        **WRITE,
    )
    async def unlink(
        self, db_session: AsyncSession, key: KeyParam, need: NeedParam
    ) -> s.IndicatorOut:
        return await services.unlink_need(db_session, key, need)


class NeedComparisonController(Controller):
    path = "/processes/{process_id:uuid}/need-comparison"
    tags = TAGS

    @get(
        "/{need:str}",
        operation_id="GetNeedComparison",
        summary="Expressed vs measured need per area",
        description="For a planning process, a need category and a level: each area's "
        "expressed need (the surveys' disclosure-controlled share with its 95% Wilson "
        "interval, weighted by age where possible; withheld and suppressed cells stay null) "
        "beside the values of the indicators linked to the category (latest reference date) "
        "and the gap planners marked, if any.",
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"surveys:read", "exports:read"}),
    )
    async def compare(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        need: NeedParam,
        level: Annotated[str, Parameter(min_length=1, max_length=40, description="Level key.")],
    ) -> comparison.NeedComparison:
        return await comparison.compare(db_session, process_id, need, level)

    @put(
        "/{need:str}/gaps/{code:str}",
        operation_id="MarkNeedGap",
        summary="Mark an area as a gap in a need category",
        description="Records (or changes the note of) the planners' finding that the area has "
        "a gap in this need category in this process.",
        status_code=200,
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"processes:write"}),
    )
    async def mark(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        need: NeedParam,
        code: CodeParam,
        data: comparison.GapIn,
    ) -> comparison.GapOut:
        return await comparison.mark_gap(db_session, process_id, need, code, data.note)

    @delete(
        "/{need:str}/gaps/{code:str}",
        operation_id="UnmarkNeedGap",
        summary="Remove a gap mark",
        description="Removes the gap mark of the area in this need category; idempotent.",
        status_code=204,
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"processes:write"}),
    )
    async def unmark(
        self, db_session: AsyncSession, process_id: UUID, need: NeedParam, code: CodeParam
    ) -> None:
        await comparison.unmark_gap(db_session, process_id, need, code)


API_ROUTES: list[ControllerRouterHandler] = [IndicatorController, NeedComparisonController]
