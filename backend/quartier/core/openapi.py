"""Completing the OpenAPI document from what each operation declares.

Every operation documents the problem responses it can give, derived from its shape: input
(400), access rule (401/403), path parameters (404), a body (413/415), rate limits (429), and
the database (503).
Handlers document their own domain-specific problems (409, 422) with `responses=`.
"""

from __future__ import annotations

from typing import Any

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
        statuses.add(400)
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
            if isinstance(rule, Access) and not rule.public and handler.security is None:
                security: list[dict[str, list[str]]] = [{"session": []}]
                if rule.scopes:
                    security.insert(0, {"bearerToken": sorted(rule.scopes)})
                handler.security = security


# No NUL characters in any input string (core.middleware.nul_guard_middleware enforces it).
NO_NUL_PATTERN = "^[^\\u0000]*$"


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
            for sub_schema in schema["properties"].values():
                close(sub_schema)
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
