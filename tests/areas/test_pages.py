"""The server-rendered area pages on the Berlin data: content, accessibility basics, CSP."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.slow

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}


def _no_inline_script_or_style(page: str) -> None:
    assert " style=" not in page
    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)


async def test_the_index_lists_the_districts(berlin_client: Client) -> None:
    response = await berlin_client.get("/areas", headers={**HTML, "Accept-Language": "de"})
    assert response.status_code == 200
    page = response.text
    assert "<h1>Sozialräume</h1>" in page
    assert page.count('href="/areas/') >= 12
    assert '<a href="/areas/01">Mitte</a>' in page
    assert "Bezirk → Prognoseraum → Bezirksregion → Planungsraum" in page
    _no_inline_script_or_style(page)


async def test_an_area_page_shows_breadcrumb_population_sub_areas_and_outline(
    berlin_client: Client,
) -> None:
    response = await berlin_client.get("/areas/010113", headers={**HTML, "Accept-Language": "en"})
    assert response.status_code == 200
    page = response.text
    assert "<h1>Alexanderplatz</h1>" in page
    breadcrumb = page[
        page.index('class="breadcrumbs"') : page.index("</nav>", page.index('class="breadcrumbs"'))
    ]
    assert [m for m in re.findall(r'href="(/areas[^"]*)"', breadcrumb)] == [
        "/areas",
        "/areas/01",
        "/areas/0101",
    ]
    assert 'aria-current="page">Alexanderplatz<' in breadcrumb
    assert "Inhabitants by age" in page
    assert '<th scope="row">6 to under 15</th>' in page
    assert "of whom women" in page
    assert "Sub-areas" in page and 'href="/areas/01011301"' in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert re.search(r'<path d="M[\d. LMZ]+"', svg)
    _no_inline_script_or_style(page)


async def test_only_areas_with_sub_areas_list_them(berlin_client: Client) -> None:
    german = {**HTML, "Accept-Language": "de"}
    district = await berlin_client.get("/areas/01", headers=german)
    assert "<h2>Teilgebiete (Prognoseraum)</h2>" in district.text
    assert "davon Frauen" in district.text
    planning_area = await berlin_client.get("/areas/01011301", headers=german)
    assert planning_area.status_code == 200
    assert "Teilgebiete" not in planning_area.text


async def test_an_unknown_area_is_a_404_page(berlin_client: Client) -> None:
    response = await berlin_client.get("/areas/nowhere", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
