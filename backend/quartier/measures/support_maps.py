"""The support maps of a consultation: one choropleth per anonymous kind of respondent over the
social areas the consulted version covers, built from the disclosure-controlled summary with
`areas.maps`. The consultation report (HTML and PDF, `measures.documents`) and the feedback
summary page (`measures.pages`) show the same maps from here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import maps
from quartier.core.i18n import gettext as _
from quartier.measures import feedback, summary_exports
from quartier.measures import schemas as s
from quartier.processes.phases import N_
from quartier.surveys import pages as survey_pages

# Classes of the support maps: fixed fifths of the share, so maps of two kinds read alike.
SUPPORT_BREAKS = (0.2, 0.4, 0.6, 0.8, 1.0)
MAP_TITLES = {
    "resident": N_("Residents: support per social area"),
    "professional": N_("Professionals: support per social area"),
}


async def area_maps(
    session: AsyncSession, summary: s.FeedbackSummary, areas: list[s.AreaRef]
) -> list[maps.Choropleth]:
    """One choropleth per anonymous kind over the social areas the consulted version covers:
    the share in support of each area's group (kind × area) of the summary. Every figure is
    the summary's own (disclosure-controlled); a withheld group is drawn hatched, never 0.
    Responses that named another area or none are in the tables, not on the maps."""
    if not areas:
        return []
    groups = {group.key: group for group in summary.groups}
    figures: list[maps.Choropleth] = []
    for kind in feedback.ANONYMOUS_KINDS:
        values = []
        for area in areas:
            group = groups.get(f"{kind.value}/{area.code}")
            share = summary_exports.support_share(group) if group is not None else None
            values.append(
                maps.MapValue(
                    area_id=area.id,
                    code=area.code,
                    name=area.name,
                    value=share,
                    text=None
                    if share is None or group is None
                    else _(
                        "%(share)s of %(count)s responses",
                        share=survey_pages.percent(share),
                        count=group.respondents,
                    ),
                    protected=group is None or group.withheld,
                )
            )
        figures.append(
            await maps.choropleth(
                session,
                values,
                title=_(MAP_TITLES[kind.value]),
                description=_(
                    "Map of the social areas of the measure coloured by the share of "
                    "anonymous responses in support; areas with too few responses are "
                    "hatched (protected). The table below the map has the figures."
                ),
                value_heading=_("Support"),
                map_id=f"support-map-{kind.value}",
                breaks=SUPPORT_BREAKS,
                lowest=0.0,
                format_break=survey_pages.percent,
            )
        )
    return figures
