"""`idempotent`: the one decorator that lets a create operation be retried safely.

A staff client's double click or a retried upload must not create the thing twice. Under the
route decorator, `@idempotent` gives a handler the optional `Idempotency-Key` header (declared in
the contract with its pattern, like every other one) and runs it through `run_idempotent`:

* the operation is the handler's `operationId` and the path's parameters (`CreateGoal:<process
  id>`), so a key is unique per operation and what it acts on;
* the fingerprint is keyed and taken over the request body (`data`; none: empty);
* the record is `Sealed`: the key stored as a keyed hash, the answer encrypted under the
  client's key — answers of create operations hold staff names, e-mail addresses and secrets
  shown once, and an idempotency record keeps none of them readable (docs/PRIVACY.md);
* a retry with the same key and body gets the first answer (status, body, `Location`) with
  `Idempotent-Replayed: true`; another body is 422, a retry in flight 409.

The handler itself stays as it was: it returns a `Response` (its status and headers are kept)
or a body (answered with the route's status code).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.idempotency import IdempotencyKeyHeader, Sealed, as_response, run_idempotent
from quartier.settings import Settings

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])

_KEY = "idempotency_key"
# What the wrapper needs, given to it by Litestar as to any handler.
_PLUMBING: dict[str, Any] = {
    "request": Request[Any, Any, Any],
    "db_session": AsyncSession,
    _KEY: IdempotencyKeyHeader,
}


def idempotent(handler: Handler) -> Handler:
    """`handler` (a create operation) retried safely with an `Idempotency-Key`."""
    signature = inspect.signature(handler)
    own = set(signature.parameters)
    if _KEY in own:
        raise TypeError(f"{handler.__qualname__} already takes an Idempotency-Key")
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None if name == _KEY else inspect.Parameter.empty,
        )
        for name in _PLUMBING
        if name not in own
    ]

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Response[Any]:
        request: Request[Any, Any, Any] = kwargs["request"]
        session: AsyncSession = kwargs["db_session"]
        key: str | None = kwargs.pop(_KEY)
        own_kwargs = {name: value for name, value in kwargs.items() if name in own}

        async def produce() -> tuple[int, Any, dict[str, str]]:
            answer = await handler(*args, **own_kwargs)
            status = request.route_handler.status_code or HTTP_201_CREATED
            if isinstance(answer, Response):
                return answer.status_code or status, answer.content, dict(answer.headers)
            return status, answer, {}

        settings: Settings = request.app.state["settings"]
        operation = operation_of(request)
        sealed = None if key is None else Sealed(settings.secret_key, operation, key)
        body = msgspec.json.encode(kwargs["data"], order="sorted") if "data" in kwargs else b""
        result = await run_idempotent(
            session,
            operation=operation,
            key=key,
            request_fingerprint=sealed.fingerprint(body) if sealed else b"",
            produce=produce,
            retention=settings.idempotency_retention,
            sealed=sealed,
        )
        response: Response[Any] = as_response(result)
        return response

    parameters = list(signature.parameters.values())
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*parameters, *added]
    )
    wrapper.__annotations__ = {
        **{name: kind for name, kind in _PLUMBING.items() if name not in own},
        **handler.__annotations__,
    }
    return wrapper  # type: ignore[return-value]


def operation_of(request: Request[Any, Any, Any]) -> str:
    """`<operationId>:<path parameter>…`: keys are unique per operation and what it acts on."""
    operation_id = request.route_handler.operation_id
    name = operation_id if isinstance(operation_id, str) else request.route_handler.handler_name
    return ":".join([name, *(str(value) for value in request.path_params.values())])
