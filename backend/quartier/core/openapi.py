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

from quartier.core.conditional import (
    IF_MODIFIED_SINCE_MAX,
    IF_NONE_MATCH_MAX,
    Cacheable,
    cacheable_of,
)
from quartier.core.errors import PROBLEM_MEDIA_TYPE, STATUS_SLUGS, ProblemDetails
from quartier.core.idempotency import IDEMPOTENCY_KEY
from quartier.core.middleware import ACCEPT_LANGUAGE_MAX, LANG_MAX
from quartier.core.security import Access
from quartier.settings import KNOWN_LANGUAGES

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
    # every operation is rate limited (core.ratelimit) and takes `lang` / `Accept-Language`
    # (a NUL character in them is a 400, core.middleware)
    statuses = {400, 429, 500, 503}
    fields = handler.parsed_fn_signature.parameters
    has_body = "data" in fields
    if fields or "{" in path:
        statuses |= {400, 422}  # 422: schema-valid but refused by the domain
    if "{" in path:
        statuses.add(404)
    if has_body:
        statuses |= {400, 413, 415}
    if any(getattr(f.kwarg_definition, "header", None) == IDEMPOTENCY_KEY for f in fields.values()):
        statuses |= {409, 422}  # a retry while the first is in flight; the key reused
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
                    # One requirement per scope: the server accepts a token with any one of
                    # them (several scopes in one requirement would mean all of them).
                    security: list[dict[str, list[str]]] = [
                        {"bearerToken": [scope]} for scope in sorted(rule.scopes)
                    ]
                    security.append({"session": []})
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
            schema.setdefault("propertyNames", {}).setdefault("pattern", NO_NUL_PATTERN)
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
    "minProperties",
    "maxProperties",
    "enum",
)


def request_structs(app: Litestar) -> list[type[msgspec.Struct]]:
    """Every msgspec Struct a request body of the API can contain."""
    found: list[type[msgspec.Struct]] = []

    def visit(annotation: Any) -> None:
        for argument in typing.get_args(annotation):
            visit(argument)
        origin = typing.get_origin(annotation)
        if isinstance(origin, type) and issubclass(origin, msgspec.Struct):
            visit(origin)  # a generic Struct (`SurveyDefinition[Text]`)
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
                    if isinstance(their_branch.get("propertyNames"), dict):
                        # map keys (`dict[Key, …]`): msgspec's bounds on them are the server's
                        our_branch["propertyNames"] = {
                            **our_branch.get("propertyNames", {}),
                            **their_branch["propertyNames"],
                        }
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


# -- what the server sends and accepts on every operation (issue 13) ------------------------------

LANGUAGE_DESCRIPTION = (
    "Content language: `de` (default), `en`, `de-x-simple` (easy-read German where a text "
    "has one), `tr` or `ar`, as the deployment enables them. `lang` wins over the "
    "`quartier_lang` cookie, which wins over `Accept-Language`; an unknown value is ignored. "
    "The response states the language in `Content-Language`."
)
HEADERS: dict[str, dict[str, Any]] = {
    "Content-Language": {
        "description": "The negotiated content language (`de`, `en`, `de-x-simple`, `tr` or `ar`).",
        "schema": {"type": "string", "enum": list(KNOWN_LANGUAGES)},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed per window for this caller and class of operation.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the window resets.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response of an earlier request with the "
        "same `Idempotency-Key` and body (nothing was created).",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
CONDITIONAL_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": 'Validator of the representation: strong (`"…"`) for the identity '
        'body, weak (`W/"…"`) where it is sent compressed. Send it back in `If-None-Match`.',
        "schema": {"type": "string", "pattern": '^(W/)?"[A-Za-z0-9_-]+"$'},
    },
    "Last-Modified": {
        "description": "When the data of this representation last changed (IMF-fixdate).",
        "schema": {"type": "string", "maxLength": 40},
    },
    "Cache-Control": {
        "description": "`public, max-age=N` for requests without credentials or cookies, "
        "`private, max-age=N` with cookies, `private, no-store` for staff and API tokens.",
        "schema": {
            "type": "string",
            "pattern": "^(public, max-age=[0-9]+|private, max-age=[0-9]+|private, no-store)$",
        },
    },
}
HEADERS.update(CONDITIONAL_HEADERS)
CONDITIONAL_PARAMETERS: dict[str, dict[str, Any]] = {
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags of copies the caller holds (or `*`): 304 without a body when one "
        "matches the current representation (weak comparison).",
        "schema": {"type": "string", "maxLength": IF_NONE_MATCH_MAX, "pattern": NO_NUL_PATTERN},
    },
    "IfModifiedSince": {
        "name": "If-Modified-Since",
        "in": "header",
        "required": False,
        "description": "Without `If-None-Match`: 304 when the data has not changed since this "
        "time (IMF-fixdate), for operations that send `Last-Modified`; ignored when unreadable.",
        "schema": {
            "type": "string",
            "maxLength": IF_MODIFIED_SINCE_MAX,
            "pattern": NO_NUL_PATTERN,
        },
    },
}
_HEADER_REF = "#/components/headers/"
# Statuses answered before the language is negotiated or the rate limit is counted (the
# middleware refuses them early) carry these headers only sometimes: they stay optional.
_RATE_LIMITED_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": _HEADER_REF + name} for name in names}


def _int_or_number(schema: dict[str, Any]) -> None:
    """`oneOf: [integer, number]` makes every whole number invalid ("valid under each"): the
    number branch covers integers, so the integer branch goes."""
    branches = schema.get("oneOf")
    if not isinstance(branches, list):
        return
    types = [b.get("type") if isinstance(b, dict) else None for b in branches]
    if "integer" in types and "number" in types:
        schema["oneOf"] = [b for b, t in zip(branches, types, strict=True) if t != "integer"]


def _walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


# GeoJSON coordinates nest four deep (MultiPolygon); free-form property values as deep.
JSON_VALUE_DEPTH = 4


def _bounded_json_value(depth: int) -> dict[str, Any]:
    """Any JSON value nested at most `depth` deep, without recursion: a recursive schema keeps
    the operations using it out of generated clients (openapi-python-client)."""
    branches: list[dict[str, Any]] = [
        {"type": "string", "pattern": NO_NUL_PATTERN},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
    ]
    if depth > 0:
        inner = _bounded_json_value(depth - 1)
        branches.append({"type": "array", "items": inner})
    return {"anyOf": branches}


#: A request Struct that is part of a recursive type sets this class variable to the number of
#: levels the server accepts (see `_unroll_recursion`).
NESTING_ATTRIBUTE = "contract_nesting_levels"
_SCHEMA_REF = "#/components/schemas/"


def nesting_levels(structs: list[type[msgspec.Struct]]) -> dict[str, int]:
    """Component name → levels, for the request Structs that declare their nesting bound."""
    return {
        struct.__name__: getattr(struct, NESTING_ATTRIBUTE)
        for struct in structs
        if isinstance(getattr(struct, NESTING_ATTRIBUTE, None), int)
    }


def _references(node: Any) -> set[str]:
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("$ref"), str) and value["$ref"].startswith(_SCHEMA_REF):
                found.add(value["$ref"].removeprefix(_SCHEMA_REF))
            for inner in value.values():
                visit(inner)
        elif isinstance(value, list):
            for inner in value:
                visit(inner)

    visit(node)
    return found


def _recursive(components: dict[str, Any]) -> set[str]:
    """The component schemas that reach themselves through references."""
    edges = {name: _references(schema) for name, schema in components.items()}
    recursive = set()
    for start in edges:
        stack, seen = list(edges[start]), set()
        while stack:
            name = stack.pop()
            if name == start:
                recursive.add(start)
                break
            if name not in seen:
                seen.add(name)
                stack.extend(edges.get(name, ()))
    return recursive


def _unroll_recursion(components: dict[str, Any], levels: dict[str, int]) -> None:
    """Spell out bounded recursive schemas level by level, so the contract has no cycle.

    The server refuses values nested deeper than a recursive Struct's declared levels (display
    conditions: `surveys.definition`), so the contract says exactly that: level 1 keeps the
    component's name, level k is `<Name>Level<k>`, and the last level's alternatives leave the
    recursive branches out. A recursive schema keeps operations out of generated clients and
    makes property-based generators build self-referencing strategies (Schemathesis failed a
    CI run with "Cannot generate an array with 1 demanded elements" on one). A recursive
    component without a declared bound is an error here, not a silent cycle."""
    recursive = _recursive(components)
    unbounded = sorted(recursive - levels.keys())
    if unbounded:
        raise RuntimeError(f"recursive schemas without {NESTING_ATTRIBUTE}: {unbounded}")
    group = sorted(recursive)
    originals = {name: components[name] for name in group}

    def level_name(name: str, level: int) -> str:
        return name if level == 1 else f"{name}Level{level}"

    def rewrite(node: Any, level: int, last: int) -> Any:
        if isinstance(node, list):
            return [rewrite(item, level, last) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in {"oneOf", "anyOf"} and isinstance(value, list):
                branches = []
                for branch in value:
                    target = _references(branch) if isinstance(branch, dict) else set()
                    if "$ref" in branch and target & recursive:
                        if level < last:
                            (name,) = target
                            branches.append({"$ref": _SCHEMA_REF + level_name(name, level + 1)})
                        continue
                    branches.append(rewrite(branch, level, last))
                out[key] = branches
            elif key == "$ref" and value.removeprefix(_SCHEMA_REF) in recursive:
                raise RuntimeError(f"{value} is referenced outside a oneOf/anyOf")
            else:
                out[key] = rewrite(value, level, last)
        return out

    for name, schema in originals.items():
        last = levels[name]
        for level in range(1, last + 1):
            unrolled = rewrite(schema, level, last)
            if level > 1:
                unrolled["title"] = level_name(name, level)
                unrolled["description"] = f"{name} nested at level {level} of at most {last}" + (
                    ": only the non-recursive alternatives remain" if level == last else ""
                )
            components[level_name(name, level)] = unrolled


def _unique_titles(components: dict[str, Any]) -> None:
    """Two schemas with one title become one model in a generated client: a schema whose
    component name differs from its clashing title is titled after its component name
    (`surveys_aggregation_LevelRef` → `SurveysAggregationLevelRef`)."""
    by_title: dict[str, list[str]] = {}
    for name, schema in components.items():
        if isinstance(schema, dict) and isinstance(schema.get("title"), str):
            by_title.setdefault(schema["title"], []).append(name)
    for title, names in by_title.items():
        if len(names) < 2:
            continue
        for name in names:
            if name != title:
                parts = re.split(r"[_.]", name)
                components[name]["title"] = "".join(p[:1].upper() + p[1:] for p in parts if p)


_STRING_CONSTRAINTS = ("pattern", "minLength", "maxLength")


def _string_constraints_into_branch(schema: Any) -> None:
    """Litestar states an optional parameter's string constraints beside `oneOf: [string,
    null]`; put them on the string branch, where tools look (a stricter pattern replaces the
    NUL-excluding one)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("oneOf"), list):
        return
    strings = [b for b in schema["oneOf"] if isinstance(b, dict) and b.get("type") == "string"]
    if len(strings) != 1:
        return
    for constraint in _STRING_CONSTRAINTS:
        if constraint in schema:
            strings[0][constraint] = schema.pop(constraint)


# A GeoJSON FeatureCollection as a response schema (RFC 7946; features are left open).
FEATURE_COLLECTION: dict[str, Any] = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {"type": "object"}},
    },
}


def with_content(
    handler_kwargs: dict[str, Any], content: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """`handler_kwargs` (e.g. of `access`) with response content by status and media type for
    `declared_content`: for streamed files, whose schema Litestar cannot infer."""
    return {**handler_kwargs, "opt": {**handler_kwargs.get("opt", {}), "content": content}}


def declared_content(app: Litestar) -> dict[str, dict[str, dict[str, Any]]]:
    """Response content declared by handlers as ``opt={"content": {status: {media type:
    schema}}}`` (a file whose media type depends on a parameter), by operationId."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                content = handler.opt.get("content")
                if content and isinstance(handler.operation_id, str):
                    found[handler.operation_id] = {
                        str(status): {
                            media_type: {"schema": schema} for media_type, schema in media.items()
                        }
                        for status, media in content.items()
                    }
    return found


def declared_cacheable(app: Litestar) -> dict[str, Cacheable]:
    """The operations that answer conditional requests (core.conditional), by operationId."""
    found: dict[str, Cacheable] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                rule = cacheable_of(handler)
                if rule is not None and isinstance(handler.operation_id, str):
                    found[handler.operation_id] = rule
    return found


def declare_conditional(operation: dict[str, Any], rule: Cacheable) -> None:
    """`If-None-Match` / `If-Modified-Since`, the validators and caching headers of the 200 and
    the 304 answer of an operation that opted in to conditional requests."""
    parameters = operation.setdefault("parameters", [])
    parameters.append({"$ref": "#/components/parameters/IfNoneMatch"})
    validators = ["ETag", "Cache-Control"]
    if rule.last_modified:
        parameters.append({"$ref": "#/components/parameters/IfModifiedSince"})
        validators.append("Last-Modified")
    responses = operation.setdefault("responses", {})
    responses.setdefault("200", {"description": "OK"}).setdefault("headers", {}).update(
        _header_refs(*validators)
    )
    responses["304"] = {
        "description": "Not modified: the caller's copy (named by `If-None-Match`"
        + (" or `If-Modified-Since`" if rule.last_modified else "")
        + ") is current. No body.",
        "headers": _header_refs(*validators),
    }


def finalize_contract(
    document: dict[str, Any],
    content: dict[str, dict[str, dict[str, Any]]] | None = None,
    cacheable: dict[str, Cacheable] | None = None,
    nesting: dict[str, int] | None = None,
) -> None:
    """Make the contract say what the server does, in forms that independent tools accept
    (openapi-spec-validator, openapi-python-client, validating gateways)."""
    content = content or {}
    cacheable = cacheable or {}
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    components["headers"] = {name: dict(spec) for name, spec in HEADERS.items()}
    components.setdefault("parameters", {}).update(
        {
            "lang": {
                "name": "lang",
                "in": "query",
                "required": False,
                "description": LANGUAGE_DESCRIPTION,
                "schema": {"type": "string", "maxLength": LANG_MAX, "pattern": NO_NUL_PATTERN},
            },
            "AcceptLanguage": {
                "name": "Accept-Language",
                "in": "header",
                "required": False,
                "description": LANGUAGE_DESCRIPTION,
                "schema": {
                    "type": "string",
                    "maxLength": ACCEPT_LANGUAGE_MAX,
                    "pattern": NO_NUL_PATTERN,
                },
            },
            **CONDITIONAL_PARAMETERS,
        }
    )
    if JSON_VALUE in schemas:
        schemas[JSON_VALUE] = {
            "description": "Any JSON value nested at most "
            f"{JSON_VALUE_DEPTH} levels deep; no string or key contains a NUL character.",
            **_bounded_json_value(JSON_VALUE_DEPTH),
        }
    _unroll_recursion(schemas, nesting or {})
    _unique_titles(schemas)
    _walk(document, _int_or_number)

    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for status, media in content.get(operation.get("operationId", ""), {}).items():
                operation["responses"][status]["content"] = media
            rule = cacheable.get(operation.get("operationId", ""))
            if rule is not None:
                declare_conditional(operation, rule)
            parameters = operation.setdefault("parameters", [])
            for parameter in parameters:
                _string_constraints_into_branch(parameter.get("schema"))
            names = {(p.get("in"), p.get("name", "").lower()) for p in parameters}
            if ("query", "lang") not in names:
                parameters.append({"$ref": "#/components/parameters/lang"})
            if ("header", "accept-language") not in names:
                parameters.append({"$ref": "#/components/parameters/AcceptLanguage"})
            idempotent = ("header", "idempotency-key") in names
            for status, response in operation.get("responses", {}).items():
                if status in {"204", "304"}:
                    # No body (RFC 9110): a declared `null` JSON body (Litestar's schema of
                    # Response[None], SignOut) made the generated client parse the empty body.
                    response.pop("content", None)
                headers = response.setdefault("headers", {})
                for header in headers.values():
                    # a Header Object needs `schema` (or `content`)
                    if "$ref" not in header and "schema" not in header and "content" not in header:
                        header["schema"] = {"type": "string"}
                headers.update(_header_refs("Content-Language", *_RATE_LIMITED_HEADERS))
                if status in {"429", "503"} or (idempotent and status == "409"):
                    headers.update(_header_refs("Retry-After"))
                if idempotent and status.startswith("2"):
                    headers.update(_header_refs("Idempotent-Replayed"))
