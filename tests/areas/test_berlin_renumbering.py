"""A re-import of Berlin in which one planning area is renumbered (01011101 Stülerstraße becomes
01011199 with the same boundary) as of 2024-01-01: the old area is retired with its successor,
its history stays readable, and population is counted once — on a date before the change and
today. The same re-import renames 01011102 (Großer Tiergarten → Tiergarten-Süd, a made-up
rename): the old name stays the name before the date. The module's copy of the Berlin database
is changed once, by the `renumbered` fixture; the tests only read."""

from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.areas import importer, services
from quartier.areas.schemas import FeatureCollectionIn, ImportReport
from quartier.db import session_scope

from .conftest import T2, berlin_levels

pytestmark = pytest.mark.slow

API = "/api/v1/social-areas"
OLD, NEW = "01011101", "01011199"
RENAMED, OLD_NAME, NEW_NAME = "01011102", "Großer Tiergarten", "Tiergarten-Süd"
CHANGE = "2024-01-01"
BEFORE = "2023-06-30"
BERLIN_TOTAL = 3_769_962 - 10_786  # the t2 table's inhabitants of areas we have
Client = AsyncTestClient[Litestar]


def _renumbered_levels(data: Path) -> list[importer.LevelSource]:
    levels = berlin_levels(data)
    planning = levels[-1]
    document = json.loads((data / "planning-areas.geojson").read_bytes())
    for feature in document["features"]:
        if feature["properties"]["id"] == OLD:
            feature["properties"]["id"] = NEW
        elif feature["properties"]["id"] == RENAMED:
            feature["properties"]["name"] = NEW_NAME
    levels[-1] = replace(planning, collection=msgspec.convert(document, FeatureCollectionIn))
    return levels


def _renumbered_population(data: Path) -> list[importer.PopulationSource]:
    source = importer.population_from_file(data / T2)
    lines = source.text.splitlines(keepends=True)
    renamed = [NEW + line[len(OLD) :] if line.startswith(OLD + ",") else line for line in lines]
    assert renamed != lines
    return [replace(source, text="".join(renamed))]


@pytest.fixture(scope="module")
async def renumbered(berlin_engine: AsyncEngine, berlin_data: Path) -> ImportReport:
    async with session_scope(berlin_engine) as session:
        return await services.import_areas(
            session,
            _renumbered_levels(berlin_data),
            _renumbered_population(berlin_data),
            validity=services.Validity(
                valid_from=datetime.date.fromisoformat(CHANGE), successors={OLD: [NEW]}
            ),
        )


async def test_the_report_says_one_area_created_and_one_retired(
    renumbered: ImportReport,
) -> None:
    assert renumbered.ok
    planning = renumbered.levels[-1]
    assert (planning.created, planning.retired, planning.updated) == (1, 1, 1)
    assert [(c.code, c.field, c.before, c.after) for c in renumbered.changes] == [
        (RENAMED, "name", OLD_NAME, NEW_NAME)
    ]
    assert [lv.retired for lv in renumbered.levels[:-1]] == [0, 0, 0]
    retired = [row for row in renumbered.rows if row.code == OLD]
    assert [row.message for row in retired] == [
        f"not in this import; retired as of {CHANGE} (successors: {NEW})"
    ]


async def test_the_old_area_is_readable_with_its_validity_and_successor(
    renumbered: ImportReport, berlin_client: Client
) -> None:
    old = (await berlin_client.get(f"{API}/by-code/{OLD}")).json()
    new = (await berlin_client.get(f"{API}/by-code/{NEW}")).json()
    assert (old["name"], old["valid_from"], old["valid_to"]) == ("Stülerstraße", None, CHANGE)
    assert (old["successors"], new["predecessors"]) == ([NEW], [OLD])
    assert (new["valid_from"], new["valid_to"], new["parent_code"]) == (CHANGE, None, "010111")
    assert old["population"]["total"] == new["population"]["total"] > 0
    then = await berlin_client.get(f"{API}/by-code/{OLD}", params={"at": BEFORE})
    assert then.status_code == 200
    assert (
        await berlin_client.get(f"{API}/by-code/{OLD}", params={"at": CHANGE})
    ).status_code == 404


@pytest.mark.parametrize("at", [BEFORE, None])
async def test_population_is_counted_once_at_district_and_city_level(
    renumbered: ImportReport, berlin_client: Client, at: str | None
) -> None:
    params = {"level": "district"} | ({"at": at} if at else {})
    response = await berlin_client.get(f"{API}/geojson", params=params)
    districts = json.loads(response.content)["features"]
    assert len(districts) == 12
    assert sum(f["properties"]["population"]["total"] for f in districts) == BERLIN_TOTAL
    planning = (
        await berlin_client.get(
            f"{API}/geojson", params={"level": "planning_area"} | ({"at": at} if at else {})
        )
    ).json()["features"]
    codes = {f["id"] for f in planning}
    assert len(planning) == 447
    assert (OLD in codes, NEW in codes) == ((True, False) if at else (False, True))
    mitte = (await berlin_client.get(f"{API}/by-code/01", params={"at": at} if at else {})).json()
    region = (
        await berlin_client.get(f"{API}/by-code/010111", params={"at": at} if at else {})
    ).json()
    listed = (
        await berlin_client.get(API, params={"parent": "010111"} | ({"at": at} if at else {}))
    ).json()["items"]
    assert [a["code"] for a in listed] == (
        [OLD, "01011102", "01011103", "01011104", "01011105"]
        if at
        else ["01011102", "01011103", "01011104", "01011105", NEW]
    )
    assert sum(a["population"]["total"] for a in listed) == region["population"]["total"]
    assert mitte["population"]["total"] > region["population"]["total"]


async def test_area_counts_of_the_levels_are_unchanged(
    renumbered: ImportReport, berlin_client: Client
) -> None:
    response = await berlin_client.get("/api/v1/area-levels")
    assert [lv["area_count"] for lv in response.json()["items"]] == [12, 60, 138, 447]


async def test_a_point_lies_in_only_the_valid_planning_area(
    renumbered: ImportReport, berlin_client: Client
) -> None:
    old = (await berlin_client.get(f"{API}/by-code/{OLD}", params={"include": "boundary"})).json()
    inside = shape(old["boundary"]).representative_point()
    point = {"lat": inside.y, "lon": inside.x}
    today = (await berlin_client.get(f"{API}/lookup", params=point)).json()["items"]
    assert [a["code"] for a in today] == ["01", "0101", "010111", NEW]
    then = (await berlin_client.get(f"{API}/lookup", params={**point, "at": BEFORE})).json()
    assert [a["code"] for a in then["items"]] == ["01", "0101", "010111", OLD]


async def test_the_renamed_area_keeps_its_old_name_before_the_date(
    renumbered: ImportReport, berlin_client: Client
) -> None:
    now = (await berlin_client.get(f"{API}/by-code/{RENAMED}")).json()
    then = (await berlin_client.get(f"{API}/by-code/{RENAMED}", params={"at": BEFORE})).json()
    assert (then["name"], now["name"]) == (OLD_NAME, NEW_NAME)
    assert then["population"]["total"] == now["population"]["total"] > 0
    versions = (await berlin_client.get(f"{API}/{now['id']}/versions")).json()["items"]
    assert [(v["valid_to"], v["name"], v["parent_code"]) for v in versions] == [
        (CHANGE, OLD_NAME, "010111"),
        (None, NEW_NAME, "010111"),
    ]
    found = (await berlin_client.get(API, params={"q": "Tiergarten-Süd", "at": BEFORE})).json()
    assert found["items"] == []
