"""The published contract: the committed openapi/openapi.json is what the app serves."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
SNAKE_CASE = r"[a-z][a-z0-9_]*"
HEADER_NAME = r"[A-Z][A-Za-z0-9]*(-[A-Z][A-Za-z0-9]*)*"  # HTTP style: Idempotency-Key
# Multilingual texts are objects keyed by language tag (de, en, de-x-simple).
LANGUAGE_TAGS = {"de-x-simple"}


async def test_served_contract_equals_committed_contract(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.content == COMMITTED.read_bytes(), (
        "openapi/openapi.json is out of date: run `make openapi` and review the diff"
    )


def test_every_operation_follows_the_conventions() -> None:
    document = json.loads(COMMITTED.read_text())
    assert document["openapi"].startswith("3.1")
    operation_ids: set[str] = set()
    for path, item in document["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            operation_id = operation.get("operationId", "")
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", operation_id), where
            assert operation_id not in operation_ids, f"duplicate operationId {operation_id}"
            operation_ids.add(operation_id)
            assert operation.get("summary"), f"{where} lacks a summary"
            assert operation.get("description"), f"{where} lacks a description"
            assert operation.get("tags"), f"{where} lacks tags"
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert "500" in errors, f"{where} does not document its errors"
            for code in errors:
                content = operation["responses"][code].get("content", {})
                assert "application/problem+json" in content, f"{where} {code} not problem+json"
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = document["components"]["parameters"][
                        parameter["$ref"].split("/")[-1]
                    ]
                pattern = HEADER_NAME if parameter["in"] == "header" else SNAKE_CASE
                assert re.fullmatch(pattern, parameter["name"]), f"{where}: {parameter['name']}"


def _properties(schema: object) -> list[str]:
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                found.extend(value)
                # The values are schemas: a property may itself be named `properties` (GeoJSON).
                for member in value.values():
                    found.extend(_properties(member))
            else:
                found.extend(_properties(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_properties(value))
    return found


def test_json_properties_are_snake_case() -> None:
    document = json.loads(COMMITTED.read_text())
    for name in _properties(document["components"].get("schemas", {})):
        assert re.fullmatch(SNAKE_CASE, name) or name in LANGUAGE_TAGS, name


def test_request_schemas_refuse_unknown_fields(app: Litestar) -> None:
    """Every Struct a request body can contain forbids unknown fields, as the contract says."""
    import msgspec
    from litestar.handlers import HTTPRouteHandler
    from litestar.routes import HTTPRoute

    def structs(annotation: object, found: set[type]) -> None:
        for arg in typing.get_args(annotation):
            structs(arg, found)
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            if annotation in found:
                return
            found.add(annotation)
            for hint in typing.get_type_hints(annotation, include_extras=True).values():
                structs(hint, found)

    found: set[type] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                assert isinstance(handler, HTTPRouteHandler)
                data = handler.parsed_fn_signature.parameters.get("data")
                if data is not None and route.path.startswith("/api/"):
                    structs(data.annotation, found)
    open_structs = sorted(
        s.__name__ for s in found if not s.__struct_config__.forbid_unknown_fields
    )
    assert open_structs == []
