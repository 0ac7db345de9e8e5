"""The social report as a printable document: one Jinja template (`reports/report.html`) for
the HTML page and the PDF, and the presentation it needs — the bar chart of needs over the
whole scope, maps of the most expressed needs per area (the shared choropleth component), and
which columns the tables show. Every figure comes from the report as assembled or released; the
charts and maps only draw it.

The document is in the reader's language (the request's, negotiated as for every page: `lang`,
the language cookie, `Accept-Language`): the interface texts from the catalogues, the staff-written
texts — the report's title and topic (the process's), its mandate, the editorial sections, the
goals' statements and the measures' titles — in their translations where there are some (as the
report carries them: assembled now, or as released), else German, marked (`lang="de"`) and
counted in the one note that says so. The PDF is the same rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import maps
from quartier.core import i18n, translations
from quartier.core.i18n import gettext as _
from quartier.measures import texts as measure_texts
from quartier.processes import translations as process_texts
from quartier.reports import schemas as s
from quartier.surveys import aggregation
from quartier.surveys import schemas as survey_schemas
from quartier.surveys.pages import BarChart, bar_chart, percent

TEMPLATE = "reports/report.html"
MAPS = 3  # maps of the most expressed needs
TABLE_NEEDS = 6  # need columns in the table per area
TABLE_INDICATORS = 6
MAX_MAP_AREAS = 500

AnyRequest = Request[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class AreaRow:
    code: str
    name: str
    respondents: str
    shares: list[str]
    protected: bool


def number(value: float | None, decimals: int = 0, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if i18n.current_language().startswith("de"):
        text = text.replace(",", "\u2009").replace(".", ",")
    return f"{text}\u202f{unit}" if unit else text


def _top_categories(needs: s.ReportNeeds, count: int) -> list[aggregation.CategoryRef]:
    share = {figure.category: figure.share or 0.0 for figure in needs.totals}
    ranked = sorted(needs.categories, key=lambda c: share.get(c.key, 0.0), reverse=True)
    return ranked[:count]


def needs_chart(needs: s.ReportNeeds) -> BarChart:
    labels = {category.key: category.label for category in needs.categories}
    options = [
        survey_schemas.OptionResult(
            key=figure.category,
            label=labels.get(figure.category, figure.category),
            count=figure.expressing,
            share=figure.share,
            suppressed=figure.suppressed or figure.share is None,
        )
        for figure in needs.totals
    ]
    return bar_chart(
        "needs-chart",
        _("Needs expressed in the surveys, over all social areas"),
        options,
        needs.respondents,
        needs.k_threshold,
    )


async def needs_maps(session: AsyncSession, needs: s.ReportNeeds) -> list[maps.Choropleth]:
    if not needs.areas or len(needs.areas) > MAX_MAP_AREAS:
        return []
    figures: list[maps.Choropleth] = []
    for index, category in enumerate(_top_categories(needs, MAPS)):
        values = []
        for area in needs.areas:
            figure = next((f for f in area.needs if f.category == category.key), None)
            shown = figure is not None and figure.share is not None and not area.withheld
            values.append(
                maps.MapValue(
                    area_id=area.id,
                    code=area.code,
                    name=area.name,
                    value=figure.share if shown and figure else None,
                    text=percent(figure.share) if shown and figure else None,
                    protected=area.withheld,
                )
            )
        figures.append(
            await maps.choropleth(
                session,
                values,
                title=_("Expressed need “%(need)s” per social area", need=category.label),
                description=_(
                    "Map of the social areas coloured by the share of respondents who "
                    "expressed the need; protected areas are hatched. The table of needs per "
                    "area has the figures."
                ),
                value_heading=_("Share"),
                map_id=f"report-map-{index + 1}",
                format_break=percent,
            )
        )
    return figures


def area_rows(needs: s.ReportNeeds, categories: list[aggregation.CategoryRef]) -> list[AreaRow]:
    rows: list[AreaRow] = []
    for area in needs.areas:
        by_key = {figure.category: figure for figure in area.needs}
        rows.append(
            AreaRow(
                code=area.code,
                name=area.name,
                respondents=number(area.respondents) if area.respondents is not None else "",
                shares=[
                    percent(found.share) if (found := by_key.get(c.key)) else "–"
                    for c in categories
                ],
                protected=area.withheld,
            )
        )
    return rows


async def context(
    session: AsyncSession, report: s.SocialReport, *, editable: bool = False
) -> dict[str, Any]:
    """What `reports/report.html` needs besides `request`."""
    needs = report.needs if report.needs and not report.needs.unavailable else None
    table_needs = _top_categories(needs, TABLE_NEEDS) if needs else []
    indicators = [item for item in report.indicators if item.values][:TABLE_INDICATORS]
    indicator_values = {
        item.key: {value.code: number(value.value, item.decimals) for value in item.values}
        for item in indicators
    }
    need_labels = {category.key: category.label for category in needs.categories} if needs else {}
    goal_statements = {goal.id: measure_texts.goal_statement(goal) for goal in report.goals}
    sections = editorial_sections(report)
    title = translations.show(report.title, report.title_translations, "title")
    topic = translations.show(report.topic, report.title_translations, "topic")
    measure_titles = {
        measure.id: translations.show(measure.title, measure.translations, "title")
        for measure in report.measures
    }
    mandate = process_texts.mandate_for_residents(report.mandate)
    return {
        "report": report,
        "needs": needs,
        "chart": needs_chart(needs) if needs and needs.totals else None,
        "needs_maps": await needs_maps(session, needs) if needs else [],
        "table_needs": table_needs,
        "area_rows": area_rows(needs, table_needs) if needs else [],
        "need_labels": need_labels,
        "table_indicators": indicators,
        "indicator_values": indicator_values,
        "indicator_areas": _indicator_areas(indicators),
        "percent": percent,
        "number": number,
        "title": title,
        "topic": topic,
        "mandate": mandate,
        "goal_statements": goal_statements,
        "measure_titles": measure_titles,
        "sections": sections,
        "fallback_language": translations.fallback_language(
            [
                title,
                topic,
                *mandate.values(),
                *sections.values(),
                *goal_statements.values(),
                *measure_titles.values(),
            ]
        ),
        "editable": editable,
        "pdf_href": f"/api/v1/processes/{report.process_id}/social-report/pdf{_lang_query()}",
    }


def editorial_sections(
    report: s.SocialReport, language: str | None = None
) -> dict[str, i18n.Shown]:
    """The editorial sections as a reader of `language` (default: the request's) sees them:
    each in that language where translated, else in German, marked as a fallback; empty
    sections are left out."""
    return {
        key: shown
        for key in s.SECTION_KEYS
        if (
            shown := translations.show(
                getattr(report.sections, key), report.translations, key, language
            )
        ).text
    }


def _lang_query() -> str:
    """The PDF link keeps the page's language (the PDF answers in the request's language)."""
    language = i18n.current_language()
    return "" if language == i18n.DEFAULT_LANGUAGE else f"?lang={language}"


def _indicator_areas(indicators: list[s.ReportIndicator]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for item in indicators:
        for value in item.values:
            seen.setdefault(value.code, value.name)
    return sorted(seen.items())


def filename(report: s.SocialReport) -> str:
    return f"social-report-{report.process_id}-cycle-{report.cycle}.pdf"
