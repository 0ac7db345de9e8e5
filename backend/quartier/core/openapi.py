"""Completing the OpenAPI document from what each operation declares.

Every operation documents the problem responses it can give, derived from its shape: input
(400), access rule (401/403), path parameters (404), a body (413/415), rate limits (429), and
the database (503).
Handlers document their own domain-specific problems (409, 422) with `responses=`.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from quartier.core.errors import PROBLEM_MEDIA_TYPE, STATUS_SLUGS, ProblemDetails
from quartier.core.security import Access

_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each field in error.",
    401: "Authentication required: a staff session or an API token.",
    403: "The caller's role or token scopes do not allow this operation.",
    404: "No such resource.",
    409: "The request conflicts with the current state.",
    413: "The request body is larger than allowed.",
    415: "The request body is not `application/json`.",
    422: "The request is well-formed but cannot be processed.",
    429: "Too many requests; see `Retry-After`.",
    500: "Unexpected error; the response carries a correlation id.",
    503: "The database is temporarily unavailable; retry later.",
}


def problem_spec(status: int, description: str | None = None) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        description=description or _DESCRIPTIONS.get(status, STATUS_SLUGS[status][1]),
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` for a handler's domain-specific problems, e.g. ``problems(409)``."""
    return {status: problem_spec(status) for status in statuses}


def _statuses_for(handler: HTTPRouteHandler, path: str) -> set[int]:
    statuses = {429, 500, 503}  # every operation is rate limited (core.ratelimit)
    fields = handler.parsed_fn_signature.parameters
    has_body = "data" in fields
    if fields or "{" in path:
        statuses |= {400, 422}  # 422: schema-valid but refused by the domain
    if "{" in path:
        statuses.add(404)
    if has_body:
        statuses |= {400, 413, 415}
    rule = handler.opt.get("access")
    if isinstance(rule, Access) and not rule.public:
        statuses |= {401, 403}
    return statuses


def document_operations(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            responses: dict[int, Any] = dict(handler.responses or {})
            for status in _statuses_for(handler, route.path):
                responses.setdefault(status, problem_spec(status))
            handler.responses = responses
            rule = handler.opt.get("access")
            if isinstance(rule, Access) and handler.security is None:
                if rule.public:
                    # Anyone may call it; a credential is optional and may show more (drafts).
                    handler.security = [{}, {"bearerToken": []}, {"session": []}]
                else:
                    security: list[dict[str, list[str]]] = [{"session": []}]
                    if rule.scopes:
                        security.insert(0, {"bearerToken": sorted(rule.scopes)})
                    handler.security = security


# No NUL characters in any input string (core.middleware.nul_guard_middleware enforces it).
NO_NUL_PATTERN = "^[^\\u0000]*$"


JSON_VALUE = "JsonValue"


def _json_value_schema() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/" + JSON_VALUE}
    return {
        "description": "Any JSON value; no string or key contains a NUL character.",
        "anyOf": [
            {"type": "string", "pattern": NO_NUL_PATTERN},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
            {"type": "array", "items": ref},
            {
                "type": "object",
                "propertyNames": {"pattern": NO_NUL_PATTERN},
                "additionalProperties": ref,
            },
        ],
    }


def close_request_schemas(document: dict[str, Any]) -> None:
    """State in the contract what the server enforces on every input, which Litestar does not
    emit by itself: object schemas reachable from a request body are `additionalProperties:
    false` (input Structs forbid unknown fields; a test checks it), and strings without a
    stricter pattern, format or enumeration carry a pattern excluding NUL characters."""
    components: dict[str, Any] = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def close(schema: Any) -> None:
        if isinstance(schema, list):
            for item in schema:
                close(item)
            return
        if not isinstance(schema, dict):
            return
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
            name = reference.rsplit("/", 1)[1]
            if name not in seen and name in components:
                seen.add(name)
                close(components[name])
            return
        if (
            schema.get("type") == "string"
            and "pattern" not in schema
            and "enum" not in schema
            and "const" not in schema
            and "format" not in schema
        ):
            schema["pattern"] = NO_NUL_PATTERN
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
            for name, sub_schema in schema["properties"].items():
                if sub_schema == {} or set(sub_schema) <= {"description", "title"}:
                    # any JSON value (e.g. GeoJSON coordinates): still no NUL
                    schema["properties"][name] = {
                        **sub_schema,
                        "$ref": "#/components/schemas/" + JSON_VALUE,
                    }
                    components.setdefault(JSON_VALUE, _json_value_schema())
                close(schema["properties"][name])
        for key in ("additionalProperties", "items"):
            if schema.get(key) == {}:  # any JSON value: still no NUL in strings and keys
                schema[key] = {"$ref": "#/components/schemas/" + JSON_VALUE}
                components.setdefault(JSON_VALUE, _json_value_schema())
        extra = schema.get("additionalProperties")
        if schema.get("type") == "object" and isinstance(extra, dict):
            # free-form maps (answers by question key, GeoJSON properties): keys and values
            schema.setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})
            close(extra)
        for key in ("items", "oneOf", "anyOf", "allOf", "prefixItems"):
            if key in schema:
                close(schema[key])

    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                close(parameter.get("schema"))
            if "requestBody" in operation:
                for media in operation["requestBody"].get("content", {}).values():
                    close(media.get("schema"))


_CONSTRAINTS = (
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "enum",
)


def request_structs(app: Litestar) -> list[type[msgspec.Struct]]:
    """Every msgspec Struct a request body of the API can contain."""
    found: list[type[msgspec.Struct]] = []

    def visit(annotation: Any) -> None:
        for argument in typing.get_args(annotation):
            visit(argument)
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            if annotation in found:
                return
            found.append(annotation)
            for hint in typing.get_type_hints(annotation, include_extras=True).values():
                visit(hint)

    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/"):
            for handler in route.route_handlers:
                data = handler.parsed_fn_signature.parameters.get("data")
                if data is not None:
                    visit(data.annotation)
    return found


def restore_nested_constraints(
    document: dict[str, Any], structs: list[type[msgspec.Struct]]
) -> None:
    """Litestar drops the constraints of list items and map values (`list[Annotated[str,
    Meta(min_length=1)]]` becomes `items: {type: string}`), so the contract would admit what
    the server refuses. Copy them from msgspec's own schema of the same Structs."""
    if not structs:
        return
    _, definitions = msgspec.json.schema_components(structs)
    components: dict[str, Any] = document.get("components", {}).get("schemas", {})

    def branches(schema: dict[str, Any]) -> list[Any]:
        return list(schema.get("oneOf") or schema.get("anyOf") or [schema])

    def merge(ours: Any, theirs: Any) -> None:
        if not isinstance(ours, dict) or not isinstance(theirs, dict):
            return
        for our_branch in branches(ours):
            for their_branch in branches(theirs):
                if not isinstance(our_branch, dict) or not isinstance(their_branch, dict):
                    continue
                if our_branch.get("type") != their_branch.get("type"):
                    continue
                if "$ref" not in our_branch:
                    # the schema itself, or each branch of a union, keeps its own bounds
                    for constraint in _CONSTRAINTS:
                        if constraint in their_branch and constraint not in our_branch:
                            our_branch[constraint] = their_branch[constraint]
                for key in ("items", "additionalProperties"):
                    target, source = our_branch.get(key), their_branch.get(key)
                    if not isinstance(target, dict) or not isinstance(source, dict):
                        continue
                    if target.get("type") == source.get("type") and "$ref" not in target:
                        for constraint in _CONSTRAINTS:
                            if constraint in source and constraint not in target:
                                target[constraint] = source[constraint]
                    merge(target, source)

    # Litestar names generic Structs after the full type path (Option_quartier.x.Text_),
    # msgspec after the short name (Option_Text_).
    by_short_name = {
        re.sub(r"(?<=_)(?:[a-z][a-z0-9_]*\.)+(?=[A-Z])", "", name): name for name in components
    }
    for name, theirs in definitions.items():
        ours = components.get(by_short_name.get(name, name))
        if not isinstance(ours, dict):
            continue
        for field, their_field in theirs.get("properties", {}).items():
            merge(ours.get("properties", {}).get(field), their_field)
