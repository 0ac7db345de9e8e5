"""The social-areas API on the full Berlin data: lookups, hierarchy, export, errors."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from quartier.core.errors import InvalidInput

pytestmark = pytest.mark.slow

API = "/api/v1"
ALEXANDERPLATZ = {"lat": 52.5219, "lon": 13.4132}
Client = AsyncTestClient[Litestar]


async def test_alexanderplatz_lies_in_mitte_on_all_four_levels(berlin_client: Client) -> None:
    response = await berlin_client.get(f"{API}/social-areas/lookup", params=ALEXANDERPLATZ)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(a["level"]["key"], a["code"][:2]) for a in items] == [
        ("district", "01"),
        ("forecast_area", "01"),
        ("district_region", "01"),
        ("planning_area", "01"),
    ]
    district, forecast, region, planning = items
    assert district["name"] == "Mitte"
    assert forecast["code"] == "0101" and forecast["name"] == "Zentrum"
    assert region["code"] == "010113" and region["name"] == "Alexanderplatz"
    assert planning["code"].startswith("010113")
    assert planning["parent_code"] == region["code"]
    assert district["population"]["total"] > planning["population"]["total"] > 0


async def test_a_point_outside_berlin_lies_in_no_area(berlin_client: Client) -> None:
    response = await berlin_client.get(
        f"{API}/social-areas/lookup", params={"lat": 48.1374, "lon": 11.5755}
    )
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_a_repeated_lookup_gives_the_same_answer_from_the_cache(
    berlin_client: Client,
) -> None:
    first = await berlin_client.get(f"{API}/social-areas/lookup", params=ALEXANDERPLATZ)
    second = await berlin_client.get(f"{API}/social-areas/lookup", params=ALEXANDERPLATZ)
    assert first.json() == second.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 91, "lon": 13.4}, "lat"),
        ({"lat": 52.5, "lon": -181}, "lon"),
        ({"lat": "north", "lon": 13.4}, "lat"),
        ({"lon": 13.4}, "lat"),
    ],
)
async def test_a_bad_coordinate_is_a_400_naming_it(
    berlin_client: Client, params: dict[str, object], field: str
) -> None:
    response = await berlin_client.get(f"{API}/social-areas/lookup", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]], response.text


async def test_get_by_code_and_by_id_agree(berlin_client: Client) -> None:
    by_code = await berlin_client.get(f"{API}/social-areas/by-code/010113")
    assert by_code.status_code == 200
    area = by_code.json()
    assert area["name"] == "Alexanderplatz"
    assert area["level"] == {"key": "district_region", "depth": 2, "name": "Bezirksregion"}
    assert area["boundary"] is None
    by_id = await berlin_client.get(
        f"{API}/social-areas/{area['id']}", params={"include": "boundary"}
    )
    assert by_id.status_code == 200
    with_boundary = by_id.json()
    assert with_boundary["boundary"]["type"] == "MultiPolygon"
    assert {**with_boundary, "boundary": None} == area


async def test_english_level_names_follow_accept_language(berlin_client: Client) -> None:
    response = await berlin_client.get(
        f"{API}/social-areas/by-code/01", headers={"Accept-Language": "en"}
    )
    assert response.json()["level"]["name"] == "District"
    assert response.headers["content-language"] == "en"


async def test_unknown_code_is_a_404_problem(berlin_client: Client) -> None:
    response = await berlin_client.get(f"{API}/social-areas/by-code/99")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/not-found"


async def test_unknown_id_is_a_404_problem(berlin_client: Client) -> None:
    missing = "01900000-0000-7000-8000-000000000000"
    for suffix in ("", "/children", "/ancestors"):
        response = await berlin_client.get(f"{API}/social-areas/{missing}{suffix}")
        assert response.status_code == 404, suffix


async def test_ancestors_run_from_the_district_down(berlin_client: Client) -> None:
    area = (await berlin_client.get(f"{API}/social-areas/by-code/01011101")).json()
    response = await berlin_client.get(f"{API}/social-areas/{area['id']}/ancestors")
    assert response.status_code == 200
    assert [a["code"] for a in response.json()["items"]] == ["01", "0101", "010111"]
    top = (await berlin_client.get(f"{API}/social-areas/by-code/01")).json()
    response = await berlin_client.get(f"{API}/social-areas/{top['id']}/ancestors")
    assert response.json()["items"] == []


async def test_children_are_paginated_by_code(berlin_client: Client) -> None:
    mitte = (await berlin_client.get(f"{API}/social-areas/by-code/01")).json()
    codes: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (
            await berlin_client.get(f"{API}/social-areas/{mitte['id']}/children", params=params)
        ).json()
        codes += [a["code"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert codes == ["0101", "0102", "0103", "0104"]
    children_total = 0
    for code in codes:
        child = (await berlin_client.get(f"{API}/social-areas/by-code/{code}")).json()
        children_total += child["population"]["total"]
    assert children_total == mitte["population"]["total"]


async def test_list_filters_by_level_and_parent(berlin_client: Client) -> None:
    response = await berlin_client.get(
        f"{API}/social-areas", params={"level": "planning_area", "limit": 200}
    )
    body = response.json()
    assert len(body["items"]) == 200 and body["next_cursor"]
    response = await berlin_client.get(f"{API}/social-areas", params={"parent": "0101"})
    assert [a["code"] for a in response.json()["items"]] == ["010111", "010112", "010113", "010114"]


async def test_name_search_is_case_and_umlaut_insensitive(berlin_client: Client) -> None:
    for query in ("köpenick", "KOEPENICK", "Kopenick"):
        response = await berlin_client.get(
            f"{API}/social-areas", params={"q": query, "level": "district"}
        )
        assert [a["name"] for a in response.json()["items"]] == ["Treptow-Köpenick"], query
    response = await berlin_client.get(f"{API}/social-areas", params={"q": "schlossstrasse"})
    assert "Schloßstraße" in [a["name"] for a in response.json()["items"]]
    response = await berlin_client.get(f"{API}/social-areas", params={"q": "100%_"})
    assert response.json()["items"] == []


async def test_unknown_level_filter_is_refused_naming_it(berlin_client: Client) -> None:
    response = await berlin_client.get(f"{API}/social-areas", params={"level": "county"})
    assert response.status_code == InvalidInput.status_code
    assert response.json()["errors"][0]["field"] == "level"


async def test_a_forged_cursor_is_refused(berlin_client: Client) -> None:
    # Outside the contract's cursor pattern: 400; well-formed but not ours ([1, 2]): 422.
    for cursor, status in (("not-base64!", 400), ("WzEsMl0", InvalidInput.status_code)):
        response = await berlin_client.get(f"{API}/social-areas", params={"cursor": cursor})
        assert response.status_code == status, cursor
        assert "cursor" in response.json()["errors"][0]["field"]


async def test_levels_are_listed_with_their_area_counts(berlin_client: Client) -> None:
    response = await berlin_client.get(f"{API}/area-levels", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert [(lv["key"], lv["name"], lv["area_count"]) for lv in response.json()["items"]] == [
        ("district", "District", 12),
        ("forecast_area", "Forecast area", 60),
        ("district_region", "District region", 138),
        ("planning_area", "Planning area", 447),
    ]


async def test_geojson_export_of_the_districts(berlin_client: Client) -> None:
    response = await berlin_client.get(f"{API}/social-areas/geojson", params={"level": "district"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    document = json.loads(response.content)
    assert document["type"] == "FeatureCollection"
    features = document["features"]
    assert len(features) == 12
    mitte = next(f for f in features if f["id"] == "01")
    assert mitte["geometry"]["type"] == "MultiPolygon"
    assert mitte["properties"]["name"] == "Mitte"
    assert mitte["properties"]["population"]["total"] > 300_000
    assert sum(f["properties"]["population"]["total"] for f in features) == 3_769_962 - 10_786


async def test_geojson_export_of_planning_areas_has_every_area(berlin_client: Client) -> None:
    response = await berlin_client.get(
        f"{API}/social-areas/geojson", params={"level": "planning_area"}
    )
    features = json.loads(response.content)["features"]
    assert len(features) == 447
    assert all(f["properties"]["parent_code"] == f["id"][:6] for f in features)


async def test_geojson_export_of_an_unknown_level_is_refused(berlin_client: Client) -> None:
    response = await berlin_client.get(f"{API}/social-areas/geojson", params={"level": "x"})
    assert response.status_code == InvalidInput.status_code
    assert response.json()["errors"][0]["field"] == "level"
