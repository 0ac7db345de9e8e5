"""Open data under /api/v1: the DCAT-AP.de catalogue and the public download of the aggregated
needs of closed surveys whose results are public. Both answer conditional requests
(core.conditional)."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.areas import services as areas
from quartier.core import i18n
from quartier.core.conditional import cached, is_fresh, validators
from quartier.core.errors import NotFound
from quartier.core.security import access
from quartier.opendata import catalog
from quartier.settings import Settings
from quartier.surveys import aggregation, exports
from quartier.surveys.aggregation import Weighting
from quartier.surveys.export_controllers import (
    DISCLOSURE,
    EXPORT_CONTENT,
    EXPORT_RESPONSE,
    FormatParam,
    LevelParam,
    WeightingParam,
    stream_file,
)
from quartier.surveys.exports import Format
from quartier.surveys.models import Survey

TAGS = ["Open data"]
CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A dcat:Catalog in JSON-LD (compacted with the `@context` it carries: "
    "prefixes dcat, dct, dcatde, foaf, vcard, xsd, gsp) following DCAT-AP.de: `dcat:dataset` "
    "lists the datasets, each with `dcat:distribution`s (`dcat:downloadURL`, "
    "`dcat:mediaType`, `dct:format`, `dct:license`, `dcatde:licenseAttributionByText`), "
    "`dct:publisher`, `dct:spatial` (bounding box, area codes), `dct:temporal` and "
    "`dct:modified`.",
    "additionalProperties": True,
}


@get(
    catalog.CATALOG_PATH.removeprefix("/api/v1"),
    operation_id="GetOpenDataCatalog",
    summary="The open-data catalogue (DCAT-AP.de, JSON-LD)",
    description="The datasets this municipality publishes, as a DCAT-AP.de catalogue in "
    "JSON-LD: social areas with boundaries and population (GeoJSON per level), the aggregated "
    "needs of every closed survey whose results are public (JSON, CSV, CSV for German Excel, "
    "XLSX, GeoJSON), and the area indicators. Each distribution has a stable download URL, "
    "its media type, licence and attribution, and each dataset its publisher, temporal and "
    "spatial coverage and modification time.",
    tags=TAGS,
    media_type=catalog.MEDIA_TYPE,
    responses={
        200: ResponseSpec(
            data_container=bytes,
            media_type=catalog.MEDIA_TYPE,
            description="The catalogue.",
            generate_examples=False,
        )
    },
    **cached(
        access(public=True),
        max_age=300,
        last_modified=True,
        content={200: {catalog.MEDIA_TYPE: CATALOG_SCHEMA}},
    ),
)
async def get_catalog(request: Request[Any, Any, Any], db_session: AsyncSession) -> Response[bytes]:
    settings: Settings = request.app.state["settings"]
    document, modified = await catalog.build_catalog(db_session, settings)
    # Only `Last-Modified` here: the ETag of the catalogue is computed from its body.
    return Response(
        msgspec.json.encode(document),
        media_type=catalog.MEDIA_TYPE,
        headers=validators(None, modified),
    )


async def _open_survey(session: AsyncSession, survey_id: UUID) -> Survey:
    for survey in await catalog.open_surveys(session):
        if survey.id == survey_id:
            return survey
    raise NotFound(f"No closed survey {survey_id} with public results.", title="Not open data")


@get(
    "/open-data/surveys/{survey_id:uuid}/aggregated-needs",
    operation_id="ExportOpenSurveyNeeds",
    summary="Download the aggregated needs of a closed survey with public results",
    description="As ExportAggregatedNeeds, for anyone: the aggregated needs of a closed "
    "survey whose results the planners made public (SetSurveyResultsPublication), as listed "
    "in GetOpenDataCatalog; 404 for any other survey. Conditional: the ETag is weak (the file "
    "states its generation time) and changes when a figure, the areas or the language "
    "change." + DISCLOSURE,
    tags=TAGS,
    responses={**EXPORT_RESPONSE},
    **cached(access(public=True), max_age=300, last_modified=True, content=EXPORT_CONTENT),
)
async def export_open_needs(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    db_engine: AsyncEngine,
    survey_id: UUID,
    level: LevelParam,
    format: FormatParam = Format.JSON,
    weighting: WeightingParam = Weighting.NONE,
) -> Response[bytes] | Stream:
    survey = await _open_survey(db_session, survey_id)
    result = await aggregation.aggregated_needs(
        db_session, survey_id, level_key=level, weighting=weighting
    )
    area_version = await areas.data_version(db_session)
    modified = await catalog.survey_modified(db_session, survey)
    if area_version.modified is not None:
        modified = max(modified, area_version.modified)
    stable = msgspec.structs.replace(
        result,
        metadata=msgspec.structs.replace(
            result.metadata, generated_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        ),
    )
    version = b"|".join(
        [
            format.value.encode(),
            i18n.current_language().encode(),
            area_version.key.encode(),
            msgspec.json.encode(stable),
        ]
    )
    headers = validators(version, modified, weak=True)
    if is_fresh(request, headers):
        return Response(b"", media_type=exports.MEDIA_TYPES[format], headers=headers)
    return stream_file(result, format, db_engine, headers=headers)


API_ROUTES: list[ControllerRouterHandler] = [get_catalog, export_open_needs]
