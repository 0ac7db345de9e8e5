"""Need categories: the seeded list is public, administrators add, change and deactivate
categories, and deactivated categories can no longer be tagged."""

from __future__ import annotations

from tests.conftest import LoginFactory

from .conftest import Client, Surveys, definition

SEEDED = [
    "childcare",
    "money_and_debt",
    "everyday_support",
    "belonging",
    "neighbourhood_services",
    "school_success",
    "health",
    "medical_care",
    "housing",
    "mobility",
    "elderly_care",
    "youth_work",
    "safety",
    "barrier_free",
]


async def test_the_seeded_categories_are_public_in_order(client: Client) -> None:
    response = await client.get("/api/v1/need-categories")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["key"] for item in items] == SEEDED
    assert items[0]["name"] == "Kinderbetreuung"
    assert items[0]["label"] == {"de": "Kinderbetreuung", "en": "Childcare"}
    english = await client.get("/api/v1/need-categories", headers={"Accept-Language": "en"})
    assert english.json()["items"][0]["name"] == "Childcare"


async def test_administrators_create_change_and_deactivate(
    client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    created = await client.post(
        "/api/v1/need-categories",
        json={
            "key": "digital_access",
            "label": {"de": "Digitale Teilhabe", "en": "Digital access"},
            "description": {"de": "Internet, Geräte, Unterstützung bei Online-Anträgen"},
            "position": 20,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    category = created.json()
    assert created.headers["location"] == f"/api/v1/need-categories/{category['id']}"
    assert category["is_active"] is True
    duplicate = await client.post(
        "/api/v1/need-categories",
        json={"key": "digital_access", "label": {"de": "Nochmal"}},
        headers=admin,
    )
    assert duplicate.status_code == 409

    renamed = await client.patch(
        f"/api/v1/need-categories/{category['id']}",
        json={"label": {"de": "Digitale Teilhabe und Zugang"}},
        headers=admin,
    )
    assert renamed.json()["name"] == "Digitale Teilhabe und Zugang"
    assert renamed.json()["key"] == "digital_access"
    key_change = await client.patch(
        f"/api/v1/need-categories/{category['id']}", json={"key": "digital"}, headers=admin
    )
    assert key_change.status_code == 400  # the key is permanent

    deactivated = await client.patch(
        f"/api/v1/need-categories/{category['id']}", json={"is_active": False}, headers=admin
    )
    assert deactivated.json()["is_active"] is False
    listed = [i["key"] for i in (await client.get("/api/v1/need-categories")).json()["items"]]
    assert "digital_access" not in listed
    everything = await client.get("/api/v1/need-categories", params={"include_inactive": True})
    assert "digital_access" in [i["key"] for i in everything.json()["items"]]


async def test_deactivated_categories_cannot_be_tagged(
    surveys: Surveys, client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    items = (await client.get("/api/v1/need-categories")).json()["items"]
    housing = next(item for item in items if item["key"] == "housing")
    await client.patch(
        f"/api/v1/need-categories/{housing['id']}", json={"is_active": False}, headers=admin
    )
    body = definition()
    body["pages"][1]["questions"][0]["options"][0]["need_categories"] = ["housing"]
    response = await client.post(
        f"/api/v1/processes/{surveys.process_id}/surveys",
        json={"definition": body},
        headers=surveys.planner,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == (
        "definition.pages[1].questions[0].options[0].need_categories[0]"
    )


async def test_only_administrators_manage_categories(
    client: Client, login_as: LoginFactory
) -> None:
    body = {"key": "pets", "label": {"de": "Haustiere"}}
    assert (await client.post("/api/v1/need-categories", json=body)).status_code == 401
    planner = await login_as("planner")
    refused = await client.post("/api/v1/need-categories", json=body, headers=planner)
    assert refused.status_code == 403
    unknown = await client.patch(
        "/api/v1/need-categories/00000000-0000-0000-0000-000000000000",
        json={"position": 1},
        headers=await login_as("admin"),
    )
    assert unknown.status_code == 404
