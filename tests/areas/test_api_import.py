"""POST /social-areas/import: access, the report, failures as 422 problem+json with the rows,
and the body limit for large GeoJSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from quartier.app import create_app
from quartier.settings import Settings

from .conftest import SMALL_CITY, SMALL_POPULATION, collection, feature, square

URL = "/api/v1/social-areas/import"
Client = AsyncTestClient[Litestar]
TokenFactory = Callable[..., Awaitable[dict[str, str]]]


def body(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "levels": [
            {
                "key": "district",
                "name_de": "Bezirk",
                "name_en": "District",
                "geojson": SMALL_CITY["district"],
            },
            {"key": "quarter", "geojson": SMALL_CITY["quarter"]},
        ],
        "population": [{"reference_date": "2020-12-31", "csv": SMALL_POPULATION}],
    }
    document.update(changes)
    return document


async def test_anonymous_callers_may_not_import(client: Client) -> None:
    response = await client.post(URL, json=body())
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_token_without_areas_write_may_not_import(
    client: Client, make_token: TokenFactory
) -> None:
    response = await client.post(URL, json=body(), headers=await make_token({"surveys:read"}))
    assert response.status_code == 403


async def test_planners_may_not_import(client: Client, login_as: TokenFactory) -> None:
    response = await client.post(URL, json=body(), headers=await login_as("planner"))
    assert response.status_code == 403


async def test_a_token_with_areas_write_imports_and_gets_the_report(
    client: Client, make_token: TokenFactory
) -> None:
    response = await client.post(URL, json=body(), headers=await make_token({"areas:write"}))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is True
    assert [(lv["key"], lv["created"]) for lv in report["levels"]] == [
        ("district", 2),
        ("quarter", 3),
    ]
    assert report["population"]["imported"] == 3
    area = (await client.get("/api/v1/social-areas/by-code/01")).json()
    assert area["population"]["total"] == 150
    assert area["level"]["name"] == "Bezirk"


PROVENANCE = {
    "source": "Statistikamt Kleinstadt, https://example.org/gebiete",
    "licence": "dl-de/by-2-0",
    "attribution": "© Statistikamt Kleinstadt (Datenlizenz Deutschland – Namensnennung 2.0)",
}


async def _geojson_header(client: Client, level: str) -> dict[str, Any]:
    response = await client.get("/api/v1/social-areas/geojson", params={"level": level})
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["type"] == "FeatureCollection" and document["features"]
    return {key: document.get(key) for key in ("attribution", "licence", "source")}


async def test_provenance_is_recorded_on_the_levels_and_repeated_by_their_exports(
    client: Client, make_token: TokenFactory, settings: Settings
) -> None:
    headers = await make_token({"areas:write"})
    # Without provenance: the deployment's configured attribution, nothing else invented.
    response = await client.post(URL, json=body(), headers=headers)
    assert response.status_code == 200, response.text
    assert await _geojson_header(client, "quarter") == {
        "attribution": settings.area_data_attribution,
        "licence": None,
        "source": None,
    }
    # A later import stating its provenance records it on the levels it imports ...
    only_districts = body(population=[], provenance=PROVENANCE)
    only_districts["levels"] = only_districts["levels"][:1]
    response = await client.post(URL, json=only_districts, headers=headers)
    assert response.status_code == 200, response.text
    assert await _geojson_header(client, "district") == PROVENANCE
    assert (await _geojson_header(client, "quarter"))["licence"] is None
    # ... and a population import on the levels whose areas it sets.
    population_only = {
        "population": [{"reference_date": "2021-12-31", "csv": SMALL_POPULATION}],
        "provenance": {**PROVENANCE, "attribution": "Einwohnerregister Kleinstadt"},
    }
    response = await client.post(URL, json=population_only, headers=headers)
    assert response.status_code == 200, response.text
    assert (await _geojson_header(client, "quarter"))["attribution"] == (
        "Einwohnerregister Kleinstadt"
    )
    levels = (await client.get("/api/v1/area-levels")).json()["items"]
    assert {level["key"]: level["provenance"]["attribution"] for level in levels} == {
        "district": PROVENANCE["attribution"],
        "quarter": "Einwohnerregister Kleinstadt",
    }


async def test_an_admin_session_imports(client: Client, login_as: TokenFactory) -> None:
    response = await client.post(URL, json=body(), headers=await login_as("admin"))
    assert response.status_code == 200, response.text


async def test_a_failed_import_is_a_422_with_the_report_and_changes_nothing(
    client: Client, make_token: TokenFactory
) -> None:
    headers = await make_token({"areas:write"})
    assert (await client.post(URL, json=body(), headers=headers)).status_code == 200
    renamed = collection(
        feature("01", "Umbenannt", square(13.0, 52.0, 0.1)),
        feature("02", "Süd", square(13.0, 51.9, 0.1)),
    )
    broken = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0102", "Punkt", [13.0, 52.0], kind="Point"),
    )
    response = await client.post(
        URL,
        json=body(
            levels=[
                {"key": "district", "geojson": renamed},
                {"key": "quarter", "geojson": broken},
            ]
        ),
        headers=headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/import-failed"
    assert problem["errors"] == [
        {
            "field": "levels[1].geojson.features[1].geometry",
            "source": "body",
            "message": "area 0102: geometry type Point is not supported (not a Polygon or "
            "MultiPolygon)",
        }
    ]
    assert problem["report"]["ok"] is False
    assert problem["report"]["rows"][0]["code"] == "0102"
    area = (await client.get("/api/v1/social-areas/by-code/01")).json()
    assert area["name"] == "Nord"


async def test_an_unknown_crs_is_a_422_naming_it(client: Client, make_token: TokenFactory) -> None:
    districts = collection(feature("01", "Alt", square(4590000, 5820000, 100)), crs="EPSG:31468")
    response = await client.post(
        URL,
        json={"levels": [{"key": "district", "geojson": districts}]},
        headers=await make_token({"areas:write"}),
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "levels[0].crs"
    assert "EPSG:31468" in error["message"]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"levels": [{"key": "Bezirk!", "geojson": SMALL_CITY["district"]}]}, "levels[0].key"),
        ({"levels": [], "surprise": 1}, "surprise"),
        ({"levels": [{"key": "district", "geojson": {"type": "Feature"}}]}, "geojson"),
        ({"population": [{"reference_date": "yesterday", "csv": "id"}]}, "reference_date"),
        ({"provenance": {"source": "x", "licence": "CC BY 4.0"}}, "attribution"),
        (
            {"provenance": {"source": "x", "licence": "y", "attribution": "two\nlines"}},
            "provenance.attribution",
        ),
    ],
)
async def test_malformed_requests_are_400_naming_the_field(
    client: Client, make_token: TokenFactory, document: dict[str, Any], field: str
) -> None:
    response = await client.post(URL, json=document, headers=await make_token({"areas:write"}))
    assert response.status_code == 400
    assert any(field in e["field"] for e in response.json()["errors"]), response.text


async def test_a_level_file_larger_than_the_general_body_limit_can_be_imported(
    client: Client, make_token: TokenFactory, berlin_data: Path
) -> None:
    districts = json.loads((berlin_data / "districts.geojson").read_text())
    payload = json.dumps({"levels": [{"key": "district", "geojson": districts}]})
    assert len(payload) > 1_048_576  # above the app's default limit for other bodies
    response = await client.post(
        URL,
        content=payload,
        headers={**await make_token({"areas:write"}), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text[:500]
    assert response.json()["levels"][0]["created"] == 12


async def test_the_import_body_limit_comes_from_the_settings(
    settings: Settings, database_url: str, make_token: TokenFactory
) -> None:
    app = create_app(replace(settings, import_max_body_bytes=1_048_576), database_url=database_url)
    padding = "x" * 1_100_000
    async with AsyncTestClient(app, base_url="https://testserver.local") as small:
        response = await small.post(
            URL,
            json={"population": [{"reference_date": "2020-12-31", "csv": padding}]},
            headers=await make_token({"areas:write"}),
        )
    assert response.status_code == 413


async def test_warnings_to_confirm_are_a_422_until_confirmed(
    client: Client, make_token: TokenFactory
) -> None:
    headers = await make_token({"areas:write"})
    overlapping = collection(
        feature("01", "Nord", square(13.0, 52.0, 0.1)), feature("02", "Doppelt", square(13.0, 52.0))
    )
    document = {"levels": [{"key": "district", "geojson": overlapping}]}
    response = await client.post(URL, json=document, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/import-needs-confirmation"
    assert "1 warning(s) to confirm" in problem["detail"]
    assert problem["errors"] == [
        {
            "field": "levels[0].geojson.features[1].geometry",
            "source": "body",
            "message": "area 02: overlaps 01 (Nord), an area of the same level and parent, by "
            "100% of the smaller one",
        }
    ]
    report = problem["report"]
    assert (report["ok"], report["errors"], report["needs_confirmation"]) == (False, 0, 1)
    assert report["rows"][0]["needs_confirmation"] is True
    assert (await client.get("/api/v1/social-areas/by-code/01")).status_code == 404

    response = await client.post(URL, json={**document, "confirm_warnings": True}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    assert (await client.get("/api/v1/social-areas/by-code/02")).status_code == 200


async def test_one_level_is_imported_under_a_named_parent_level(
    client: Client, make_token: TokenFactory
) -> None:
    headers = await make_token({"areas:write"})
    assert (await client.post(URL, json=body(population=[]), headers=headers)).status_code == 200
    blocks = collection(feature("010101", "Block", square(13.0, 52.0)))
    document = {"levels": [{"key": "block", "geojson": blocks}], "parent_level": "quarter"}
    response = await client.post(URL, json=document, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["levels"][0]["depth"] == 2
    area = (await client.get("/api/v1/social-areas/by-code/010101")).json()
    assert area["parent_code"] == "0101"

    response = await client.post(URL, json={**document, "parent_level": "street"}, headers=headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/invalid-input"
    assert problem["errors"][0]["field"] == "parent_level"


async def test_a_latitude_first_urn_is_stored_longitude_first(
    client: Client, make_token: TokenFactory
) -> None:
    ring = [[52.5, 13.4], [52.5, 13.42], [52.52, 13.42], [52.52, 13.4], [52.5, 13.4]]
    districts = collection(feature("01", "Mitte", [ring]), crs="urn:ogc:def:crs:EPSG::4326")
    response = await client.post(
        URL,
        json={"levels": [{"key": "district", "geojson": districts}]},
        headers=await make_token({"areas:write"}),
    )
    assert response.status_code == 200, response.text
    lookup = await client.get("/api/v1/social-areas/lookup", params={"lat": 52.51, "lon": 13.41})
    assert [a["code"] for a in lookup.json()["items"]] == ["01"]
