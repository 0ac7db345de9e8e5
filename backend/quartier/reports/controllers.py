"""JSON API of the social report (under /api/v1): the report's structure, its PDF, the
editorial sections and the release. Thin: every handler calls `reports.services` (and the PDF
`reports.document`, the same template as the printable page)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.openapi import problem_spec, problems
from quartier.core.pdf import PDF_MEDIA_TYPE
from quartier.core.security import PLANNERS, access, principal_of
from quartier.processes.services import Actor
from quartier.reports import document, published, services
from quartier.reports import schemas as s

TAGS = ["Social reports"]
AnyRequest = Request[Any, Any, Any]
NOT_RELEASED = problem_spec(
    404,
    "No such process, or its report is not released yet (staff and tokens with "
    "`reports:read` see it before).",
)


class SocialReportController(Controller):
    path = "/processes/{process_id:uuid}/social-report"
    tags = TAGS

    @get(
        "/",
        operation_id="GetSocialReport",
        summary="The social report of a cycle",
        description="The social report of the planning process (one cycle): the mandate, the "
        "residents' expressed needs per social area (the surveys' aggregated needs and the ideas "
        "aggregates, disclosure-controlled by the cell key method), the gaps planners marked, "
        "the measured indicators at the report's level, goals, measures with their status and "
        "public evaluation, and the planners' editorial sections (German, with their "
        "`translations` into further languages). The staff-written texts carry their "
        "translations beside the German: the process's title and topic (`title_translations`), "
        "the mandate's texts (`mandate.translations`), each goal's statement and each "
        "measure's title and summary (`translations`). Public "
        "once released (then exactly as released, translations included: later translations "
        "of the process or its measures do not change it; a report released before these "
        "were kept has none); before release only staff and tokens with "
        "`reports:read` or `reports:write` see it, assembled from what is recorded now; others "
        "get 404.",
        responses={404: NOT_RELEASED},
        **access(public=True),
    )
    async def get_report(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> s.SocialReport:
        return await services.get_report(db_session, process_id, principal_of(request))

    @get(
        "/pdf",
        operation_id="GetSocialReportPdf",
        summary="The social report as PDF",
        description="The report as a tagged PDF (PDF/UA-1), laid out from the same template as "
        "the printable page `/processes/{process_id}/report`, with its charts and maps, in the "
        "reader's language (`lang`, else `Accept-Language`; stated in `Content-Language`): "
        "the title and topic, mandate, editorial sections, goals and measures' titles in their "
        "translations, German where there is none (the document says so). Who may read it: "
        "as GetSocialReport. Once released, the PDF is the public document (the same for "
        "every reader, staff included), laid out once per language after the release and "
        "served as stored.",
        media_type=PDF_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type=PDF_MEDIA_TYPE,
                description="The report as a PDF attachment.",
                generate_examples=False,
            ),
            404: NOT_RELEASED,
        },
        **access(public=True),
    )
    async def get_pdf(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> Response[bytes]:
        report = await services.get_report(db_session, process_id, principal_of(request))
        content = await published.pdf(db_session, report)
        return Response(
            content,
            media_type=PDF_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{document.filename(report)}"',
                "Cache-Control": "no-store",
            },
        )

    @put(
        "/sections",
        operation_id="UpdateSocialReportSections",
        summary="Write the editorial sections",
        description="Stores the planners' sections (introduction, needs, measures, evaluation, "
        "outlook; plain text, each at most 20,000 characters) and optionally the area level "
        "the report shows (422 naming `level` if the process's social areas have none there). "
        "The sections are German; `translations` gives them per further language, bounded "
        "like the German text (a save keeps only the languages sent; a section left empty is "
        "shown to residents in German, with a note saying so); a language the deployment does "
        "not enable is a 422 naming `translations.<language>`. "
        "Returns the report as assembled now. 409 once the report is released "
        "(`report-released`) or the process is archived.",
        responses=problems(409, 422),
        **access(roles=PLANNERS, scopes={"reports:write"}),
    )
    async def update_sections(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        data: s.ReportSettings,
    ) -> s.SocialReport:
        actor = Actor.of(principal_of(request))
        return await services.update_sections(db_session, process_id, data, actor)

    @post(
        "/release",
        operation_id="ReleaseSocialReport",
        summary="Release the social report",
        description="Publishes the report: records who and when, stores the report as released "
        "(assembled in German, the language of the record, with the translations of the "
        "sections, the process's title, topic and mandate, the goals and the measures as they "
        "are) and makes it public on the process page; sends the `report.published` webhook. "
        "Only in the phase "
        "`social_reporting` of a published process (409 `wrong-phase`, "
        "`process-not-published`), once (409 `report-released`).",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **access(roles=PLANNERS, scopes={"reports:write"}),
    )
    async def release(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> s.SocialReport:
        actor = Actor.of(principal_of(request))
        return await services.release(db_session, process_id, actor)


API_ROUTES: list[ControllerRouterHandler] = [SocialReportController]
