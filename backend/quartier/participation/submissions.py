"""A resident's write, stored at most once per `Idempotency-Key` (core.idempotency): the
operation name and the body's fingerprint are formed here, the same way for every module, so
that the API and the HTML form of one operation share stored answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.idempotency import StoredResponse, check_key, fingerprint, run_idempotent
from quartier.settings import Settings


def operation_name(operation_id: str, *scope: UUID | str) -> str:
    """`SubmitIdea:<process id>`: keys are unique per operation and what it acts on."""
    return ":".join([operation_id, *(str(part) for part in scope)])


def body_fingerprint(secret_key: str, body: Any) -> bytes:
    """The keyed fingerprint of a request body (a msgspec Struct or plain data), key order
    ignored: keyed, so that a stored fingerprint cannot be tested against guessed bodies (an
    e-mail address in an idea, say) without the app's secret."""
    return fingerprint(secret_key, msgspec.json.encode(body, order="sorted"))


async def resident_write(
    session: AsyncSession,
    *,
    settings: Settings,
    operation: str,
    key: str | None,
    body: Any,
    produce: Callable[[], Awaitable[tuple[int, Any, dict[str, str]]]],
) -> StoredResponse:
    """Run `produce` at most once per (operation, key) inside the request's transaction; the
    stored answer replays for the configured period (`Settings.idempotency_retention`)."""
    if key is not None:
        check_key(key)
    return await run_idempotent(
        session,
        operation=operation,
        key=key,
        request_fingerprint=body_fingerprint(settings.secret_key, body),
        produce=produce,
        retention=settings.idempotency_retention,
    )
