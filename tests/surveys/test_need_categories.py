"""Need categories: the seeded list is public, administrators add, change and deactivate
categories, and deactivated categories can no longer be tagged."""

from __future__ import annotations

from typing import Any

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


async def test_creating_is_idempotent_and_tokens_that_write_surveys_may_change_categories(
    client: Client, login_as: LoginFactory, make_token: Any
) -> None:
    body = {"key": "digital_help", "label": {"de": "Digitale Hilfe", "ar": "مساعدة رقمية"}}
    writer = await make_token({"surveys:write"})
    first = await client.post(
        "/api/v1/need-categories", json=body, headers={**writer, "Idempotency-Key": "cat-1"}
    )
    assert first.status_code == 201, first.text
    again = await client.post(
        "/api/v1/need-categories", json=body, headers={**writer, "Idempotency-Key": "cat-1"}
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other_body = await client.post(
        "/api/v1/need-categories",
        json={**body, "key": "digital_other"},
        headers={**writer, "Idempotency-Key": "cat-1"},
    )
    assert other_body.status_code == 422  # the key was used for another body
    assert other_body.headers["content-type"].startswith("application/problem+json")

    reader = await make_token({"surveys:read"})
    refused = await client.patch(
        f"/api/v1/need-categories/{first.json()['id']}",
        json={"is_active": False},
        headers=reader,
    )
    assert refused.status_code == 403
    planner = await login_as("planner")
    assert (
        await client.post("/api/v1/need-categories", json={**body, "key": "x_y"}, headers=planner)
    ).status_code == 403
    too_long = await client.post(
        "/api/v1/need-categories",
        json={"key": "long_label", "label": {"de": "x" * 4_001}},
        headers=writer,
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"].startswith("label")


async def test_the_staff_page_lists_adds_edits_and_deactivates_categories(
    client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    html = {**admin, "Accept": "text/html", "Accept-Language": "en"}
    dashboard = await client.get("/workspace/password", headers=html)
    assert 'href="/workspace/need-categories"' in dashboard.text
    planner = await login_as("planner")
    assert (
        await client.get("/workspace/need-categories", headers={**planner, "Accept": "text/html"})
    ).status_code == 403
    page = await client.get("/workspace/need-categories", headers=html)
    assert page.status_code == 200 and "childcare" in page.text
    for name in ("key", "label", "label_en", "label_simple", "label_tr", "label_ar", "position"):
        assert f'name="{name}"' in page.text

    bad = await client.post(
        "/workspace/need-categories",
        data={"key": "Bad Key", "label": "", "label_en": "Help"},
        headers=html,
    )
    assert bad.status_code == 400
    assert 'href="#key"' in bad.text and 'href="#label"' in bad.text
    assert 'value="Help"' in bad.text
    taken = await client.post(
        "/workspace/need-categories", data={"key": "childcare", "label": "Noch mal"}, headers=html
    )
    assert taken.status_code == 409 and 'href="#key"' in taken.text

    created = await client.post(
        "/workspace/need-categories",
        data={"key": "loneliness", "label": "Einsamkeit", "label_en": "Loneliness"},
        headers=html,
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    items = (
        await client.get("/api/v1/need-categories?include_inactive=true", headers=admin)
    ).json()["items"]
    category = next(item for item in items if item["key"] == "loneliness")
    assert category["label"] == {"de": "Einsamkeit", "en": "Loneliness"}

    url = f"/workspace/need-categories/{category['id']}"
    edit = await client.get(url, headers=html)
    assert 'value="Loneliness"' in edit.text
    saved = await client.post(
        url,
        data={
            "label": "Einsamkeit im Alter",
            "label_en": "",
            "label_tr": "Yalnızlık",
            "position": "5",
        },
        headers=html,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    deactivated = await client.post(
        f"{url}/active", data={"active": "false"}, headers=html, follow_redirects=False
    )
    assert deactivated.status_code == 303
    assert deactivated.headers["location"].endswith("?done=deactivated")
    items = (
        await client.get("/api/v1/need-categories?include_inactive=true", headers=admin)
    ).json()["items"]
    category = next(item for item in items if item["key"] == "loneliness")
    assert category["label"] == {"de": "Einsamkeit im Alter", "tr": "Yalnızlık"}
    assert category["position"] == 5 and category["is_active"] is False
    listed = await client.get("/workspace/need-categories", headers=html)
    assert "Einsamkeit im Alter" in listed.text and "Deactivated" in listed.text
    reactivated = await client.post(
        f"{url}/active", data={"active": "true"}, headers=html, follow_redirects=False
    )
    assert reactivated.headers["location"].endswith("?done=reactivated")
    public = [i["key"] for i in (await client.get("/api/v1/need-categories")).json()["items"]]
    assert "loneliness" in public
