"""Supply beside need: services and capacity per 1,000 residents of the target group, computed
against known population and services, beside the surveys' protected expressed need; JSON and
CSV with metadata."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest

from tests.inventory.conftest import AddService, Client, Headers
from tests.support.disclosure import without_noise  # noqa: F401
from tests.surveys.conftest import Surveys
from tests.surveys.test_pages_results import answered_survey

YESTERDAY = (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)).isoformat()


async def _services(
    client: Client, organisations: dict[str, uuid.UUID], add_service: AddService, writer: Headers
) -> None:
    awo, caritas = organisations["AWO"], organisations["Caritas"]
    # A: 40 places for young children in Moabit West.
    await add_service(awo, name="A Kita", capacity=40)
    # B: 30 places for everyone, over Moabit West and Leopoldplatz (15 each).
    await add_service(
        caritas,
        name="B Familientreff",
        target_groups=["all_residents"],
        area_codes=["010101", "010201"],
        capacity=30,
    )
    # C: ended yesterday — history, not supply.
    ended = await add_service(awo, name="C alt", area_codes=["010102"], capacity=100)
    response = await client.post(
        f"/api/v1/services/{ended['id']}/end", json={"ends_on": YESTERDAY}, headers=writer
    )
    assert response.status_code == 200
    # D: another need category.
    await add_service(awo, name="D Lernhilfe", need_categories=["school_success"], capacity=99)
    # E: 10 places for older people, serving the whole district of Mitte.
    await add_service(
        caritas,
        name="E Seniorentreff",
        target_groups=["older_people"],
        area_codes=["01"],
        capacity=10,
    )


def _by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {area["code"]: area for area in body["areas"]}


async def test_supply_per_1000_residents_of_the_target_group_is_computed_from_known_data(
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    inventory_writer: Headers,
    inventory_reader: Headers,
    process_id: uuid.UUID,
) -> None:
    await _services(client, organisations, add_service, inventory_writer)
    path = f"/api/v1/processes/{process_id}/supply/childcare"
    fine = await client.get(
        path,
        params={"level": "planning_area", "target_group": "young_children"},
        headers=inventory_reader,
    )
    assert fine.status_code == 200, fine.text
    body = fine.json()
    assert body["metadata"]["services_counted"] == 2  # A and B
    assert body["metadata"]["population_reference_date"] == "2024-12-31"
    areas = _by_code(body)
    assert set(areas) == {"010101", "010102", "010201"}  # the process's scope, Mitte
    west = areas["010101"]
    assert (west["population"], west["services"], west["capacity"]) == (100, 2, 55.0)
    assert west["capacity_per_1000"] == 550.0 and west["services_per_1000"] == 20.0
    east = areas["010102"]
    assert (east["population"], east["services"], east["capacity"]) == (50, 0, 0.0)
    assert east["capacity_per_1000"] == 0.0
    leo = areas["010201"]
    assert (leo["population"], leo["services"], leo["capacity"]) == (400, 1, 15.0)
    assert leo["capacity_per_1000"] == 37.5
    # No survey answered yet: expressed need is absent, never 0.
    assert west["respondents"] is None

    district = await client.get(path, params={"level": "district"}, headers=inventory_reader)
    mitte = _by_code(district.json())["01"]
    # all residents: A, B and E; 7,000 residents; 40 + 30 + 10 places.
    assert (mitte["population"], mitte["services"], mitte["capacity"]) == (7000, 3, 80.0)
    assert mitte["capacity_per_1000"] == pytest.approx(80 * 1000 / 7000, abs=1e-4)
    older = await client.get(
        path,
        params={"level": "district", "target_group": "older_people"},
        headers=inventory_reader,
    )
    mitte = _by_code(older.json())["01"]
    # 65 and over: 300 + 150 + 400; B (everyone) and E count.
    assert (mitte["population"], mitte["services"], mitte["capacity"]) == (850, 2, 40.0)


async def test_supply_refusals_and_access(
    client: Client,
    organisations: dict[str, uuid.UUID],
    inventory_reader: Headers,
    inventory_writer: Headers,
    process_id: uuid.UUID,
) -> None:
    path = f"/api/v1/processes/{process_id}/supply/childcare"
    assert (await client.get(path, params={"level": "district"})).status_code == 401
    assert (
        await client.get(path, params={"level": "district"}, headers=inventory_writer)
    ).status_code == 403
    group = await client.get(
        path, params={"level": "district", "target_group": "pets"}, headers=inventory_reader
    )
    assert group.status_code == 400 and "target_group" in group.text
    unknown = await client.get(
        f"/api/v1/processes/{process_id}/supply/wishes",
        params={"level": "district"},
        headers=inventory_reader,
    )
    assert unknown.status_code == 404


@pytest.mark.usefixtures("without_noise")
async def test_expressed_need_comes_from_the_protected_aggregates_and_the_csv_has_metadata(
    surveys: Surveys,
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    inventory_reader: Headers,
    process_id: uuid.UUID,
) -> None:
    await answered_survey(surveys)
    await add_service(organisations["AWO"], name="A Kita", capacity=40)
    path = f"/api/v1/processes/{process_id}/supply/childcare"
    params = {"level": "planning_area", "target_group": "young_children"}
    response = await client.get(path, params=params, headers=inventory_reader)
    areas = _by_code(response.json())
    west = areas["010101"]
    assert west["respondents"] == 14 and west["expressed"]["share"] == 8 / 14
    assert west["capacity_per_1000"] == 400.0
    rixdorf = areas["010102"]  # withheld by the survey's disclosure control
    assert rixdorf["respondents"] is None and rixdorf["expressed"]["share"] is None
    exported = await client.get(f"{path}/csv", params=params, headers=inventory_reader)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    meta = [line for line in lines if line.startswith("#")]
    assert "# need_category: childcare" in meta and "# target_group: young_children" in meta
    assert any(line.startswith("# k_threshold: ") for line in meta)
    header = lines[len(meta)].split(",")
    assert header[:5] == ["area_code", "area_name", "population", "services", "capacity"]
    rows = {line.split(",")[0]: line.split(",") for line in lines[len(meta) + 1 :]}
    assert rows["010101"][6] == "400.0"
    assert rows["010102"][8] == "" and rows["010102"][9] == "true"
