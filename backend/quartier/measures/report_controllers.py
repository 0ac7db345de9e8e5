"""JSON API of what planners hand to the council (under /api/v1): a measure's consultation
report and decision template, each as JSON and as PDF, and the feedback summary as a file in
the surveys' export formats. Handlers are thin: `measures.reports` assembles the documents,
`measures.documents` renders them, `measures.summary_exports` writes the files."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.core.openapi import FEATURE_COLLECTION, problem_spec
from quartier.core.pdf import PDF_MEDIA_TYPE
from quartier.core.security import PLANNERS, STAFF, access, principal_of
from quartier.measures import common, documents, feedback, reports, services, summary_exports
from quartier.measures import schemas as s
from quartier.measures.summary_exports import SummaryFormat
from quartier.settings import Settings

AnyRequest = Request[Any, Any, Any]
REPORTS = ["Measure reports"]

VersionQuery = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=100_000, description="The version consulted on; omitted: the latest consultation."
    ),
]
FormatParam = Annotated[
    SummaryFormat,
    QueryParameter(
        description="`json`, `csv` (UTF-8, comma, `#` metadata lines before the header), "
        "`csv-de` (for German Excel: BOM, semicolon, decimal comma), `xlsx` (sheets "
        "Rückmeldungen and Metadaten) or `geojson` (the social areas of the summary with "
        "boundaries and flat properties per kind) — the surveys' export formats.",
    ),
]
NOT_PUBLIC = {
    403: problem_spec(
        403,
        "The report is not public: the consultation is still open or does not publish its "
        "summary; staff and tokens with `measures:read` may read it.",
    )
}
STAFF_READERS = access(roles=STAFF, scopes={"measures:read", "measures:write"})
EXPORTERS = access(roles=PLANNERS, scopes={"exports:read"})
_STRING = {"type": "string"}
EXPORT_CONTENT: dict[str, Any] = {
    "content": {
        200: {
            "application/json": {"$ref": "#/components/schemas/FeedbackSummary"},
            "text/csv": {**_STRING, "description": "UTF-8; `#` metadata lines first"},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                **_STRING,
                "contentEncoding": "binary",
            },
            "application/geo+json": FEATURE_COLLECTION,
        }
    }
}


def _pdf(description: str) -> dict[int, ResponseSpec]:
    return {
        200: ResponseSpec(
            data_container=bytes,
            media_type=PDF_MEDIA_TYPE,
            description=description,
            generate_examples=False,
        )
    }


def _viewer(request: AnyRequest) -> common.Viewer:
    return common.Viewer.of(principal_of(request))


class MeasureReportController(Controller):
    path = "/measures/{measure_id:uuid}"
    tags = REPORTS

    @get(
        "/consultation-report",
        operation_id="GetMeasureConsultationReport",
        summary="The consultation report of a measure",
        description="For the council: the measure as consulted (version, sections, resources, "
        "criteria), who was asked (the window, the kinds of respondents, the organisations "
        "issued codes and whether they answered), what they said (the feedback summary, "
        "disclosure-controlled as in GetMeasureFeedbackSummary, comments by section) and what "
        "changed from the consulted version to the current one. Public exactly when the "
        "summary is: after the window closes if the consultation publishes its summary; "
        "always for staff and tokens with `measures:read`.",
        responses=NOT_PUBLIC,
        **access(public=True),
    )
    async def get_report(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        version: VersionQuery = None,
    ) -> s.ConsultationReport:
        return await reports.consultation_report(db_session, measure_id, _viewer(request), version)

    @get(
        "/consultation-report/pdf",
        operation_id="GetMeasureConsultationReportPdf",
        summary="The consultation report of a measure as PDF",
        description="GetMeasureConsultationReport as a tagged, accessible PDF (PDF/UA-1, text "
        "extractable) with the stance chart; the same document as the printable page "
        "`/measures/{measure_id}/consultation-report`. Public as the report is.",
        media_type=PDF_MEDIA_TYPE,
        responses={**_pdf("The report as a PDF attachment."), **NOT_PUBLIC},
        **access(public=True),
    )
    async def get_report_pdf(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        version: VersionQuery = None,
    ) -> Response[bytes]:
        report = await reports.consultation_report(
            db_session, measure_id, _viewer(request), version
        )
        return await documents.report_pdf(request.app, db_session, report)

    @get(
        "/decision-template",
        operation_id="GetMeasureDecisionTemplate",
        summary="The decision template (Beschlussvorlage) of a measure",
        description="The goals the measure serves with their needs evidence (survey figures "
        "as published when linked), the measure (the adopted version once adopted, else the "
        "current one) with its resources, provider and criteria of success, the result of its "
        "latest consultation (responses by kind, stances and ratings of all anonymous "
        "responses — disclosure-controlled — and the organisations' statements), and, once "
        "AdoptMeasure recorded it, the council's decision. For staff and tokens that read "
        "measures.",
        **STAFF_READERS,
    )
    async def get_decision_template(
        self, request: AnyRequest, db_session: AsyncSession, measure_id: UUID
    ) -> s.DecisionTemplate:
        return await reports.decision_template(db_session, measure_id, common.STAFF_VIEWER)

    @get(
        "/decision-template/pdf",
        operation_id="GetMeasureDecisionTemplatePdf",
        summary="The decision template of a measure as PDF",
        description="GetMeasureDecisionTemplate as a tagged, accessible PDF (PDF/UA-1); the "
        "same document as the printable page `/dashboard/measures/{measure_id}/"
        "decision-template`.",
        media_type=PDF_MEDIA_TYPE,
        responses=_pdf("The decision template as a PDF attachment."),
        **STAFF_READERS,
    )
    async def get_decision_template_pdf(
        self, request: AnyRequest, db_session: AsyncSession, measure_id: UUID
    ) -> Response[bytes]:
        template = await reports.decision_template(db_session, measure_id, common.STAFF_VIEWER)
        return await documents.decision_pdf(request.app, template)

    @get(
        "/summary/export",
        operation_id="ExportMeasureFeedbackSummary",
        summary="Export the feedback summary of a measure version",
        description="GetMeasureFeedbackSummary as a file (`format`) in the surveys' export "
        "formats, with their metadata: measure, version, process, window, groups, k, "
        "min_respondents, weighting, interval method, generation time, disclosure method, "
        "the numbers of suppressed values and withheld groups and the attribution of the area "
        "data. One long table (`row_type` group, stance, criterion, rating, organisation, "
        "organisation_rating, comment); GeoJSON: one feature per social area of the summary "
        "with its boundary and flat properties per kind (`resident_respondents`, "
        "`resident_support`, `resident_support_share`, `resident_<criterion>_mean`, …) and the "
        "foreign members `metadata`, `responses_by_kind`, `totals` and `organisations`. "
        "Values of protected groups are empty (CSV, XLSX) or null (JSON, GeoJSON) and "
        "flagged, never 0; every figure is the summary's own (cell key method).",
        tags=["Exports"],
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type="application/octet-stream",
                description="The file, streamed: `application/json`, `text/csv`, "
                "`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` or "
                "`application/geo+json` by `format`, as an attachment.",
                generate_examples=False,
            ),
        },
        **{**EXPORTERS, "opt": {**EXPORTERS["opt"], **EXPORT_CONTENT}},
    )
    async def export_summary(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        db_engine: AsyncEngine,
        measure_id: UUID,
        format: FormatParam = SummaryFormat.JSON,
        version: VersionQuery = None,
    ) -> Stream:
        summary = await feedback.summary(db_session, measure_id, common.STAFF_VIEWER, version)
        measure = await services.get_measure(
            db_session, measure_id, common.STAFF_VIEWER, summary.metadata.version
        )
        process = await common.process(db_session, measure.process_id, common.STAFF_VIEWER)
        settings: Settings = request.app.state["settings"]
        areas = (
            await summary_exports.areas_of(db_session, summary)
            if format is SummaryFormat.GEOJSON
            else None
        )
        return Stream(
            summary_exports.render(
                summary,
                format,
                title=measure.content.title,
                process=f"{process.title} ({process.id})",
                attribution=settings.area_data_attribution,
                engine=db_engine,
                areas=areas,
            ),
            media_type=summary_exports.MEDIA_TYPES[format],
            headers={
                "Content-Disposition": "attachment; "
                f'filename="{summary_exports.filename(summary, format)}"',
                "Cache-Control": "no-store",
            },
        )


REPORT_ROUTES: list[ControllerRouterHandler] = [MeasureReportController]
