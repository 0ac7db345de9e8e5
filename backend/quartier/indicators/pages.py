"""HTML pages of the indicators, for residents and planners alike: the list, and one indicator
on the map of a level (with its table), optionally inside one area. They call the same services
as the API.

A map on these pages draws at most MAX_MAP_AREAS areas (resident pages stay within 30 KB
compressed): a finer level is shown inside one area chosen from the top level."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import maps
from quartier.areas import services as areas
from quartier.areas.models import SocialArea
from quartier.core import i18n
from quartier.core.errors import Problem
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, access
from quartier.indicators import comparison, services
from quartier.indicators import schemas as s
from quartier.indicators.models import NOTE_MAX

MAX_MAP_AREAS = 150


def format_value(indicator: s.IndicatorOut, value: float | None) -> str:
    """The value with the indicator's decimals and unit, in the page's language."""
    if value is None:
        return "–"
    text = f"{value:,.{indicator.decimals}f}"
    if i18n.current_language().startswith("de"):
        text = text.replace(",", "\u2009").replace(".", ",")
    return f"{text}\u202f{indicator.unit}" if indicator.unit else text


def direction_text(direction: str) -> str:
    return {
        "higher_is_better": _("A higher value is better."),
        "higher_is_worse": _("A higher value is worse."),
    }.get(direction, _("A higher value is neither better nor worse."))


@get("/indicators", name="indicators:index", include_in_schema=False, **access(public=True))
async def indicators_index(db_session: AsyncSession) -> Template:
    indicators = [
        await services.present(db_session, row) for row in await services.all_indicators(db_session)
    ]
    return Template(template_name="indicators/index.html", context={"indicators": indicators})


LevelKey = Annotated[str | None, QueryParameter(max_length=40)]
WithinCode = Annotated[str | None, QueryParameter(max_length=32)]


@get(
    "/indicators/{key:str}",
    name="indicators:indicator",
    include_in_schema=False,
    **access(public=True),
)
async def indicator_page(
    db_session: AsyncSession,
    key: str,
    level: LevelKey = None,
    within: WithinCode = None,
    date: Annotated[datetime.date | None, QueryParameter()] = None,
) -> Template:
    indicator = await services.get_indicator(db_session, key[:64])
    levels = (await areas.list_levels(db_session)).items
    tops = await areas.top_level_areas(db_session)
    errors: dict[str, str] = {}
    keys = [item.key for item in levels]
    if level is not None and level not in keys:
        errors["level"] = _("Choose a level from the list.")
        level = None
    if within is not None and within not in {area.code for area in tops}:
        errors["within"] = _("Choose an area from the list.")
        within = None
    if date is not None and date not in indicator.reference_dates:
        errors["date"] = _("Choose a reference date from the list.")
        date = None
    if level is None:
        # The finest level whose areas fit on one map.
        fitting = [item for item in levels if item.area_count <= MAX_MAP_AREAS]
        level = (fitting[-1] if fitting else levels[0]).key if levels else None
    chosen = next((item for item in levels if item.key == level), None)
    values: s.LevelValues | None = None
    figure: maps.Choropleth | None = None
    refused: str | None = None
    needs_within = (
        chosen is not None
        and within is None
        and chosen.area_count > MAX_MAP_AREAS
        and chosen.depth > 0
    )
    if chosen is not None and not needs_within:
        try:
            values = await services.level_values(db_session, key, chosen.key, date, within=within)
        except Problem as problem:
            refused = problem.detail
    if values is not None:
        map_values = [
            maps.MapValue(
                area_id=item.area_id,
                code=item.code,
                name=item.name,
                value=item.value,
                text=(
                    format_value(indicator, item.value)
                    + ("" if item.complete else " " + _("(not all sub-areas)"))
                    if item.value is not None
                    else None
                ),
                href=f"/areas/{item.code}",
            )
            for item in values.items
        ]
        figure = await maps.choropleth(
            db_session,
            map_values,
            title=f"{indicator.name} – {chosen.name if chosen else ''}",
            description=_(
                "Map of the social areas coloured by the indicator's value, darker for higher "
                "values; the same figures are in the table below the map."
            ),
            value_heading=f"{indicator.name} ({indicator.unit})",
            map_id="indicator-map",
            format_break=lambda v: format_value(indicator, v),
        )
    area_count = await db_session.scalar(select(func.count(SocialArea.id)))
    return Template(
        template_name="indicators/indicator.html",
        context={
            "indicator": indicator,
            "direction": direction_text(indicator.direction),
            "levels": [(item.key, item.name) for item in levels],
            "level": level,
            "within_options": [("", _("All areas"))] + [(a.code, a.name) for a in tops],
            "within": within or "",
            "dates": [(d.isoformat(), d.isoformat()) for d in reversed(indicator.reference_dates)],
            "date": (values.reference_date.isoformat() if values and values.reference_date else ""),
            "needs_within": needs_within,
            "tops": tops,
            "figure": figure,
            "refused": refused,
            "errors": errors,
            "has_areas": bool(area_count),
        },
        status_code=400 if errors else 200,
    )


# -- planners: expressed vs measured need ---------------------------------------------------------


def _percent(share: float | None) -> str:
    if share is None:
        return "–"
    text = f"{share * 100:.1f}"
    if i18n.current_language().startswith("de"):
        return text.replace(".", ",") + "\u202f%"
    return text + "%"


ComparisonLevel = Annotated[str, QueryParameter(min_length=1, max_length=40)]


async def _comparison_context(
    db_session: AsyncSession, process_id: UUID, need: str, level: str | None
) -> dict[str, Any]:
    levels = (await areas.list_levels(db_session)).items
    errors: dict[str, str] = {}
    if level is not None and level not in {item.key for item in levels}:
        errors["level"] = _("Choose a level from the list.")
        level = None
    if level is None:
        fitting = [item for item in levels if item.area_count <= MAX_MAP_AREAS]
        level = (fitting[-1] if fitting else levels[0]).key if levels else "district"
    found = await comparison.compare(db_session, process_id, need[:64], level)
    values = [
        maps.MapValue(
            area_id=area.area_id,
            code=area.code,
            name=area.name,
            value=None
            if area.expressed is None or area.expressed.suppressed
            else area.expressed.share,
            text=_percent(area.expressed.share) if area.expressed else None,
            protected=area.expressed is None or area.expressed.share is None,
            href=f"/areas/{area.code}",
        )
        for area in found.areas
    ]
    figure = await maps.choropleth(
        db_session,
        values,
        title=_("Expressed need “%(need)s” per social area", need=found.need_category.label),
        description=_(
            "Map of the social areas coloured by the share of respondents who expressed the "
            "need; protected areas are hatched. The table below has the same figures beside "
            "the measured indicators."
        ),
        value_heading=_("Share"),
        map_id="comparison-map",
        format_break=_percent,
    )
    return {
        "comparison": found,
        "figure": figure,
        "levels": [(item.key, item.name) for item in levels],
        "level": level,
        "percent": _percent,
        "format_value": format_value,
        "errors": errors,
        "process_id": process_id,
        "need": need,
        "area_options": [(area.code, area.name) for area in found.areas],
        "note": "",
    }


@get(
    "/dashboard/processes/{process_id:uuid}/needs/{need:str}",
    name="indicators:comparison",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def comparison_page(
    db_session: AsyncSession, process_id: UUID, need: str, level: LevelKey = None
) -> Template:
    context = await _comparison_context(db_session, process_id, need, level)
    return Template(
        template_name="indicators/comparison.html",
        context=context,
        status_code=400 if context["errors"] else 200,
    )


@post(
    "/dashboard/processes/{process_id:uuid}/needs/{need:str}/gaps",
    name="indicators:gap",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def gap_form(
    request: Request[Any, Any, Any], db_session: AsyncSession, process_id: UUID, need: str
) -> Redirect | Template:
    """Mark (with a note) or unmark an area as a gap; the same services as the API."""
    form = await request.form()
    code = str(form.get("area") or "")[:32]
    note = str(form.get("note") or "").strip()[:NOTE_MAX]
    level = str(form.get("level") or "")[:40] or None
    if form.get("action") == "unmark" and code:
        await comparison.unmark_gap(db_session, process_id, need[:64], code)
    else:
        errors: dict[str, str] = {}
        if not code:
            errors["area"] = _("Choose an area.")
        if not note:
            errors["note"] = _("Say why the area has a gap.")
        if errors:
            context = await _comparison_context(db_session, process_id, need, level)
            context["errors"] = errors
            context["note"] = note
            return Template(
                template_name="indicators/comparison.html", context=context, status_code=400
            )
        await comparison.mark_gap(db_session, process_id, need[:64], code, note)
    query = f"?level={level}" if level else ""
    return Redirect(f"/dashboard/processes/{process_id}/needs/{need}{query}#gaps", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    indicators_index,
    indicator_page,
    comparison_page,
    gap_form,
]
