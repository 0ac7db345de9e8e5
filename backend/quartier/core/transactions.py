"""The request's transaction: committed before the response's status line leaves the process.

The request's session (advanced-alchemy's Litestar plugin) is committed for 2xx and 3xx answers
(our HTML forms POST and then redirect) and rolled back otherwise. Unlike the plugin's own
handler, which only logs a failed commit at debug level and lets the 2xx go out, a commit that
fails here turns the response into a problem: 503 when the database is unreachable, 409 when a
constraint checked at commit refuses the change, 500 otherwise. A client is never told "stored"
for something that was not: this is what "nothing acknowledged is ever lost" rests on.
"""

from __future__ import annotations

import logging
import uuid

import msgspec
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from litestar.types import BeforeMessageSendHookHandler, Message, Scope
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, STATUS_SLUGS, ProblemDetails

log = logging.getLogger(__name__)

_FAILED_BODY_KEY = "quartier_commit_failed_body"
_REPLACED_HEADERS = {
    b"content-type",
    b"content-length",
    b"location",
    b"idempotent-replayed",
    b"set-cookie",
    b"content-encoding",
    b"etag",
    b"last-modified",
}


def _problem(error: Exception) -> tuple[int, bytes, dict[bytes, bytes]]:
    if isinstance(error, IntegrityError):
        status, detail = 409, "The change conflicts with the current state and was not stored."
    elif isinstance(error, OperationalError | InterfaceError | OSError):
        status, detail = 503, "The database is not reachable; nothing was stored. Retry shortly."
    else:
        status, detail = 500, "The change could not be stored."
    correlation_id = str(uuid.uuid4())
    log.error(
        "commit failed (%s), answered %d, correlation id %s",
        type(error).__name__,
        status,
        correlation_id,
        exc_info=error,
    )
    slug, title = STATUS_SLUGS[status]
    body = msgspec.json.encode(
        ProblemDetails(
            type=PROBLEM_BASE + slug,
            title=title,
            status=status,
            detail=detail,
            correlation_id=correlation_id if status == 500 else None,
        )
    )
    extra = {b"retry-after": b"5"} if status == 503 else {}
    return status, body, extra


def commit_before_response(session_scope_key: str) -> BeforeMessageSendHookHandler:
    """The `before_send` handler for a plugin config whose sessions live under
    `session_scope_key` (advanced-alchemy makes that key unique per config in a process)."""

    async def handler(message: Message, scope: Scope) -> None:
        await _finish(message, scope, session_scope_key)

    return handler


async def _finish(message: Message, scope: Scope, session_scope_key: str) -> None:
    """Commit or roll back the request's session (see the module docstring)."""
    if message["type"] == "http.response.body":
        failed_body = scope.get(_FAILED_BODY_KEY)
        if isinstance(failed_body, bytes):
            message["body"] = failed_body
            scope[_FAILED_BODY_KEY] = b""  # type: ignore[literal-required]
        return
    session: AsyncSession | None = get_aa_scope_state(scope, session_scope_key)
    if session is None:
        return
    try:
        if message["type"] == "http.response.start":
            if 200 <= message["status"] < 400:
                try:
                    await session.commit()
                except Exception as error:  # any failure: the change is not stored
                    await _rollback_quietly(session)
                    status, body, extra = _problem(error)
                    headers: list[tuple[bytes, bytes]] = [
                        (name, value)
                        for name, value in message.get("headers", [])
                        if name.lower() not in _REPLACED_HEADERS
                    ]
                    headers += [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                        *extra.items(),
                    ]
                    message["status"] = status
                    message["headers"] = headers
                    scope[_FAILED_BODY_KEY] = body  # type: ignore[literal-required]
            else:
                await _rollback_quietly(session)
    finally:
        if message["type"] in {"http.response.start", "http.disconnect"}:
            try:
                await session.close()
            except Exception:  # closing after a failure may fail too; the pool recovers
                log.debug("closing the request session failed", exc_info=True)
            delete_aa_scope_state(scope, session_scope_key)


async def _rollback_quietly(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # the connection may be gone; it is discarded with the session
        log.debug("rollback failed", exc_info=True)
