"""Breaking changes between two versions of the contract (issue 13 §1).

Within v1 only additive changes are allowed (DESIGN.md §4): an operation or a property that
clients read must not disappear, a type must not narrow, and an input must not become newly
required. `breaking_changes(baseline, current)` lists every such change; the test
`tests/test_contract_tools.py` fails on any against the committed `openapi/v1-baseline.json`.
Changes under a new major path prefix (`/api/v2/`) are not compared: that is how v2 starts.

    python -m tests.support.contract openapi/v1-baseline.json openapi/openapi.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
V1 = "/api/v1/"


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document.get("components", {}).get("schemas", {}).get(name, {})
        seen += 1
    return schema


def _types(document: dict[str, Any], schema: Any) -> set[str]:
    """The JSON types a schema admits ("any" when it does not say)."""
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return {"any"}
    if isinstance(schema.get("type"), str):
        found = {schema["type"]}
        return found | ({"integer"} if "number" in found else set())
    if isinstance(schema.get("type"), list):
        return set(schema["type"])
    branches = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(branches, list):
        result: set[str] = set()
        for branch in branches:
            result |= _types(document, branch)
        return result
    if "const" in schema or "enum" in schema:
        values = schema.get("enum", [schema.get("const")])
        names = {bool: "boolean", str: "string", int: "integer", float: "number"}
        return {names.get(type(v), "null") for v in values}
    return {"any"}


def _narrowed(old_types: set[str], new_types: set[str]) -> bool:
    return "any" not in new_types and not old_types <= new_types


def _compare_schema(
    old_doc: dict[str, Any],
    new_doc: dict[str, Any],
    old: Any,
    new: Any,
    where: str,
    *,
    request: bool,
    found: list[str],
    depth: int = 0,
) -> None:
    old, new = _resolve(old_doc, old), _resolve(new_doc, new)
    if depth > 12 or not isinstance(old, dict) or not isinstance(new, dict):
        return
    old_types, new_types = _types(old_doc, old), _types(new_doc, new)
    if _narrowed(old_types, new_types):
        found.append(f"{where}: type narrowed from {sorted(old_types)} to {sorted(new_types)}")
    old_properties = old.get("properties", {})
    new_properties = new.get("properties", {})
    for name, old_property in old_properties.items():
        if name not in new_properties:
            if not request:
                found.append(f"{where}.{name}: property removed")
            continue
        _compare_schema(
            old_doc,
            new_doc,
            old_property,
            new_properties[name],
            f"{where}.{name}",
            request=request,
            found=found,
            depth=depth + 1,
        )
    if request:
        newly = set(new.get("required", [])) - set(old.get("required", []))
        for name in sorted(newly):
            found.append(f"{where}.{name}: input newly required")
    for key in ("items", "additionalProperties"):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            _compare_schema(
                old_doc,
                new_doc,
                old[key],
                new[key],
                f"{where}[]",
                request=request,
                found=found,
                depth=depth + 1,
            )


def _parameters(operation: dict[str, Any], document: dict[str, Any]) -> dict[tuple[str, str], Any]:
    found = {}
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            name = parameter["$ref"].rsplit("/", 1)[1]
            parameter = document.get("components", {}).get("parameters", {}).get(name, {})
        found[(parameter.get("in", ""), parameter.get("name", "").lower())] = parameter
    return found


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        if not path.startswith(V1):
            continue
        new_item = new.get("paths", {}).get(path, {})
        for method in METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_item:
                found.append(f"{where}: operation removed")
                continue
            old_op, new_op = old_item[method], new_item[method]
            old_parameters = _parameters(old_op, old)
            for key, parameter in _parameters(new_op, new).items():
                before = old_parameters.get(key)
                if parameter.get("required") and not (before and before.get("required")):
                    found.append(f"{where}: parameter {key[1]} newly required")
                if before is not None and _narrowed(
                    _types(old, before.get("schema")), _types(new, parameter.get("schema"))
                ):
                    found.append(f"{where}: parameter {key[1]} type narrowed")
            old_body = old_op.get("requestBody", {})
            new_body = new_op.get("requestBody", {})
            if new_body.get("required") and not old_body and "requestBody" in new_op:
                found.append(f"{where}: request body newly required")
            for media, content in new_body.get("content", {}).items():
                if media in old_body.get("content", {}):
                    _compare_schema(
                        old,
                        new,
                        old_body["content"][media].get("schema"),
                        content.get("schema"),
                        f"{where} body",
                        request=True,
                        found=found,
                    )
            for status, old_response in old_op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                new_response = new_op.get("responses", {}).get(status)
                if new_response is None:
                    found.append(f"{where}: response {status} removed")
                    continue
                new_media = {
                    m.split(";")[0].strip(): c for m, c in new_response.get("content", {}).items()
                }
                for media, content in old_response.get("content", {}).items():
                    new_content = new_media.get(media.split(";")[0].strip())
                    if new_content is None:
                        found.append(f"{where}: {status} {media} removed")
                        continue
                    _compare_schema(
                        old,
                        new,
                        content.get("schema"),
                        new_content.get("schema"),
                        f"{where} {status}",
                        request=False,
                        found=found,
                    )
    return found


def main(argv: list[str]) -> int:
    old, new = (json.loads(Path(name).read_text()) for name in argv[:2])
    changes = breaking_changes(old, new)
    for change in changes:
        print(change)
    print(f"{len(changes)} breaking change(s) against {argv[0]}")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# -- every response the test suite receives, checked against the contract --------------------

_COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


class ResponseChecker:
    """Checks a response against the committed contract: the status is documented, the media
    type is declared, a JSON body matches its schema and declared headers match theirs."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        import re

        import jsonschema_rs

        self.document = document or json.loads(_COMMITTED.read_text())
        self._jsonschema = jsonschema_rs
        self._validators: dict[str, Any] = {}
        self._routes: list[tuple[Any, str, dict[str, Any]]] = []
        for path, item in self.document.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            for method in METHODS:
                if method in item:
                    self._routes.append((pattern, method, item[method]))

    def _validator(self, schema: Any) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = self._jsonschema.validator_for(
                {**schema, "components": self.document.get("components", {})}
            )
        return self._validators[key]

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for pattern, candidate, operation in self._routes:
            if candidate == method.lower() and pattern.match(path):
                return operation
        return None

    def problems(self, method: str, path: str, status: int, headers: Any, body: bytes) -> list[str]:
        operation = self.operation(method, path)
        if operation is None:
            return []  # not an operation of the contract (pages, probes, unknown paths)
        where = f"{method} {path} {status}"
        response = operation["responses"].get(str(status))
        if response is None:
            return [f"{where}: status not documented"]
        found: list[str] = []
        components = self.document.get("components", {}).get("headers", {})
        for name, header in response.get("headers", {}).items():
            if "$ref" in header:
                header = components[header["$ref"].rsplit("/", 1)[1]]
            value = headers.get(name)
            if value is None:
                continue
            schema = header.get("schema", {})
            instance: Any = (
                int(value) if schema.get("type") == "integer" and value.isdigit() else value
            )
            if not self._validator(schema).is_valid(instance):
                found.append(f"{where}: header {name}={value!r} does not match {schema}")
        content = response.get("content")
        media_type = (headers.get("content-type") or "").split(";")[0].strip()
        if not content or not body:
            return found
        declared = {m.split(";")[0].strip(): c for m, c in content.items()}
        if media_type not in declared:
            return [*found, f"{where}: media type {media_type} not declared ({sorted(declared)})"]
        schema = declared[media_type].get("schema")
        if schema and (media_type.endswith("json")):
            try:
                instance = json.loads(body)
            except ValueError:
                return [*found, f"{where}: body is not JSON"]
            errors = [str(e).splitlines()[0] for e in self._validator(schema).iter_errors(instance)]
            found += [f"{where}: {error}" for error in errors[:3]]
        return found
