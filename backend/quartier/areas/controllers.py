"""JSON API of the social areas: lists and filters, the hierarchy, point lookup, the GeoJSON
export and the import. Handlers are thin: they call areas.services."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.areas import importer, services
from quartier.areas.models import today
from quartier.areas.schemas import (
    AreaLevelList,
    AreaVersionList,
    ImportProblem,
    ImportReport,
    ImportRequest,
    PointLookup,
    SocialAreaList,
    SocialAreaOut,
)
from quartier.core.conditional import cached, is_fresh, validators
from quartier.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, FieldError, InvalidInput
from quartier.core.openapi import FEATURE_COLLECTION
from quartier.core.pagination import Cursor, Limit, Page
from quartier.core.security import ADMINS, access
from quartier.settings import Settings

TAGS = ["Social areas"]
GEOJSON_MEDIA_TYPE = "application/geo+json"


class Include(enum.StrEnum):
    BOUNDARY = "boundary"


IncludeParam = Annotated[
    list[Include] | None,
    Parameter(
        max_items=1,
        description="Extra parts of each area: `boundary` adds the GeoJSON MultiPolygon.",
    ),
]
CodeParam = Annotated[str, Parameter(min_length=1, max_length=32)]
LevelParam = Annotated[
    str | None,
    Parameter(min_length=1, max_length=40, description="Only areas of this level (its key)."),
]


AtParam = Annotated[
    datetime.date | None,
    Parameter(
        description="The date to answer for (ISO 8601, default today): only areas valid then, "
        "with the boundary version valid then; population counts the sub-areas valid then.",
    ),
]
AreaAtParam = Annotated[
    datetime.date | None,
    Parameter(
        description="The date to answer for (ISO 8601): the boundary version and population "
        "of that day; 404 when the area did not exist then. Without it, the area is given "
        "whatever its validity, as today or, when retired, as on its last day.",
    ),
]


def _boundaries(include: list[Include] | None) -> bool:
    return Include.BOUNDARY in (include or [])


class SocialAreaController(Controller):
    path = "/social-areas"
    tags = TAGS

    @get(
        operation_id="ListSocialAreas",
        summary="List social areas",
        description=(
            "Social areas valid on `at` (default today) ordered by code, cursor-paginated, with "
            "their level, validity, boundary version and population (the latest reference "
            "date; parents' figures are the sum of their sub-areas valid on `at`, so a retired "
            "area and its successor never count twice). "
            "Filters combine: `level` (key), `parent` (code) or `parent_id`, `code`, and `q`, a "
            "case-insensitive search in names that ignores umlaut spelling (Köpenick, "
            "Koepenick and Kopenick find the same area)."
        ),
        **cached(access(public=True)),
    )
    async def list_areas(
        self,
        db_session: AsyncSession,
        level: LevelParam = None,
        parent: Annotated[
            str | None,
            Parameter(min_length=1, max_length=32, description="Code of the parent area."),
        ] = None,
        parent_id: Annotated[UUID | None, Parameter(description="Id of the parent area.")] = None,
        code: Annotated[
            str | None, Parameter(min_length=1, max_length=32, description="Official code.")
        ] = None,
        q: Annotated[
            str | None, Parameter(min_length=1, max_length=100, description="Name search.")
        ] = None,
        include: IncludeParam = None,
        at: AtParam = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[SocialAreaOut]:
        filters = services.AreaFilter(
            level=level, parent_code=parent, parent_id=parent_id, code=code, q=q, at=at
        )
        return await services.list_areas(
            db_session, filters, limit=limit, cursor=cursor, boundaries=_boundaries(include)
        )

    @get(
        "/{area_id:uuid}",
        operation_id="GetSocialArea",
        summary="Get a social area",
        description="One social area by id — also a retired one, with its validity and "
        "successors — with level and population; `include=boundary` adds its boundary; `at` "
        "gives the version of that day (e.g. the one a response was given in).",
        **cached(access(public=True)),
    )
    async def get_area(
        self,
        db_session: AsyncSession,
        area_id: UUID,
        include: IncludeParam = None,
        at: AreaAtParam = None,
    ) -> SocialAreaOut:
        return await services.get_area(db_session, area_id, boundaries=_boundaries(include), at=at)

    @get(
        "/by-code/{code:str}",
        operation_id="GetSocialAreaByCode",
        summary="Get a social area by its official code",
        description="One social area by its official code (e.g. Berlin's `01011101`) — also "
        "a retired one — with level and population; `include=boundary` adds its boundary; "
        "`at` gives the version of that day.",
        **cached(access(public=True)),
    )
    async def get_area_by_code(
        self,
        db_session: AsyncSession,
        code: Annotated[str, Parameter(min_length=1, max_length=32)],
        include: IncludeParam = None,
        at: AreaAtParam = None,
    ) -> SocialAreaOut:
        return await services.get_area_by_code(
            db_session, code, boundaries=_boundaries(include), at=at
        )

    @get(
        "/{area_id:uuid}/versions",
        operation_id="ListSocialAreaVersions",
        summary="List the boundary versions of a social area",
        description="Every version the area has had — a new boundary, name or parent starts "
        "one — oldest first, each with the period it was valid (`valid_to` exclusive; null on "
        "the newest) and the area's name and parent in that period; `include=boundary` adds "
        "the boundaries.",
        **cached(access(public=True)),
    )
    async def list_versions(
        self, db_session: AsyncSession, area_id: UUID, include: IncludeParam = None
    ) -> AreaVersionList:
        return await services.area_versions(db_session, area_id, boundaries=_boundaries(include))

    @get(
        "/{area_id:uuid}/children",
        operation_id="ListSocialAreaChildren",
        summary="List the sub-areas of a social area",
        description="The areas one level below this one valid on `at` (default today), "
        "ordered by code, cursor-paginated.",
        **cached(access(public=True)),
    )
    async def list_children(
        self,
        db_session: AsyncSession,
        area_id: UUID,
        at: AtParam = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[SocialAreaOut]:
        return await services.children(db_session, area_id, limit=limit, cursor=cursor, at=at)

    @get(
        "/{area_id:uuid}/ancestors",
        operation_id="ListSocialAreaAncestors",
        summary="List the areas above a social area",
        description="The areas containing this one, top level first (empty for a top-level "
        "area) — e.g. for a breadcrumb.",
        **cached(access(public=True)),
    )
    async def list_ancestors(
        self, db_session: AsyncSession, area_id: UUID, at: AtParam = None
    ) -> SocialAreaList:
        return SocialAreaList(items=await services.ancestors(db_session, area_id, at))

    @get(
        "/lookup",
        operation_id="LookupSocialAreasByPoint",
        summary="Find the social areas at a point",
        description="The areas valid on `at` (default today) at every level whose boundary "
        "version of that day contains the point (WGS 84), top level first; empty when the "
        "point lies outside all areas. A point exactly on a shared boundary belongs to both "
        "neighbours.",
        **access(public=True),
    )
    async def lookup(
        self,
        db_session: AsyncSession,
        lat: Annotated[float, Parameter(ge=-90, le=90, description="Latitude, WGS 84.")],
        lon: Annotated[float, Parameter(ge=-180, le=180, description="Longitude, WGS 84.")],
        at: AtParam = None,
    ) -> PointLookup:
        return PointLookup(
            lat=lat, lon=lon, items=await services.lookup_point(db_session, lat, lon, at)
        )

    @get(
        "/geojson",
        operation_id="ExportSocialAreasGeoJSON",
        summary="Export one level as GeoJSON",
        description="The areas of a level valid on `at` (default today), with the boundary "
        "version of that day, as a GeoJSON FeatureCollection (RFC 7946, WGS 84), streamed; "
        "each feature's properties carry code, name, parent code, area and population; the "
        "collection's `licence`, `source` and `attribution` members state the data's "
        "provenance (the attribution its licence requires). "
        "Conditional: the ETag is a version of the stored areas and figures and the date.",
        media_type=GEOJSON_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type=GEOJSON_MEDIA_TYPE,
                description="A GeoJSON FeatureCollection.",
                generate_examples=False,
            )
        },
        **cached(
            access(public=True),
            max_age=300,
            last_modified=True,
            content={200: {GEOJSON_MEDIA_TYPE: FEATURE_COLLECTION}},
        ),
    )
    async def export_geojson(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        db_engine: AsyncEngine,
        level: Annotated[str, Parameter(min_length=1, max_length=40, description="Level key.")],
        at: AtParam = None,
    ) -> Response[bytes] | Stream:
        day = at or today()
        found, figures = await services.export_level(db_session, level, day)
        settings: Settings = request.app.state["settings"]
        provenance = services.provenance_of(found, settings.area_data_attribution)
        version = await services.data_version(db_session)
        headers = validators(f"{found.key}|{day.isoformat()}|{version.key}", version.modified)
        headers["Content-Disposition"] = f'attachment; filename="{found.key}.geojson"'
        if is_fresh(request, headers):
            return Response(b"", media_type=GEOJSON_MEDIA_TYPE, headers=headers)
        return Stream(
            services.stream_level_geojson(db_engine, found, figures, day, provenance),
            media_type=GEOJSON_MEDIA_TYPE,
            headers=headers,
        )


class ImportPost(post):
    """`post` whose body limit is the app's `import_max_body_bytes`, known only once the
    handler is registered on an app (GeoJSON of a city is far larger than other bodies)."""

    def on_registration(self, app: Litestar) -> None:
        settings: Settings | None = app.state.get("settings")
        if settings is not None:
            self.request_max_body_size = settings.import_max_body_bytes
        super().on_registration(app)


def _field_errors(report: ImportReport) -> list[FieldError]:
    """The report's errors as paths into the request body (`levels[0].geojson.features[3]
    .geometry`, `population[1].csv`); without errors, the warnings to confirm."""
    errors: list[FieldError] = []
    wanted = [row for row in report.rows if row.severity == "error"] or [
        row for row in report.rows if row.needs_confirmation
    ]
    for row in wanted:
        path = row.source
        if path.startswith("levels["):
            if row.feature is not None:
                path += f".geojson.features[{row.feature}]"
            if row.field:
                path += f".{row.field}"
        elif path.startswith("population["):
            path += ".csv"
        elif path.startswith("successors[") and row.field:
            path += f".{row.field}"
        message = row.message if row.code is None else f"area {row.code}: {row.message}"
        if row.line is not None:
            message = f"line {row.line}: {message}"
        errors.append(FieldError(field=path, source="body", message=message))
    return errors


def _import_failed(
    request: Request[Any, Any, Any], failed: services.ImportFailed
) -> Response[ImportProblem]:
    # A 422 makes the request's transaction roll back (the service wrote nothing anyway).
    problem = ImportProblem(
        type=PROBLEM_BASE + failed.slug,
        title=failed.title,
        status=failed.status_code,
        detail=failed.detail,
        errors=_field_errors(failed.report),
        report=failed.report,
    )
    return Response(problem, status_code=failed.status_code, media_type=PROBLEM_MEDIA_TYPE)


class SocialAreaImportController(Controller):
    path = "/social-areas/import"
    tags = TAGS

    @ImportPost(
        operation_id="ImportSocialAreas",
        summary="Import social areas and population",
        description=(
            "Imports levels of the hierarchy (one GeoJSON FeatureCollection per level, top level "
            "first; parents by `parent_property` or by code prefix) and population tables (CSV "
            "keyed by area code) in one transaction. Areas are matched by code: a repeated "
            "import changes nothing. Boundaries in ETRS89 / UTM (EPSG:25832, EPSG:25833) are "
            "transformed to WGS 84; `urn:ogc:def:crs:EPSG::4326` is read latitude first, as "
            "its definition says (unless only the longitude-first reading lies where the level "
            "above lies, which the report then says), `OGC:CRS84` longitude first; other CRSs "
            "are refused. One level can be imported on its own under the stored areas of the "
            "level above (`parent_level`, or the first level's stored depth).\n\n"
            "Areas have validity periods. A changed boundary becomes a new version valid from "
            "`valid_from` (default today); the previous version stays readable for earlier "
            "dates (`at`, ListSocialAreaVersions). Stored areas of the imported levels that the "
            "import lacks are retired as of `valid_from` with `retire_missing`, or each with "
            "its successors through `successors` (e.g. a renumbered area: old code → new "
            "code); a retired area keeps its id and code, so what was given in it keeps "
            "pointing at it, and is counted in no total after its retirement. Missing areas "
            "that are not retired are a warning to confirm (confirming keeps them valid next to "
            "the imported ones). A retired code cannot be imported again.\n\n"
            "Errors abort the import (422 `import-failed`, nothing changes, the body carries the "
            "report): among them an unclosed ring, a geometry type other than (Multi)Polygon "
            "such as GeometryCollection, an unknown CRS. Plausibility warnings must be "
            "confirmed (422 `import-needs-confirmation` until `confirm_warnings` is true, "
            "nothing changes before): a boundary far from its previous version or its parent, "
            "siblings overlapping substantially, a child outside its parent, a population "
            "table most of whose codes match no area (with a hint when leading zeros were "
            "lost), stored areas missing from the import that it does not retire. Other "
            "warnings (repaired geometry, population rows without an area, …) are "
            "listed in the report. A body that does not match this contract is a 400 naming "
            "the field. Admins, or an API token with scope `areas:write`."
        ),
        status_code=200,
        responses={
            422: ResponseSpec(
                data_container=ImportProblem,
                media_type=PROBLEM_MEDIA_TYPE,
                description="Nothing changed. `type` `/problems/import-failed`: the import has "
                "errors, `errors` names each field (a path into the body, e.g. "
                "`levels[0].geojson.features[3].geometry`) and `report` lists every finding; "
                "`/problems/import-needs-confirmation`: the report has warnings with "
                "`needs_confirmation` (counted in `report.needs_confirmation`), send the "
                "import again with `confirm_warnings: true` to store it; "
                "`/problems/invalid-input`: an unknown `parent_level`, an area named twice in "
                "`successors`.",
                generate_examples=False,
            )
        },
        exception_handlers={services.ImportFailed: _import_failed},
        **access(roles=ADMINS, scopes={"areas:write"}),
    )
    async def import_areas(self, db_session: AsyncSession, data: ImportRequest) -> ImportReport:
        successors: dict[str, list[str]] = {}
        for index, item in enumerate(data.successors):
            if item.code in successors:
                raise InvalidInput(
                    f"Area {item.code} is named twice in successors.",
                    errors=[
                        FieldError(
                            field=f"successors[{index}].code", source="body", message="named twice"
                        )
                    ],
                )
            successors[item.code] = item.successors
        levels = [
            importer.LevelSource(
                key=item.key,
                collection=item.geojson,
                source=f"levels[{index}]",
                name_de=item.name_de,
                name_en=item.name_en,
                code_property=item.code_property,
                name_property=item.name_property,
                parent_property=item.parent_property,
                area_property=item.area_property,
                crs=item.crs,
            )
            for index, item in enumerate(data.levels)
        ]
        population = [
            importer.PopulationSource(
                text=item.csv,
                reference_date=item.reference_date,
                source=f"population[{index}]",
                code_column=item.code_column,
            )
            for index, item in enumerate(data.population)
        ]
        return await services.import_areas(
            db_session,
            levels,
            population,
            parent_level=data.parent_level,
            confirm_warnings=data.confirm_warnings,
            provenance=data.provenance,
            validity=services.Validity(
                valid_from=data.valid_from,
                retire_missing=data.retire_missing,
                successors=successors,
            ),
        )


@get(
    "/area-levels",
    operation_id="ListAreaLevels",
    summary="List the levels of the area hierarchy",
    description="The named levels, top level (depth 0) first, with German and English names, "
    "the number of areas on each and the provenance of their data (source, licence and the "
    "attribution their exports repeat).",
    tags=TAGS,
    **cached(access(public=True)),
)
async def list_levels(request: Request[Any, Any, Any], db_session: AsyncSession) -> AreaLevelList:
    settings: Settings = request.app.state["settings"]
    return await services.list_levels(db_session, settings.area_data_attribution)


API_ROUTES: list[ControllerRouterHandler] = [
    SocialAreaController,
    SocialAreaImportController,
    list_levels,
]
