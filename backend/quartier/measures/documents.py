"""The printable documents of a measure — the consultation report and the decision template
(Beschlussvorlage) — as one Jinja template each, served as an HTML page and, from the same
rendered HTML, as a tagged PDF (`core.pdf.render_pdf`). Pages and the JSON API both answer
through here, so the page a planner prints and the PDF the API returns are the same document.

The decision template is German unless another of the enabled languages is asked for (`lang`,
`document_language`): then its interface texts come from the translation catalogues and the
measure's texts and the goals' statements from their translations (`measures.texts`), each in
German where it has none, with the note that says so.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.i18n import gettext as _
from quartier.core.pdf import PDF_MEDIA_TYPE, render_pdf
from quartier.measures import schemas as s
from quartier.measures import texts
from quartier.measures.pages import KIND_NAMES, comment_groups, stance_chart
from quartier.measures.pages import _context as page_context
from quartier.measures.support_maps import area_maps
from quartier.surveys import pages as survey_pages

REPORT_TEMPLATE = "measures/consultation_report.html"
DECISION_TEMPLATE = "measures/decision_template.html"


def document_language(request: Request[Any, Any, Any]) -> str:
    """The language a council document is asked for with `lang` (the enabled languages, the
    same rule as every page and operation: an unknown value is ignored), else German — not the
    reader's interface language: a council document is German unless asked otherwise. Sets it
    for the rendering."""
    language = i18n.negotiate(request.query_params.get("lang"), None, None)
    i18n.set_language(language)
    return language


async def report_context(
    session: AsyncSession, report: s.ConsultationReport, *, pdf: bool = False
) -> dict[str, Any]:
    """The consultation report in the reader's language (residents read it once released):
    the measure's texts where translated, else German with the note saying so."""
    everyone = next(group for group in report.summary.groups if group.kind is None)
    shown = texts.for_residents(report.consulted, i18n.current_language())
    return page_context(
        report=report,
        summary=report.summary,
        content=report.consulted,
        texts=shown,
        fallback_language=shared_translations.fallback_language(shown.all()),
        chart=stance_chart(everyone, report.summary.metadata.k_threshold),
        comment_groups=comment_groups(report.summary.comments, report.consulted),
        respondent_kinds=", ".join(_(KIND_NAMES[kind]) for kind in report.respondent_kinds),
        area_maps=await area_maps(session, report.summary, report.consulted.areas),
        document_title=_("Consultation report: %(title)s", title=shown.title.text),
        pdf=pdf,
    )


def decision_context(
    template: s.DecisionTemplate, *, pdf: bool = False, language: str = i18n.DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """The decision template in `language` (set it first with `document_language`)."""
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
    shown = texts.for_residents(template.content, language)
    goal_statements = {goal.id: texts.goal_statement(goal, language) for goal in template.goals}
    return page_context(
        decision=template,
        content=template.content,
        texts=shown,
        goal_statements=goal_statements,
        fallback_language=shared_translations.fallback_language(
            [*shown.all(), *goal_statements.values()]
        ),
        document_language=language,
        document_languages=i18n.LANGUAGES,
        lang_query="" if language == i18n.DEFAULT_LANGUAGE else f"?lang={language}",
        chart=chart,
        survey_percent=survey_pages.percent,
        document_title=_("Decision template: %(title)s", title=shown.title.text),
        pdf=pdf,
    )


async def pdf_response(
    app: Litestar,
    template_name: str,
    context: dict[str, Any],
    filename: str,
    language: str | None = None,
) -> Response[bytes]:
    """The document rendered from `template_name` as a PDF attachment."""
    html = app.template_engine.get_template(template_name).render(**context)  # type: ignore[union-attr]
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
    if language:
        headers["Content-Language"] = language
    return Response(await render_pdf(html), media_type=PDF_MEDIA_TYPE, headers=headers)


def report_filename(report: s.ConsultationReport) -> str:
    return f"consultation-report-{report.measure_id}-v{report.consulted.version}.pdf"


def decision_filename(template: s.DecisionTemplate, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    suffix = "" if language == i18n.DEFAULT_LANGUAGE else f"-{language}"
    return f"decision-template-{template.measure_id}-v{template.content.version}{suffix}.pdf"
