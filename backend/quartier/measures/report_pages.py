"""Printable pages of what planners hand to the council: the consultation report (public when
the feedback summary is) and the decision template (planners), each with its PDF — the same
template rendered by `measures.documents`. They call the same services as the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.security import PLANNERS, access, principal_of
from quartier.measures import common, documents, reports

AnyRequest = Request[Any, Any, Any]


async def _report(request: AnyRequest, db_session: AsyncSession, measure_id: UUID) -> Any:
    viewer = common.Viewer.of(principal_of(request))
    return await reports.consultation_report(db_session, measure_id, viewer)


@get(
    "/measures/{measure_id:uuid}/consultation-report",
    name="measures:report",
    include_in_schema=False,
    **access(public=True),
)
async def report_page(request: AnyRequest, db_session: AsyncSession, measure_id: UUID) -> Template:
    """The consultation report, printable: public after the window closes if the consultation
    publishes its summary, always for staff."""
    report = await _report(request, db_session, measure_id)
    return await documents.report_page(db_session, report)


@get(
    "/measures/{measure_id:uuid}/consultation-report.pdf",
    include_in_schema=False,
    **access(public=True),
)
async def report_pdf(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Response[bytes]:
    report = await _report(request, db_session, measure_id)
    return await documents.report_pdf(request.app, db_session, report)


@get(
    "/dashboard/measures/{measure_id:uuid}/decision-template",
    name="measures:decision",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def decision_page(db_session: AsyncSession, measure_id: UUID) -> Template:
    """The decision template (Beschlussvorlage), printable; shows the decision once adopted."""
    template = await reports.decision_template(db_session, measure_id, common.STAFF_VIEWER)
    return documents.decision_page(template)


@get(
    "/dashboard/measures/{measure_id:uuid}/decision-template.pdf",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def decision_pdf(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Response[bytes]:
    template = await reports.decision_template(db_session, measure_id, common.STAFF_VIEWER)
    return await documents.decision_pdf(request.app, template)


PAGES: list[ControllerRouterHandler] = [report_page, report_pdf, decision_page, decision_pdf]
