"""Organisations, their roles per phase in a process, and the contributions matrix."""

from __future__ import annotations

import uuid
from typing import Any

from .conftest import Client, CreateProcess, Headers

PHASE_KEYS = [
    "guidelines",
    "needs_assessment",
    "measure_planning",
    "resource_provision",
    "service_delivery",
    "evaluation",
    "social_reporting",
]


async def _organisation(
    client: Client, headers: Headers, name: str, type: str = "welfare_organisation", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/organisations", json={"name": name, "type": type, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/v1/organisations/{body['id']}"
    return body


async def test_organisations_crud(client: Client, planner: Headers) -> None:
    caritas = await _organisation(client, planner, "Caritas Berlin", short_name="Caritas")
    await _organisation(client, planner, "Bezirksamt Mitte", "administration")
    url = f"/api/v1/organisations/{caritas['id']}"
    assert (await client.get(url)).json()["short_name"] == "Caritas"

    changed = await client.patch(
        url, json={"website": "https://www.caritas-berlin.de"}, headers=planner
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Caritas Berlin"
    assert changed.json()["website"] == "https://www.caritas-berlin.de"

    listed = (await client.get("/api/v1/organisations", params={"type": "administration"})).json()
    assert [o["name"] for o in listed["items"]] == ["Bezirksamt Mitte"]
    found = (await client.get("/api/v1/organisations", params={"q": "cari"})).json()
    assert [o["name"] for o in found["items"]] == ["Caritas Berlin"]
    wildcard = (await client.get("/api/v1/organisations", params={"q": "%"})).json()
    assert wildcard["items"] == []

    assert (await client.delete(url, headers=planner)).status_code == 204
    assert (await client.get(url)).status_code == 404


async def test_organisation_names_are_unique_regardless_of_case(
    client: Client, planner: Headers
) -> None:
    awo = await _organisation(client, planner, "AWO Berlin")
    duplicate = await client.post(
        "/api/v1/organisations", json={"name": "awo berlin", "type": "other"}, headers=planner
    )
    assert duplicate.status_code == 409
    other = await _organisation(client, planner, "DRK Berlin")
    renamed = await client.patch(
        f"/api/v1/organisations/{other['id']}", json={"name": "AWO BERLIN"}, headers=planner
    )
    assert renamed.status_code == 409
    assert awo["name"] == "AWO Berlin"


async def test_organisation_input_is_validated(client: Client, planner: Headers) -> None:
    response = await client.post(
        "/api/v1/organisations",
        json={"name": "X", "type": "church", "website": "javascript:alert(1)"},
        headers=planner,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] in {"type", "website"}


async def test_organisations_are_listed_by_name_with_a_cursor(
    client: Client, planner: Headers
) -> None:
    for name in ["Diakonie", "AWO", "Caritas", "DRK", "Paritätischer"]:
        await _organisation(client, planner, name)
    first = (await client.get("/api/v1/organisations", params={"limit": "3"})).json()
    second = (
        await client.get(
            "/api/v1/organisations", params={"limit": "3", "cursor": first["next_cursor"]}
        )
    ).json()
    names = [o["name"] for o in first["items"] + second["items"]]
    assert names == ["AWO", "Caritas", "DRK", "Diakonie", "Paritätischer"]
    assert second["next_cursor"] is None


async def test_roles_are_unique_per_process_organisation_phase_and_role(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    caritas = await _organisation(client, planner, "Caritas")
    url = f"/api/v1/processes/{process['id']}/roles"
    role = {"organisation_id": caritas["id"], "phase": "needs_assessment", "role": "participating"}
    created = await client.post(url, json=role, headers=planner)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{url}/{created.json()['id']}"
    assert created.json()["organisation"]["name"] == "Caritas"
    assert (await client.post(url, json=role, headers=planner)).status_code == 409
    other_role = await client.post(url, json=role | {"role": "providing"}, headers=planner)
    assert other_role.status_code == 201

    listed = (await client.get(url, params={"phase": "needs_assessment"})).json()
    assert sorted(r["role"] for r in listed["items"]) == ["participating", "providing"]
    assert (await client.get(created.headers["location"])).status_code == 200

    # an organisation with roles cannot be deleted
    in_use = await client.delete(f"/api/v1/organisations/{caritas['id']}", headers=planner)
    assert in_use.status_code == 409

    removed = await client.delete(created.headers["location"], headers=planner)
    assert removed.status_code == 204
    assert (await client.delete(created.headers["location"], headers=planner)).status_code == 404


async def test_a_role_for_an_unknown_organisation_names_the_field(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    response = await client.post(
        f"/api/v1/processes/{process['id']}/roles",
        json={"organisation_id": str(uuid.uuid4()), "phase": "guidelines", "role": "planning"},
        headers=planner,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation_id"


async def test_contributions_are_set_replaced_and_removed(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    awo = await _organisation(client, planner, "AWO")
    cell = f"/api/v1/processes/{process['id']}/contributions/{awo['id']}/needs_assessment"
    created = await client.put(cell, json={"text": "Elterncafés"}, headers=planner)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == cell
    replaced = await client.put(cell, json={"text": "Elterncafés in Kitas"}, headers=planner)
    assert replaced.status_code == 200
    assert replaced.json()["id"] == created.json()["id"]
    assert replaced.json()["text"] == "Elterncafés in Kitas"
    listed = (await client.get(f"/api/v1/processes/{process['id']}/contributions")).json()
    assert [c["text"] for c in listed["items"]] == ["Elterncafés in Kitas"]
    assert (await client.put(cell, json={"text": ""}, headers=planner)).status_code == 400
    assert (await client.delete(cell, headers=planner)).status_code == 204
    assert (await client.delete(cell, headers=planner)).status_code == 404


async def test_contributions_matrix_has_one_row_per_organisation_and_one_cell_per_phase(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    base = f"/api/v1/processes/{process['id']}"
    awo = await _organisation(client, planner, "AWO")
    caritas = await _organisation(client, planner, "Caritas")
    council = await _organisation(client, planner, "Jugendhilfeausschuss", "council_body")
    await _organisation(client, planner, "Unbeteiligt")
    for org, phase, text in [
        (awo, "needs_assessment", "Elterncafés"),
        (awo, "service_delivery", "Stadtteilmütter"),
        (caritas, "needs_assessment", "Befragung in Familienzentren"),
    ]:
        response = await client.put(
            f"{base}/contributions/{org['id']}/{phase}", json={"text": text}, headers=planner
        )
        assert response.status_code == 201
    for org, phase, role in [
        (council, "guidelines", "commissioning"),
        (council, "social_reporting", "receiving_reports"),
        (awo, "needs_assessment", "providing"),
        (awo, "needs_assessment", "participating"),
    ]:
        response = await client.post(
            f"{base}/roles",
            json={"organisation_id": org["id"], "phase": phase, "role": role},
            headers=planner,
        )
        assert response.status_code == 201

    matrix = (await client.get(f"{base}/contributions/matrix")).json()
    assert [p["key"] for p in matrix["phases"]] == PHASE_KEYS
    assert [row["organisation"]["name"] for row in matrix["rows"]] == [
        "AWO",
        "Caritas",
        "Jugendhilfeausschuss",
    ]
    for row in matrix["rows"]:
        assert [cell["phase"] for cell in row["cells"]] == PHASE_KEYS
    awo_cells = {cell["phase"]: cell for cell in matrix["rows"][0]["cells"]}
    assert awo_cells["needs_assessment"] == {
        "phase": "needs_assessment",
        "contribution": "Elterncafés",
        "roles": ["participating", "providing"],  # in the order of the role list
    }
    assert awo_cells["service_delivery"]["contribution"] == "Stadtteilmütter"
    assert awo_cells["guidelines"] == {"phase": "guidelines", "contribution": None, "roles": []}
    council_cells = {cell["phase"]: cell for cell in matrix["rows"][2]["cells"]}
    assert council_cells["guidelines"]["roles"] == ["commissioning"]
    assert council_cells["social_reporting"]["roles"] == ["receiving_reports"]


async def test_empty_matrix_has_the_phases_and_no_rows(
    client: Client, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    matrix = (await client.get(f"/api/v1/processes/{process['id']}/contributions/matrix")).json()
    assert len(matrix["phases"]) == 7
    assert matrix["rows"] == []


async def test_archived_processes_keep_their_roles_read_only(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    drk = await _organisation(client, planner, "DRK")
    await client.post(f"/api/v1/processes/{process['id']}/archive", headers=planner)
    response = await client.post(
        f"/api/v1/processes/{process['id']}/roles",
        json={"organisation_id": drk["id"], "phase": "evaluation", "role": "evaluating"},
        headers=planner,
    )
    assert response.status_code == 409
    contribution = await client.put(
        f"/api/v1/processes/{process['id']}/contributions/{drk['id']}/evaluation",
        json={"text": "x"},
        headers=planner,
    )
    assert contribution.status_code == 409
