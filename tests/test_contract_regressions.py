"""Regression tests for what Schemathesis found in the contract (one test per finding)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import LoginFactory, TokenFactory

DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[1] / "openapi" / "openapi.json").read_text()
)
COMPONENTS = DOCUMENT["components"]["schemas"]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (m.upper(), p, op)
        for p, item in DOCUMENT["paths"].items()
        for m, op in item.items()
        if m in {"get", "post", "put", "patch", "delete"}
    ]


def _request_schemas(schema: Any, seen: set[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, list):
        for item in schema:
            found += _request_schemas(item, seen)
    elif isinstance(schema, dict):
        found.append(schema)
        reference = schema.get("$ref", "")
        if reference.startswith("#/components/schemas/"):
            name = reference.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                found += _request_schemas(COMPONENTS[name], seen)
        for value in schema.values():
            if isinstance(value, dict | list):
                found += _request_schemas(value, seen)
    return found


def _body_schemas() -> list[dict[str, Any]]:
    seen: set[str] = set()
    schemas: list[dict[str, Any]] = []
    for _, _, operation in _operations():
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schemas += _request_schemas(media["schema"], seen)
    return schemas


def test_domain_refusals_are_documented_as_422() -> None:
    for method, path, operation in _operations():
        own = [p for p in operation.get("parameters", []) if "$ref" not in p]
        if own or "requestBody" in operation:
            assert "422" in operation["responses"], f"{method} {path}"


def test_public_operations_declare_optional_credentials() -> None:
    public = [op for _, p, op in _operations() if op["operationId"] == "GetContributionsMatrix"]
    assert public[0]["security"][0] == {}


def test_no_request_schema_accepts_any_value_unchecked() -> None:
    for schema in _body_schemas():
        for key in ("additionalProperties", "items"):
            assert schema.get(key) != {}, f"{key} accepts any value: {schema}"


def test_request_strings_exclude_nul_and_patterns_avoid_backslash_s() -> None:
    for schema in _body_schemas():
        pattern = schema.get("pattern", "")
        assert not re.search(r"\\[sS]", pattern), pattern  # \s differs in ECMAScript and Python
        if schema.get("type") == "string" and not {"enum", "const", "format"} & schema.keys():
            assert pattern, schema


def test_list_item_constraints_survive_into_the_contract() -> None:
    area_codes = COMPONENTS["ProcessCreate"]["properties"]["area_codes"]
    assert area_codes["items"]["minLength"] == 1
    assert area_codes["items"]["maxLength"] == 32


async def test_control_characters_in_an_email_are_a_400_like_the_contract_says(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    response = await client.post(
        "/api/v1/staff-accounts",
        headers=admin,
        json={
            "email": "a\x1c@example.org",
            "display_name": "X",
            "role": "planner",
            "password": "ein langes Passwort",
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


async def test_datetimes_without_offset_are_refused(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    naive = await client.post(
        "/api/v1/api-tokens",
        headers=admin,
        json={"name": "GIS", "scopes": ["areas:write"], "expires_at": "2030-01-01T00:00:00"},
    )
    assert naive.status_code == 400
    aware = await client.post(
        "/api/v1/api-tokens",
        headers=admin,
        json={"name": "GIS", "scopes": ["areas:write"], "expires_at": "2030-01-01T00:00:00+01:00"},
    )
    assert aware.status_code == 201


async def test_json_bodies_are_decoded_strictly(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    """Litestar converts arguments leniently; bodies must not accept 0 as a date or "no"
    as a boolean (Schemathesis found both)."""
    admin = await login_as("admin")
    epoch = await client.post(
        "/api/v1/api-tokens",
        headers=admin,
        json={"name": "GIS", "scopes": ["areas:write"], "expires_at": 0},
    )
    assert epoch.status_code == 400
    assert epoch.json()["errors"][0]["field"] == "expires_at"
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    text_bool = await client.patch(
        f"/api/v1/staff-accounts/{me['id']}", headers=admin, json={"is_active": "true"}
    )
    assert text_bool.status_code == 400
    assert text_bool.json()["errors"][0]["field"] == "is_active"


async def test_integral_floats_are_integers_as_in_json_schema(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    response = await client.post(
        "/api/v1/organisations",
        headers=admin,
        json={"name": "AWO Kreisverband", "type": "welfare_organisation"},
    )
    assert response.status_code == 201
    listed = await client.get("/api/v1/organisations", params={"limit": "5"})
    assert listed.status_code == 200
    bad_float = await client.post(
        "/api/v1/api-tokens", headers=admin, json={"name": 4.5, "scopes": ["areas:write"]}
    )
    assert bad_float.status_code == 400


async def test_an_unreadable_population_csv_is_reported_not_a_500(
    client: AsyncTestClient[Litestar], make_token: TokenFactory
) -> None:
    headers = await make_token({"areas:write"})
    url = "/api/v1/social-areas/import"
    stray_return = "id,inhabitants\n01,\r5\n"
    answered = await client.post(
        url,
        headers=headers,
        json={"levels": [], "population": [{"csv": stray_return, "reference_date": "2020-12-31"}]},
    )
    assert answered.status_code == 422
    oversized_field = "id,inhabitants\n" + "1" * 200_000 + ",5\n"  # beyond csv's field limit
    response = await client.post(
        url,
        headers=headers,
        json={
            "levels": [],
            "population": [{"csv": oversized_field, "reference_date": "2020-12-31"}],
        },
    )
    assert response.status_code == 422
    assert "cannot be read" in response.text
