"""The indicators API on the toy city: import by JSON and CSV with a scoped token, reading as
anyone, roll-up, need-category links, and refusals as problem+json naming the field."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TokenFactory

Client = AsyncTestClient[Litestar]

INDICATOR: dict[str, Any] = {
    "key": "unemployed",
    "name_de": "Arbeitslose",
    "name_en": "Unemployed",
    "unit": "Personen",
    "direction": "higher_is_worse",
    "aggregation": "sum",
    "source": "Statistikamt Musterstadt",
    "licence": "dl-de/by-2-0",
}


@pytest.fixture
async def writer(make_token: TokenFactory, small_city_session: AsyncSession) -> dict[str, str]:
    return await make_token({"indicators:write"}, name="statistics office")


async def test_import_read_roll_up_and_link(client: Client, writer: dict[str, str]) -> None:
    body = {
        "indicator": INDICATOR,
        "values": [
            {"area_code": "0101", "reference_date": "2024-12-31", "value": 12},
            {"area_code": "0102", "reference_date": "2024-12-31", "value": 5},
        ],
    }
    imported = await client.post("/api/v1/indicators/import", json=body, headers=writer)
    assert imported.status_code == 200, imported.text
    assert imported.json()["values_created"] == 2
    csv = "Schlüssel;Stichtag;Wert\n0201;31.12.2024;3,5\n".encode("cp1252")
    loaded = await client.post(
        "/api/v1/indicators/unemployed/values/csv",
        json={"csv_base64": base64.b64encode(csv).decode()},
        headers=writer,
    )
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["warnings"] == ["read as windows-1252"]
    listing = await client.get("/api/v1/indicators")
    assert [item["key"] for item in listing.json()["items"]] == ["unemployed"]
    got = await client.get("/api/v1/indicators/unemployed", headers={"Accept-Language": "en"})
    assert got.json()["name"] == "Unemployed" and got.json()["levels"] == ["quarter"]
    districts = await client.get(
        "/api/v1/indicators/unemployed/values", params={"level": "district"}
    )
    assert districts.status_code == 200, districts.text
    values = {item["code"]: item for item in districts.json()["items"]}
    assert values["01"]["value"] == 17 and values["01"]["rolled_up"] and values["01"]["complete"]
    assert values["02"]["value"] == 3.5
    series = await client.get("/api/v1/indicators/unemployed/areas/01")
    assert [p["value"] for p in series.json()["points"]] == [17]
    linked = await client.put(
        "/api/v1/indicators/unemployed/need-categories/housing", headers=writer
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["need_categories"] == ["housing"]
    unlinked = await client.delete(
        "/api/v1/indicators/unemployed/need-categories/housing", headers=writer
    )
    assert unlinked.json()["need_categories"] == []


async def test_refusals_name_the_field(
    client: Client, writer: dict[str, str], make_token: TokenFactory
) -> None:
    body = {
        "indicator": INDICATOR,
        "values": [{"area_code": "9999", "reference_date": "2024-12-31", "value": 1}],
    }
    refused = await client.post("/api/v1/indicators/import", json=body, headers=writer)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["field"] == "values[0].area_code"
    missing = await client.get("/api/v1/indicators/unemployed")
    assert missing.status_code == 404  # nothing was created
    unknown = await client.post(
        "/api/v1/indicators/import", json={**body, "extra": 1}, headers=writer
    )
    assert unknown.status_code == 400
    other = await make_token({"areas:write"})
    forbidden = await client.post("/api/v1/indicators/import", json=body, headers=other)
    assert forbidden.status_code == 403
    anonymous = await client.post("/api/v1/indicators/import", json=body)
    assert anonymous.status_code == 401
    body["values"] = []
    await client.post("/api/v1/indicators/import", json=body, headers=writer)
    both = await client.post(
        "/api/v1/indicators/unemployed/values/csv",
        json={"csv": "code;date;value\n", "csv_base64": "AAAA"},
        headers=writer,
    )
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "csv"
    text_file = await client.post(
        "/api/v1/indicators/unemployed/values/csv",
        json={"csv": "code;value\n0101;4\n", "reference_date": "2023-12-31"},
        headers=writer,
    )
    assert text_file.status_code == 200, text_file.text
    assert text_file.json()["values_created"] == 1
    bad_level = await client.get("/api/v1/indicators/unemployed/values", params={"level": "x"})
    assert bad_level.status_code == 422 and bad_level.json()["errors"][0]["field"] == "level"
