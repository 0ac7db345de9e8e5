"""The printable documents of a measure — the consultation report and the decision template
(Beschlussvorlage) — as one Jinja template each, served as an HTML page and, from the same
rendered HTML, as a tagged PDF (`core.pdf.render_pdf`). Pages and the JSON API both answer
through here, so the page a planner prints and the PDF the API returns are the same document.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Response
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.i18n import gettext as _
from quartier.core.pdf import PDF_MEDIA_TYPE, render_pdf
from quartier.measures import schemas as s
from quartier.measures.pages import KIND_NAMES, comment_groups, stance_chart
from quartier.measures.pages import _context as page_context
from quartier.measures.support_maps import area_maps
from quartier.surveys import pages as survey_pages

REPORT_TEMPLATE = "measures/consultation_report.html"
DECISION_TEMPLATE = "measures/decision_template.html"


async def report_context(
    session: AsyncSession, report: s.ConsultationReport, *, pdf: bool = False
) -> dict[str, Any]:
    everyone = next(group for group in report.summary.groups if group.kind is None)
    return page_context(
        report=report,
        summary=report.summary,
        content=report.consulted,
        chart=stance_chart(everyone, report.summary.metadata.k_threshold),
        comment_groups=comment_groups(report.summary.comments, report.consulted),
        respondent_kinds=", ".join(_(KIND_NAMES[kind]) for kind in report.respondent_kinds),
        area_maps=await area_maps(session, report.summary, report.consulted.areas),
        document_title=_("Consultation report: %(title)s", title=report.consulted.title),
        pdf=pdf,
    )


def decision_context(template: s.DecisionTemplate, *, pdf: bool = False) -> dict[str, Any]:
    chart = None
    if template.consultation is not None and not template.consultation.withheld:
        chart = stance_chart(
            s.GroupSummary(
                key="decision",
                label="all",
                kind=None,
                area_code=None,
                respondents=template.consultation.respondents,
                stances=template.consultation.stances,
                criteria=[],
            ),
            0,
        )
    return page_context(
        decision=template,
        content=template.content,
        chart=chart,
        survey_percent=survey_pages.percent,
        document_title=_("Decision template: %(title)s", title=template.content.title),
        pdf=pdf,
    )


async def pdf_response(
    app: Litestar, template_name: str, context: dict[str, Any], filename: str
) -> Response[bytes]:
    """The document rendered from `template_name` as a PDF attachment."""
    html = app.template_engine.get_template(template_name).render(**context)  # type: ignore[union-attr]
    return Response(
        await render_pdf(html),
        media_type=PDF_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def report_filename(report: s.ConsultationReport) -> str:
    return f"consultation-report-{report.measure_id}-v{report.consulted.version}.pdf"


def decision_filename(template: s.DecisionTemplate) -> str:
    return f"decision-template-{template.measure_id}-v{template.content.version}.pdf"


# -- the documents, each as a page and as a PDF ----------------------------------------------


def _page(template_name: str, context: dict[str, Any]) -> Template:
    return Template(
        template_name=template_name, context=context, headers={"Cache-Control": "no-store"}
    )


async def report_page(session: AsyncSession, report: s.ConsultationReport) -> Template:
    """The consultation report as a printable page."""
    return _page(REPORT_TEMPLATE, await report_context(session, report))


async def report_pdf(
    app: Litestar, session: AsyncSession, report: s.ConsultationReport
) -> Response[bytes]:
    """The consultation report as a PDF attachment: the page's template, rendered for print."""
    return await pdf_response(
        app,
        REPORT_TEMPLATE,
        await report_context(session, report, pdf=True),
        report_filename(report),
    )


def decision_page(template: s.DecisionTemplate) -> Template:
    """The decision template as a printable page."""
    return _page(DECISION_TEMPLATE, decision_context(template))


async def decision_pdf(app: Litestar, template: s.DecisionTemplate) -> Response[bytes]:
    """The decision template as a PDF attachment: the page's template, rendered for print."""
    return await pdf_response(
        app,
        DECISION_TEMPLATE,
        decision_context(template, pdf=True),
        decision_filename(template),
    )
