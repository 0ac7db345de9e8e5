"""The indicator pages on Berlin with the shipped demo shares: list, map with table per level,
a finer level inside one district, refusals, and the 30 KB budget of a resident page."""

from __future__ import annotations

import gzip
import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.db import session_scope
from quartier.indicators import demo

pytestmark = pytest.mark.slow

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}
PAGE_BUDGET = 30 * 1024


@pytest.fixture(scope="module")
async def client(berlin_engine: AsyncEngine, berlin_client: Client) -> Client:
    """This module's Berlin copy with the demo indicators imported once."""
    async with session_scope(berlin_engine) as session:
        await demo.load(session)
    return berlin_client


async def compressed(client: Client, path: str) -> int:
    response = await client.get(path, headers={**HTML, "Accept-Encoding": "gzip"})
    assert response.status_code == 200, path
    if response.headers.get("content-encoding") == "gzip":
        return int(response.headers.get("content-length") or len(gzip.compress(response.content)))
    return len(gzip.compress(response.content, 6))


async def test_the_list_names_both_berlin_indicators(client: Client) -> None:
    response = await client.get("/indicators", headers={**HTML, "Accept-Language": "en"})
    assert response.status_code == 200
    assert '<a href="/indicators/share_under_18">Share of residents under 18</a>' in response.text
    assert '<a href="/indicators/share_65_plus">' in response.text


async def test_an_indicator_is_mapped_at_the_finest_level_that_fits(client: Client) -> None:
    response = await client.get(
        "/indicators/share_65_plus", headers={**HTML, "Accept-Language": "de"}
    )
    assert response.status_code == 200
    page = response.text
    assert "<h1>Anteil der Einwohner ab 65 Jahren</h1>" in page
    assert '<option value="district_region" selected>' in page
    svg = page[
        page.index('class="map__svg"') : page.index("</svg>", page.index('class="map__svg"'))
    ]
    assert svg.count("<a href=") == 138
    assert re.search(r"<title>[^<]+: \d+,\d\u202f%</title>", svg)
    table = page[page.index('id="indicator-map-table"') :]
    assert table.count('<th scope="row">') == 138
    assert " style=" not in page and "<style" not in page


async def test_a_finer_level_is_drawn_inside_one_district(client: Client) -> None:
    path = "/indicators/share_under_18"
    choose = await client.get(path, params={"level": "planning_area"}, headers=HTML)
    assert choose.status_code == 200
    assert "indicator-map" not in choose.text
    assert 'href="/indicators/share_under_18?level=planning_area&amp;within=01"' in choose.text
    mitte = await client.get(path, params={"level": "planning_area", "within": "01"}, headers=HTML)
    svg = mitte.text[mitte.text.index('class="map__svg"') :]
    links = re.findall(r'<a href="/areas/(\d+)">', svg[: svg.index("</svg>")])
    assert links and all(code.startswith("01") and len(code) == 8 for code in links)
    unknown = await client.get(path, params={"level": "nope"}, headers=HTML)
    assert unknown.status_code == 400 and '<a href="#level">' in unknown.text


async def test_indicator_pages_stay_within_30_kb_compressed_with_their_assets(
    client: Client,
) -> None:
    page = await client.get("/indicators/share_under_18", headers=HTML)
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page.text))
    asset_bytes = sum([await compressed(client, asset) for asset in sorted(assets)])
    for path in (
        "/indicators",
        "/indicators/share_under_18",
        "/indicators/share_under_18?level=planning_area&within=12",
        "/indicators/share_65_plus?level=district",
    ):
        total = await compressed(client, path) + asset_bytes
        print(f"{path}: {total} bytes with assets")
        assert total < PAGE_BUDGET, (path, total)
