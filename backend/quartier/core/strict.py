"""Strict request bodies: JSON types exactly as the contract states them.

Litestar converts a handler's arguments, the body included, in msgspec's lax mode (it must:
query parameters arrive as strings), which would also accept `0` for a date-time (the epoch)
or `"false"` for a boolean in a JSON body. Before the handler runs, this hook decodes the raw
JSON body once more in strict mode against the handler's declared body type and refuses any
such coercion with 400 naming the field — what the OpenAPI contract promises (found by
Schemathesis).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from quartier.core.errors import Problem

_PATH = re.compile(r" - at `\$(.*)`$")


@cache
def _decoder(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    try:
        return msgspec.json.Decoder(annotation, strict=True)
    except TypeError:  # not a type msgspec can decode on its own (e.g. a form mapping)
        return None


def _integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: _integers(item) for key, item in value.items()}
    return value


def _retry_with_integers(
    decoder: msgspec.json.Decoder[Any], body: bytes
) -> msgspec.ValidationError | None:
    """Decode again with integral floats as integers: None if that is valid, else its error."""
    try:
        decoder.decode(msgspec.json.encode(_integers(msgspec.json.decode(body))))
    except msgspec.ValidationError as error:
        return error
    return None


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None or not request.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return
    body = await request.body()
    if not body:
        return
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        # msgspec lets UnicodeDecodeError escape for an invalid byte inside a string (a 500)
        raise Problem(
            "The request body is not valid UTF-8.",
            slug="malformed-json",
            title="Malformed JSON",
        ) from error
    decoder = _decoder(parameter.annotation)
    if decoder is None:
        return
    try:
        decoder.decode(body)
    except msgspec.ValidationError as error:
        if "got `float`" in str(error):
            # JSON Schema counts 4.0 as an integer; msgspec's strict mode does not
            retried = _retry_with_integers(decoder, body)
            if retried is None:
                return
            error = retried
        message = str(error)
        match = _PATH.search(message)
        key = match.group(1).lstrip(".") if match else ""
        raise ValidationException(
            detail="Validation failed",
            extra=[{"message": _PATH.sub("", message), "key": key, "source": "body"}],
        ) from error
    except msgspec.DecodeError:
        return  # malformed JSON: Litestar's own parsing answers it
