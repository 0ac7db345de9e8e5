"""Issue 13 §1: the contract as independent tools read it (openapi-spec-validator,
openapi-python-client, JSON Schema validating gateways). One test per finding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema_rs
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from tests.conftest import TokenFactory
from tests.support.contract import breaking_changes
from tests.support.generated_client import GeneratedClient, generate

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "openapi" / "openapi.json"
DOCUMENT: dict[str, Any] = json.loads(COMMITTED.read_text())
COMPONENTS = DOCUMENT["components"]["schemas"]
METHODS = {"get", "post", "put", "patch", "delete"}


def _operations() -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in DOCUMENT["paths"].values()
        for method, op in item.items()
        if method in METHODS
    }


def _schema_validator(name: str) -> Any:
    """A JSON Schema (2020-12) validator for one component, as a validating gateway uses it."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return jsonschema_rs.validator_for(schema)


def test_openapi_spec_validator_accepts_the_contract() -> None:
    validate(DOCUMENT)  # raises on any error, e.g. a Header Object without `schema`


def test_every_response_header_has_a_schema() -> None:
    headers = DOCUMENT["components"]["headers"]
    for operation_id, operation in _operations().items():
        for status, response in operation["responses"].items():
            for name, header in response.get("headers", {}).items():
                if "$ref" in header:
                    header = headers[header["$ref"].rsplit("/", 1)[1]]
                assert "schema" in header, f"{operation_id} {status} {name}"


def test_whole_numbers_are_valid_answers() -> None:
    """`oneOf: [integer, number]` rejected every whole number ("valid under each of")."""
    submission = _schema_validator("ResponseSubmission")
    assert submission.is_valid({"answers": {"rating": 4}})
    assert submission.is_valid({"answers": {"rating": 4.5}})
    paper = _schema_validator("PaperResponse")
    assert paper.is_valid({"answers": {"rating": 3}})
    assert _schema_validator("Equals").is_valid({"op": "equals", "question": "rating", "value": 2})


def test_alternative_scopes_are_alternative_requirements() -> None:
    for operation_id, operation in _operations().items():
        for requirement in operation.get("security", []):
            for scheme, scopes in requirement.items():
                assert len(scopes) <= 1, f"{operation_id}: {scheme} {scopes} means all of them"
    needs = _operations()["GetAggregatedNeeds"]["security"]
    assert {"bearerToken": ["surveys:read"]} in needs
    assert {"bearerToken": ["exports:read"]} in needs


async def test_either_scope_is_enough_as_the_contract_says(
    client: AsyncTestClient[Litestar], make_token: TokenFactory
) -> None:
    for scope in ("processes:read", "surveys:write"):
        headers = await make_token({scope})
        response = await client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 200, scope
    assert {"bearerToken": ["processes:read"]} in _operations()["GetCurrentPrincipal"]["security"]


def test_language_and_rate_limit_headers_are_declared() -> None:
    for operation_id, operation in _operations().items():
        parameters = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation["parameters"]}
        assert {"lang", "AcceptLanguage"} <= parameters, operation_id
        for status, response in operation["responses"].items():
            declared = set(response.get("headers", {}))
            assert {"Content-Language", "RateLimit-Limit"} <= declared, (operation_id, status)
        assert "Retry-After" in operation["responses"]["429"]["headers"], operation_id
    submit = _operations()["SubmitSurveyResponse"]["responses"]["201"]["headers"]
    assert "Idempotent-Replayed" in submit


def test_descriptions_name_the_status_the_server_answers() -> None:
    for operation_id in ("ListProcesses", "CreateProcess", "AddProcessRole", "UpdatePhase"):
        description = _operations()[operation_id]["description"]
        assert "a 400" not in description and "(400" not in description, operation_id
        assert "422" in description, operation_id


async def test_unknown_area_filter_is_the_documented_422(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/api/v1/processes", params={"area": "no-such-area"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "area"


def test_schema_titles_are_distinct() -> None:
    titles = [s["title"] for s in COMPONENTS.values() if "title" in s]
    assert sorted({t for t in titles if titles.count(t) > 1}) == []


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"].rsplit("/", 1)[1])
        for value in node.values():
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def test_free_form_json_value_is_not_recursive() -> None:
    assert "JsonValue" not in _references(COMPONENTS["JsonValue"])
    geometry = _schema_validator("GeometryIn")
    polygon = [[[13.3, 52.5], [13.4, 52.5], [13.4, 52.6], [13.3, 52.5]]]
    assert geometry.is_valid({"type": "MultiPolygon", "coordinates": [polygon]})
    assert not geometry.is_valid({"type": "Point", "coordinates": ["\u0000"]})


def test_no_schema_refers_to_itself_through_others() -> None:
    """Bounded recursive schemas (survey definitions' display conditions, free-form JSON) are
    spelled out level by level: no reference cycle for Schemathesis or generators to chase."""
    graph = {name: _references(schema) for name, schema in COMPONENTS.items()}

    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph.get(name, ()))
        return seen

    assert sorted(name for name in graph if name in reaches(name)) == []


def test_responses_without_a_body_declare_no_content() -> None:
    """SignOut's 204 declared a JSON `null` body: the generated client parsed the empty body
    and raised (found by reading every response with the generated client)."""
    for operation_id, operation in _operations().items():
        for status in ("204", "304"):
            assert "content" not in operation["responses"].get(status, {}), operation_id


def test_the_generated_client_check_finds_what_the_models_cannot_read(
    generated_client: GeneratedClient,
) -> None:
    """The check every test client response goes through (tests/conftest.py `client`)."""
    me = _operations()["GetCurrentPrincipal"]
    headers = {"content-type": "application/json"}
    assert generated_client.problems(me, 200, headers, b"{}", "me") != []
    assert generated_client.problems(me, 404, headers, b"{}", "me") != []  # an undocumented status
    export = _operations()["ExportAggregatedNeeds"]
    csv = {"content-type": "text/csv; charset=utf-8"}
    assert generated_client.problems(export, 200, csv, b"# x\r\n", "export") == []  # skipped


def test_generated_client_has_zero_warnings(tmp_path: Path) -> None:
    """openapi-python-client generates every operation and model: no warning at all (with the
    committed generator configuration that reads the binary downloads as bytes)."""
    output = generate(tmp_path / "client")
    assert "Warning" not in output and "WARNING" not in output, output
    api = tmp_path / "client" / "api"
    modules = {p.stem for p in api.rglob("*.py") if p.stem != "__init__"}
    assert "import_social_areas" in modules
    models = {p.stem for p in (tmp_path / "client" / "models").glob("*.py")}
    assert {"aggregated_needs", "survey_results", "metadata", "result_group"} <= models
    shutil.rmtree(tmp_path / "client")


# Declarations of the baseline that were wrong: the server never did what they said, so the
# corrected contract breaks no client that worked. Each entry says what the server always did.
CORRECTIONS = {
    "POST /api/v1/auth/logout: 204 application/json removed": (
        "a 204 has no body and the server never sent one; the baseline declared a JSON `null` "
        "body, which the generated client tried to parse and raised on every sign-out"
    ),
    "GET /api/v1/social-areas/geojson 200: type narrowed from ['string'] to ['object']": (
        "the server has always sent a GeoJSON FeatureCollection object (application/geo+json); "
        "the baseline declared a string, which validating clients rejected (found by "
        "Schemathesis, response schema conformance)"
    ),
}


def test_no_breaking_change_against_the_v1_baseline() -> None:
    baseline = json.loads((ROOT / "openapi" / "v1-baseline.json").read_text())
    found = breaking_changes(baseline, DOCUMENT)
    assert [change for change in found if change not in CORRECTIONS] == []
    assert sorted(set(CORRECTIONS) - set(found)) == []  # no stale excuse


def _tiny(**changes: Any) -> dict[str, Any]:
    """A one-operation contract to check the breaking-change rules on."""
    item_schema: dict[str, Any] = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "count": {"type": "number"}},
    }
    body: dict[str, Any] = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "note": {"type": "string"}},
    }
    operation: dict[str, Any] = {
        "operationId": "CreateThing",
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": body}}},
        "responses": {"201": {"content": {"application/json": {"schema": item_schema}}}},
    }
    for key, value in changes.items():
        target, _, name = key.rpartition("__")
        {"item": item_schema["properties"], "body": body, "op": operation}[target][name] = value
    return {"paths": {"/api/v1/things": {"post": operation}}}


def test_breaking_changes_are_recognised() -> None:
    base = _tiny()
    assert breaking_changes(base, _tiny()) == []
    removed = _tiny()
    del removed["paths"]["/api/v1/things"]["post"]["responses"]["201"]["content"][
        "application/json"
    ]["schema"]["properties"]["count"]
    assert breaking_changes(base, removed) == ["POST /api/v1/things 201.count: property removed"]
    narrowed = _tiny(item__count={"type": "integer"})
    assert breaking_changes(base, narrowed) == [
        "POST /api/v1/things 201.count: type narrowed from ['integer', 'number'] to ['integer']"
    ]
    required = _tiny(body__required=["name", "note"])
    assert breaking_changes(base, required) == [
        "POST /api/v1/things body.note: input newly required"
    ]
    parameter = _tiny(op__parameters=[{"name": "q", "in": "query", "required": True}])
    assert breaking_changes(base, parameter) == ["POST /api/v1/things: parameter q newly required"]
    assert breaking_changes(base, {"paths": {}}) == ["POST /api/v1/things: operation removed"]
    # widening and additions are fine; a v2 path is not compared
    widened = _tiny(item__extra={"type": "string"}, body__required=[])
    assert breaking_changes(base, widened) == []
    moved = {"paths": {"/api/v1/things": {}, "/api/v2/things": base["paths"]["/api/v1/things"]}}
    assert breaking_changes({"paths": {"/api/v2/x": {"get": {}}}}, moved) == []
