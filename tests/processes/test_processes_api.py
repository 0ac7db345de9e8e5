"""Planning processes through the API: create, read, change, publish, archive, list."""

from __future__ import annotations

import uuid

from tests.conftest import LoginFactory, TokenFactory

from .conftest import Client, CreateProcess, Headers, process_body

PHASE_KEYS = [
    "guidelines",
    "needs_assessment",
    "measure_planning",
    "resource_provision",
    "service_delivery",
    "evaluation",
    "social_reporting",
]


async def test_a_new_process_is_a_draft_with_seven_phases_starting_in_guidelines(
    client: Client, writer: Headers, areas: dict[str, uuid.UUID]
) -> None:
    response = await client.post(
        "/api/v1/processes",
        json=process_body(area_codes=["010221", "010222"]),
        headers=writer,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/processes/{body['id']}"
    assert body["status"] == "draft"
    assert body["cycle"] == 1
    assert body["active_phase"] == "guidelines"
    assert [phase["key"] for phase in body["phases"]] == PHASE_KEYS
    assert [phase["is_active"] for phase in body["phases"]] == [True] + [False] * 6
    assert [area["code"] for area in body["areas"]] == ["010221", "010222"]
    assert body["mandate"]["report_recipients"] == "Jugendhilfeausschuss"
    assert body["phases"][0]["name"] == "Sozialpolitische Leitlinien, politische Auftragserteilung"

    located = await client.get(response.headers["location"], headers=writer)
    assert located.status_code == 200
    assert located.json()["id"] == body["id"]


# The official German terms of the planning cycle (DESIGN.md §1), German being the default.
GERMAN_NAMES = [
    "Sozialpolitische Leitlinien, politische Auftragserteilung",
    "Zieldefinition auf Basis der Bedarfsermittlung",
    "Produkt- und Maßnahmenplanung mit Ressourcenplanung",
    "Bereitstellung von Ressourcen und Leistungen",
    "Leistungserbringung",
    "Überprüfung von Wirkung und Wirtschaftlichkeit",
    "Sozialberichterstattung",
]


async def test_phase_names_follow_the_negotiated_language(
    client: Client, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    german = await client.get(f"/api/v1/processes/{process['id']}/phases")
    assert [phase["name"] for phase in german.json()] == GERMAN_NAMES
    assert german.headers["content-language"] == "de"
    response = await client.get(
        f"/api/v1/processes/{process['id']}", headers={"Accept-Language": "en"}
    )
    assert response.json()["phases"][1]["name"] == "Goals based on the needs assessment"
    assert response.headers["content-language"] == "en"


async def test_unknown_area_codes_are_named_in_the_problem(
    client: Client, writer: Headers, areas: dict[str, uuid.UUID]
) -> None:
    response = await client.post(
        "/api/v1/processes",
        json=process_body(area_codes=["01", "0199", "XX"]),
        headers=writer,
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "'0199'" in problem["detail"] and "'XX'" in problem["detail"]
    assert [error["field"] for error in problem["errors"]] == ["area_codes[1]", "area_codes[2]"]


async def test_validation_errors_name_the_fields(client: Client, writer: Headers) -> None:
    response = await client.post(
        "/api/v1/processes",
        json={"title": "", "topic": "x" * 201, "colour": "red"},
        headers=writer,
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    fields = {error["field"] for error in problem["errors"]}
    assert fields & {"title", "topic", "colour"}, problem


async def test_bounded_lists_and_nested_fields_are_validated(
    client: Client, writer: Headers
) -> None:
    too_many = await client.post(
        "/api/v1/processes",
        json=process_body(area_codes=[str(i) for i in range(501)]),
        headers=writer,
    )
    assert too_many.status_code == 400
    nested = await client.post(
        "/api/v1/processes",
        json=process_body(mandate={"aim": "x" * 4001}),
        headers=writer,
    )
    assert nested.status_code == 400
    assert "mandate" in nested.json()["errors"][0]["field"]


async def test_unknown_process_is_a_404_problem(client: Client) -> None:
    response = await client.get(f"/api/v1/processes/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/not-found"


async def test_malformed_process_id_is_a_400_not_a_500(client: Client) -> None:
    response = await client.get("/api/v1/processes/not-a-uuid")
    assert response.status_code in (400, 404)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_drafts_are_hidden_from_the_public(
    client: Client, create_process: CreateProcess, make_token: TokenFactory
) -> None:
    draft = await create_process()
    active = await create_process(publish=True, title="Öffentlich")

    public = await client.get(f"/api/v1/processes/{draft['id']}")
    assert public.status_code == 404
    for path in ("phases", "roles", "contributions", "contributions/matrix", "participation"):
        hidden = await client.get(f"/api/v1/processes/{draft['id']}/{path}")
        assert hidden.status_code == 404, path

    listed = await client.get("/api/v1/processes")
    assert [p["id"] for p in listed.json()["items"]] == [active["id"]]

    reader = await make_token({"processes:read"})
    seen = await client.get("/api/v1/processes", headers=reader)
    assert {p["id"] for p in seen.json()["items"]} == {draft["id"], active["id"]}
    detail = await client.get(f"/api/v1/processes/{draft['id']}", headers=reader)
    assert detail.status_code == 200


async def test_internal_notes_are_for_staff_and_readers_only(
    client: Client, create_process: CreateProcess, login_as: LoginFactory
) -> None:
    process = await create_process(publish=True, internal_notes="Nur intern")
    public = await client.get(f"/api/v1/processes/{process['id']}")
    assert public.json()["internal_notes"] is None
    moderator = await login_as("moderator")
    staff = await client.get(f"/api/v1/processes/{process['id']}", headers=moderator)
    assert staff.json()["internal_notes"] == "Nur intern"


async def test_patch_changes_only_the_fields_sent(
    client: Client, writer: Headers, create_process: CreateProcess, areas: dict[str, uuid.UUID]
) -> None:
    process = await create_process(area_codes=["01"])
    response = await client.patch(
        f"/api/v1/processes/{process['id']}",
        json={"topic": "Familienarmut", "mandate": {"aim": "Neues Ziel"}, "area_codes": ["08"]},
        headers=writer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["topic"] == "Familienarmut"
    assert body["title"] == process["title"]
    assert body["mandate"]["aim"] == "Neues Ziel"
    assert body["mandate"]["commissioned_by"] == "BVV Mitte"
    assert [area["code"] for area in body["areas"]] == ["08"]
    assert body["description"] == process["description"]


async def test_publish_and_archive_are_explicit_transitions(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    base = f"/api/v1/processes/{process['id']}"
    assert (await client.post(f"{base}/publish", headers=writer)).json()["status"] == "active"
    again = await client.post(f"{base}/publish", headers=writer)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(f"{base}/archive", headers=writer)).json()["status"] == "archived"
    assert (await client.post(f"{base}/archive", headers=writer)).status_code == 409
    # archived processes are read-only but still public
    changed = await client.patch(base, json={"title": "Neu"}, headers=writer)
    assert changed.status_code == 409
    assert (await client.get(base)).status_code == 200


async def test_writing_needs_a_planner_or_the_write_scope(
    client: Client, login_as: LoginFactory, make_token: TokenFactory
) -> None:
    anonymous = await client.post("/api/v1/processes", json=process_body())
    assert anonymous.status_code == 401
    moderator = await login_as("moderator")
    assert (
        await client.post("/api/v1/processes", json=process_body(), headers=moderator)
    ).status_code == 403
    reader = await make_token({"processes:read"})
    assert (
        await client.post("/api/v1/processes", json=process_body(), headers=reader)
    ).status_code == 403
    planner = await login_as("planner")
    assert (
        await client.post("/api/v1/processes", json=process_body(), headers=planner)
    ).status_code == 201


async def test_list_is_cursor_paginated_in_a_stable_order(
    client: Client, create_process: CreateProcess
) -> None:
    created = [(await create_process(publish=True, title=f"Prozess {i}"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/v1/processes", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert pages == 3


async def test_limit_and_cursor_are_bounded(client: Client) -> None:
    assert (await client.get("/api/v1/processes", params={"limit": "201"})).status_code == 400
    assert (await client.get("/api/v1/processes", params={"limit": "0"})).status_code == 400
    bad = await client.get("/api/v1/processes", params={"cursor": "nonsense"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


async def test_list_filters_by_status_phase_and_area(
    client: Client, create_process: CreateProcess, areas: dict[str, uuid.UUID]
) -> None:
    mitte = await create_process(
        publish=True, area_codes=["010221"], activate=("needs_assessment",)
    )
    neukoelln = await create_process(publish=True, area_codes=["08"])
    await create_process(publish=True)

    async def ids(**params: str) -> list[str]:
        response = await client.get("/api/v1/processes", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(phase="needs_assessment") == [mitte["id"]]
    assert await ids(area="08") == [neukoelln["id"]]
    # overlapping scopes: the district contains the region, the region lies in the district
    assert await ids(area="01") == [mitte["id"]]
    assert await ids(area="0102") == [mitte["id"]]
    assert await ids(status="draft") == []
    unknown = await client.get("/api/v1/processes", params={"area": "9999"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "area"
    assert (await client.get("/api/v1/processes", params={"phase": "nope"})).status_code == 400
