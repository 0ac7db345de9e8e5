"""Expressed vs measured need: the surveys' protected shares beside linked indicators, gap
marks through the API and the planners' page (with CSRF)."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import LoginFactory, TokenFactory
from tests.support.disclosure import without_noise  # noqa: F401
from tests.surveys.conftest import Surveys
from tests.surveys.test_pages_results import answered_survey

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}


async def _indicator(client: Client, make_token: TokenFactory) -> dict[str, str]:
    writer = await make_token({"indicators:write"})
    body = {
        "indicator": {
            "key": "children_share",
            "name_de": "Anteil Kinder",
            "name_en": "Share of children",
            "unit": "%",
            "direction": "neutral",
            "aggregation": "ratio",
            "scale": 100,
            "source": "Statistikamt",
            "licence": "CC BY 4.0",
        },
        "values": [
            {"area_code": code, "reference_date": "2024-12-31", "numerator": n, "denominator": 100}
            for code, n in (("010101", 20), ("010102", 10), ("010201", 30), ("080101", 25))
        ],
    }
    response = await client.post("/api/v1/indicators/import", json=body, headers=writer)
    assert response.status_code == 200, response.text
    linked = await client.put(
        "/api/v1/indicators/children_share/need-categories/childcare", headers=writer
    )
    assert linked.status_code == 200, linked.text
    return writer


@pytest.mark.usefixtures("without_noise")
async def test_comparison_api_shows_protected_expressed_need_beside_indicators_and_gaps(
    surveys: Surveys, client: Client, make_token: TokenFactory, process_id: uuid.UUID
) -> None:
    await answered_survey(surveys)
    await _indicator(client, make_token)
    path = f"/api/v1/processes/{process_id}/need-comparison/childcare"
    response = await client.get(path, params={"level": "planning_area"}, headers=surveys.planner)
    assert response.status_code == 200, response.text
    found = response.json()
    assert [i["key"] for i in found["indicators"]] == ["children_share"]
    west = next(a for a in found["areas"] if a["code"] == "010101")
    assert west["respondents"] == 14 and west["expressed"]["share"] == 8 / 14
    assert west["expressed"]["share_ci"]["low"] < 8 / 14 < west["expressed"]["share_ci"]["high"]
    assert west["measured"][0]["value"] == 20 and not west["measured"][0]["rolled_up"]
    rixdorf = next(a for a in found["areas"] if a["code"] == "010102")
    assert rixdorf["respondents"] is None  # withheld, never 0
    assert rixdorf["expressed"]["share"] is None and rixdorf["expressed"]["suppressed"]
    gaps = await make_token({"processes:write"})
    marked = await client.put(
        f"{path}/gaps/010102", json={"note": "Keine Kita im Kiez"}, headers=gaps
    )
    assert marked.status_code == 200, marked.text
    again = await client.get(path, params={"level": "planning_area"}, headers=surveys.planner)
    rixdorf = next(a for a in again.json()["areas"] if a["code"] == "010102")
    assert rixdorf["gap"]["note"] == "Keine Kita im Kiez"
    removed = await client.delete(f"{path}/gaps/010102", headers=gaps)
    assert removed.status_code == 204
    unknown = await client.put(f"{path}/gaps/9999", json={"note": "x"}, headers=gaps)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "code"
    reader = await make_token({"surveys:read"})
    assert (
        await client.put(f"{path}/gaps/0801", json={"note": "x"}, headers=reader)
    ).status_code == 403


async def test_the_comparison_page_maps_expressed_need_and_marks_gaps(
    surveys: Surveys,
    client: Client,
    make_token: TokenFactory,
    process_id: uuid.UUID,
    login_as: LoginFactory,
) -> None:
    await answered_survey(surveys)
    await _indicator(client, make_token)
    planner_headers = await login_as("planner")
    path = f"/dashboard/processes/{process_id}/needs/childcare"
    page = await client.get(
        path,
        params={"level": "district_region"},
        headers={**HTML, **planner_headers, "Accept-Language": "en"},
    )
    assert page.status_code == 200, page.text[:500]
    assert 'class="map__svg"' in page.text and "Share of children" in page.text
    assert re.search(r"Wedding</a>.*?protected \(too few people\)", page.text, re.S)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "area": "0102",
        "note": "Keine Kita",
        "level": "district_region",
    }
    cookie = {"Cookie": planner_headers["Cookie"]}
    posted = await client.post(
        f"{path}/gaps", data=form, headers={**HTML, **cookie}, follow_redirects=False
    )
    assert posted.status_code == 303, posted.text[:300]
    shown = await client.get(posted.headers["location"], headers={**HTML, **planner_headers})
    assert "Keine Kita" in shown.text
    empty = await client.post(f"{path}/gaps", data={**form, "note": ""}, headers={**HTML, **cookie})
    assert empty.status_code == 400 and '<a href="#note">' in empty.text
    forged = await client.post(
        f"{path}/gaps", data={**form, "csrf_token": "x"}, headers={**HTML, **cookie}
    )
    assert forged.status_code == 403
