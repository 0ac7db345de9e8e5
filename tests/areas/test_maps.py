"""The choropleth map component (areas.maps, macros/map.html) on Berlin's real boundaries:
projection, simplification per zoom, classes, protected areas, cache, and the weight it adds."""

from __future__ import annotations

import gzip
import re

import pytest
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import maps
from quartier.areas.models import AreaLevel, SocialArea
from quartier.core import i18n
from quartier.core.templating import configure_template_engine

pytestmark = pytest.mark.slow


class _Engine:
    def __init__(self) -> None:
        self.engine = Environment(loader=FileSystemLoader([i18n.LOCALES_DIR.parent / "templates"]))


def render(figure: maps.Choropleth, table: bool = True) -> str:
    engine = _Engine()
    configure_template_engine(engine)
    token = i18n.set_language("en")
    try:
        template = engine.engine.from_string(
            '{% from "macros/map.html" import choropleth %}{{ choropleth(figure, table=table) }}'
        )
        return template.render(figure=figure, table=table)
    finally:
        i18n._current.reset(token)


async def level_areas(session: AsyncSession, key: str, prefix: str = "") -> list[SocialArea]:
    return list(
        (
            await session.execute(
                select(SocialArea)
                .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
                .where(AreaLevel.key == key, SocialArea.code.startswith(prefix))
                .order_by(SocialArea.code)
            )
        ).scalars()
    )


def values_for(areas: list[SocialArea]) -> list[maps.MapValue]:
    """Shares rising with the position; every seventh protected, every eleventh without data."""
    found = []
    for index, area in enumerate(areas):
        protected = index % 7 == 3
        missing = index % 11 == 5 and not protected
        value = None if protected or missing else round(index / len(areas), 3)
        found.append(
            maps.MapValue(
                area_id=area.id,
                code=area.code,
                name=area.name,
                value=value,
                text=None if value is None else f"{value * 100:.1f} %",
                protected=protected,
                href=f"/areas/{area.code}",
            )
        )
    return found


async def figure_of(session: AsyncSession, areas: list[SocialArea]) -> maps.Choropleth:
    """The figure as built for an English page (its labels are translated when built)."""
    token = i18n.set_language("en")
    try:
        return await maps.choropleth(
            session,
            values_for(areas),
            title="Share per planning area",
            description="A test map.",
            value_heading="Share",
        )
    finally:
        i18n._current.reset(token)


async def test_berlin_planning_areas_are_drawn_projected_classed_and_linked(
    berlin_session: AsyncSession,
) -> None:
    maps.clear_cache()
    areas = await level_areas(berlin_session, "planning_area")
    assert len(areas) > 400
    figure = await figure_of(berlin_session, areas)
    assert len(figure.shapes) == len([a for a in areas if a.boundary])
    assert len(figure.rows) == len(areas)
    # Projected (equal-area, metres), not raw lon/lat: Berlin is about 45 km wide and 38 km
    # from north to south; in degrees its box would be twice as wide as high.
    _x, _y, width, height = (int(v) for v in figure.view_box.split())
    assert 0.75 < height / width < 0.95
    # The whole city at 600 px: about 75 m per pixel, so the coarse end of the zoom ladder.
    assert figure.tolerance_m == 113.1
    # Five classes from light to dark, protected and missing in the legend.
    legend = [entry.css_class for entry in figure.legend]
    assert legend == [
        "map-c0",
        "map-c1",
        "map-c2",
        "map-c3",
        "map-c4",
        "map-protected",
        "map-missing",
    ]
    protected = {v.code for v in values_for(areas) if v.protected}
    for shape in figure.shapes:
        if shape.code in protected:
            assert shape.css_class == "map-protected"
            assert shape.label.endswith("protected (too few people)")
        assert re.fullmatch(r"(M-?\d+[ -]\d+l[-\d ]+z)+", shape.path), shape.path[:80]
    for row in figure.rows:
        if row.code in protected:
            assert row.state == "protected" and "0" not in row.text


async def test_a_smaller_extent_is_drawn_with_more_detail(berlin_session: AsyncSession) -> None:
    city = await figure_of(berlin_session, await level_areas(berlin_session, "planning_area"))
    mitte = await figure_of(
        berlin_session, await level_areas(berlin_session, "planning_area", "01")
    )
    assert mitte.tolerance_m < city.tolerance_m
    code = mitte.shapes[0].code
    detailed = next(s.path for s in mitte.shapes if s.code == code)
    coarse = next(s.path for s in city.shapes if s.code == code)
    assert detailed.count(" ") > coarse.count(" ")


async def test_the_rendered_map_has_titles_links_legend_and_a_table_within_budget(
    berlin_session: AsyncSession,
) -> None:
    areas = await level_areas(berlin_session, "planning_area")
    figure = await figure_of(berlin_session, areas)
    html = render(figure)
    svg = html[html.index("<svg") : html.index("</svg>", html.index('class="map__svg"'))]
    assert 'role="group"' in svg and '<title id="map-title">' in svg and "<desc" in svg
    first = areas[0]
    assert f'<a href="/areas/{first.code}"><title>{first.name}: ' in html
    assert 'fill="url(#map-hatch)"' in svg  # protected areas hatched
    assert "Skip the map and go to the table" in html
    table = html[html.index('<table class="table" id="map-table"') :]
    assert table.count("<tr>") == len(areas) + 1
    assert "protected (too few people)" in table and "no data" in table
    assert " style=" not in html and "<script" not in html
    sizes = {"city, planning areas, map and table": len(gzip.compress(html.encode(), 6))}
    sizes["city, planning areas, map only"] = len(gzip.compress(render(figure, False).encode(), 6))
    regions = await figure_of(berlin_session, await level_areas(berlin_session, "district_region"))
    sizes["city, district regions, map and table"] = len(gzip.compress(render(regions).encode(), 6))
    mitte = await figure_of(
        berlin_session, await level_areas(berlin_session, "planning_area", "01")
    )
    sizes["Mitte, planning areas, map and table"] = len(gzip.compress(render(mitte).encode(), 6))
    print(sizes)
    # The whole city's 447 planning areas are for staff pages; resident pages draw at most one
    # level of about 150 areas, or a finer level within one district (indicators.pages).
    assert sizes["city, planning areas, map only"] < 21 * 1024
    assert sizes["city, district regions, map and table"] < 13 * 1024
    assert sizes["Mitte, planning areas, map and table"] < 6 * 1024


async def test_the_cache_is_rebuilt_when_a_level_changes(berlin_session: AsyncSession) -> None:
    maps.clear_cache()
    districts = await level_areas(berlin_session, "district")
    first = await figure_of(berlin_session, districts)
    level_id = districts[0].level_id
    cached = maps._CACHE[level_id]
    again = await figure_of(berlin_session, districts)
    assert maps._CACHE[level_id] is cached and again.shapes == first.shapes
    await berlin_session.execute(
        update(SocialArea)
        .where(SocialArea.id == districts[0].id)
        .values(updated_at=text("updated_at + interval '1 second'"))
    )
    await figure_of(berlin_session, districts)
    assert maps._CACHE[level_id] is not cached
    await berlin_session.rollback()
    maps.clear_cache()


async def test_no_values_give_an_empty_map_that_says_so(berlin_session: AsyncSession) -> None:
    figure = await maps.choropleth(
        berlin_session, [], title="Nothing", description="-", value_heading="Share"
    )
    html = render(figure)
    assert "No areas to show." in html and "<svg" not in html


def test_equal_breaks_and_classes() -> None:
    assert maps.equal_breaks([]) == []
    assert maps.equal_breaks([0.5, 0.5]) == [0.5]
    assert maps.equal_breaks([0.0, 1.0]) == [0.5, 1.0]  # no more classes than distinct values
    breaks = maps.equal_breaks([0.0, 0.25, 0.5, 0.75, 1.0])
    assert breaks == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert maps._class_of(0.0, breaks) == 0 and maps._class_of(1.0, breaks) == 4
    assert [maps._palette_index(i, 2) for i in range(2)] == [0, 4]
