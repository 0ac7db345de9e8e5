"""JSON API and file exports of the aggregated needs (under /api/v1): per survey and per
planning process, at a chosen level of the area hierarchy, optionally weighted by age.
Handlers are thin: `surveys.aggregation` computes the disclosure-controlled grid, and
`surveys.exports` renders it as a streamed file."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.core.openapi import FEATURE_COLLECTION, problems, with_content
from quartier.core.security import PLANNERS, access
from quartier.settings import Settings
from quartier.surveys import aggregation, exports
from quartier.surveys.aggregation import AggregatedNeeds, Weighting
from quartier.surveys.exports import Format

LevelParam = Annotated[
    str,
    QueryParameter(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Key of the area level, e.g. `district` or `planning_area`; not finer than "
        "the level the survey asks for.",
    ),
]
WeightingParam = Annotated[
    Weighting,
    QueryParameter(
        description="`none`: raw shares; `age`: also shares weighted to each area's population "
        "by age band (post-stratification), with the effective sample size.",
    ),
]
AtParam = Annotated[
    datetime.date | None,
    QueryParameter(
        description="The date of the area hierarchy (ISO 8601, default today): the areas "
        "valid then, each response counted along the path its area had then (an area not "
        "valid then, e.g. a retired one: as on its last valid day), population of that date; "
        "stated in `metadata.at`.",
    ),
]
FormatParam = Annotated[
    Format,
    QueryParameter(
        description="`json`, `csv` (UTF-8, comma, `#` metadata lines before the header), "
        "`csv-de` (for German Excel: BOM, semicolon, decimal comma), `xlsx` (sheets Bedarfe "
        "and Metadaten) or `geojson` (areas with boundaries and flat properties).",
    ),
]

DISCLOSURE = (
    " Disclosure control by the cell key method (`disclosure_method`, docs/PRIVACY.md): every "
    "count is perturbed by noise chosen by its cell key, the same wherever the cell appears, "
    "and results below k read 0; an area whose perturbed number of responses is below the "
    "survey's `min_respondents` is not shown: its values are null with `suppressed: true` and "
    "reason `protected`, never 0. Shares come with a Wilson 95% interval of the perturbed "
    "counts."
)
_STRING = {"type": "string"}
# The media types of the file by `format` (core.openapi.declared_content puts them in the
# contract); JSON has the schema of GetAggregatedNeeds.
EXPORT_CONTENT: dict[int, dict[str, Any]] = {
    200: {
        "application/json": {"$ref": "#/components/schemas/AggregatedNeeds"},
        "text/csv": {**_STRING, "description": "UTF-8; `#` metadata lines first"},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            **_STRING,
            "contentEncoding": "binary",
        },
        "application/geo+json": FEATURE_COLLECTION,
    }
}
EXPORT_RESPONSE = {
    200: ResponseSpec(
        data_container=bytes,
        media_type="application/octet-stream",
        description="The file, streamed: `application/json`, `text/csv`, "
        "`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` or "
        "`application/geo+json` by `format`, as an attachment.",
        generate_examples=False,
    ),
    **problems(422),
}
READERS = access(roles=PLANNERS, scopes={"surveys:read", "exports:read"})
EXPORTERS = access(roles=PLANNERS, scopes={"exports:read"})
FILE_EXPORTERS = with_content(EXPORTERS, EXPORT_CONTENT)


def stream_file(
    result: AggregatedNeeds,
    fmt: Format,
    engine: AsyncEngine,
    *,
    process: bool = False,
    headers: dict[str, str] | None = None,
) -> Stream:
    """The result as a streamed attachment (`headers` may add validators, core.conditional)."""
    name = exports.filename(result, fmt, process=process)
    return Stream(
        exports.render(result, fmt, engine),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


def attributed(request: Request[Any, Any, Any], result: AggregatedNeeds) -> AggregatedNeeds:
    """The attribution of the area data as its import recorded it on the level, else the
    deployment's configured one (as the areas' own GeoJSON export states it)."""
    settings: Settings = request.app.state["settings"]
    result.metadata.attribution = result.metadata.attribution or settings.area_data_attribution
    return result


class SurveyNeedsController(Controller):
    path = "/surveys/{survey_id:uuid}/aggregated-needs"

    @get(
        operation_id="GetAggregatedNeeds",
        summary="Aggregated needs of a survey per social area",
        description="For each social area at `level` within the survey's scope, and for the "
        "whole scope: respondents, respondents expressing each need category, the share with "
        "its interval, and with `weighting=age` the population-weighted share and the effective "
        "sample size." + DISCLOSURE,
        tags=["Surveys"],
        responses=problems(422),
        **READERS,
    )
    async def get_needs(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        survey_id: UUID,
        level: LevelParam,
        weighting: WeightingParam = Weighting.NONE,
        at: AtParam = None,
    ) -> AggregatedNeeds:
        return attributed(
            request,
            await aggregation.aggregated_needs(
                db_session, survey_id, level_key=level, weighting=weighting, at=at
            ),
        )

    @get(
        "/export",
        operation_id="ExportAggregatedNeeds",
        summary="Export the aggregated needs of a survey",
        description="The aggregated needs as a file (`format`), with metadata: survey, period, "
        "level, date of the area hierarchy (`at`), k, min_respondents, weighting method, "
        "generation time and the numbers of "
        "suppressed cells." + DISCLOSURE,
        tags=["Exports"],
        responses=EXPORT_RESPONSE,
        **FILE_EXPORTERS,
    )
    async def export_needs(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        db_engine: AsyncEngine,
        survey_id: UUID,
        level: LevelParam,
        format: FormatParam = Format.JSON,
        weighting: WeightingParam = Weighting.NONE,
        at: AtParam = None,
    ) -> Stream:
        result = await aggregation.aggregated_needs(
            db_session, survey_id, level_key=level, weighting=weighting, at=at
        )
        return stream_file(attributed(request, result), format, db_engine)


class ProcessNeedsController(Controller):
    path = "/processes/{process_id:uuid}/aggregated-needs"

    @get(
        operation_id="GetProcessAggregatedNeeds",
        summary="Aggregated needs of all surveys of a planning process",
        description="As GetAggregatedNeeds, pooling the respondents of every survey of the "
        "process, with the strictest k and min_respondents among them." + DISCLOSURE,
        tags=["Surveys"],
        responses=problems(422),
        **READERS,
    )
    async def get_needs(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        process_id: UUID,
        level: LevelParam,
        weighting: WeightingParam = Weighting.NONE,
        at: AtParam = None,
    ) -> AggregatedNeeds:
        return attributed(
            request,
            await aggregation.process_aggregated_needs(
                db_session, process_id, level_key=level, weighting=weighting, at=at
            ),
        )

    @get(
        "/export",
        operation_id="ExportProcessAggregatedNeeds",
        summary="Export the aggregated needs of a planning process",
        description="As ExportAggregatedNeeds, pooling the respondents of every survey of the "
        "process." + DISCLOSURE,
        tags=["Exports"],
        responses=EXPORT_RESPONSE,
        **FILE_EXPORTERS,
    )
    async def export_needs(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        db_engine: AsyncEngine,
        process_id: UUID,
        level: LevelParam,
        format: FormatParam = Format.JSON,
        weighting: WeightingParam = Weighting.NONE,
        at: AtParam = None,
    ) -> Stream:
        result = await aggregation.process_aggregated_needs(
            db_session, process_id, level_key=level, weighting=weighting, at=at
        )
        return stream_file(attributed(request, result), format, db_engine, process=True)


EXPORT_ROUTES: list[ControllerRouterHandler] = [SurveyNeedsController, ProcessNeedsController]
