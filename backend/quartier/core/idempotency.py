"""Idempotent submissions (IETF httpapi `Idempotency-Key` draft).

A resident's phone may send the same submission twice (a retry after a timeout, an offline
queue replaying). With an `Idempotency-Key` header:

* the first request is processed and its response stored with the key, in the **same
  transaction** as the record it creates — so a stored key always means a stored record;
* a retry with the same key and the same body gets the stored response and creates nothing;
* the same key with a different body is refused with 422;
* a retry while the first is still being processed is refused with 409 (try again shortly).

"In flight" is a transaction-scoped advisory lock on the key: a crashed or killed process
releases it with its connection, so a key can never stay stuck. The unique index on
(operation, key) is the backstop that makes a double insert impossible even so.
Keys replay for the configured period (`QUARTIER_RETENTION_IDEMPOTENCY_HOURS`, default 24 h:
`Settings.idempotency_retention`, stored with each record as its `expires_at`) and are then
purged by the daily retention job (`purge_expired`).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar.params import HeaderParameter
from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from uuid_utils.compat import uuid7

from quartier.core.errors import Conflict, FieldError, InvalidInput, Unprocessable
from quartier.db import Base

MAX_KEY_LENGTH = 255
# Printable: no control character, and at least one character other than a space. The contract
# states it as this pattern, and check_key applies the same one.
KEY_PATTERN = "^[^\\u0000-\\u001f]*[^\\u0000-\\u0020][^\\u0000-\\u001f]*$"
_KEY_RE = re.compile(KEY_PATTERN)

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        header="Idempotency-Key",
        max_length=MAX_KEY_LENGTH,
        min_length=1,
        pattern=KEY_PATTERN,
        required=False,
        description="A unique value per submission (e.g. a UUID). Retrying with the same key "
        "and body returns the original result and creates nothing; the same key "
        "with another body is 422; a retry while the first is in flight is 409.",
    ),
]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        Index("uq_idempotency_keys_operation_key", "operation", "idempotency_key", unique=True),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    operation: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str]
    replayed: bool


def fingerprint(secret_key: str, *parts: bytes) -> bytes:
    """The request's fingerprint: HMAC-SHA256 keyed with the app's secret over the
    length-prefixed parts. Keyed, so that a stored fingerprint cannot be tested against guessed
    bodies without the secret; callers leave out of `parts` anything identifying a person (an
    invitation code), so that even with the secret nothing about a person can be tested."""
    digest = hmac.new(secret_key.encode(), digestmod=hashlib.sha256)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def lock_id(operation: str, key: str) -> int:
    """The transaction-scoped advisory lock that marks (operation, key) as in flight."""
    raw = hashlib.blake2b(f"{operation}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big", signed=True)


def check_key(key: str) -> None:
    if not _KEY_RE.fullmatch(key):
        raise InvalidInput(
            "The Idempotency-Key header must be a printable, non-empty value.",
            errors=[FieldError(field="Idempotency-Key", source="header", message="invalid value")],
        )


RECORDS: Table = IdempotencyRecord.__table__  # type: ignore[assignment]
_OPERATION = bindparam("operation", type_=String)
_KEY = bindparam("key", type_=String)
_SAME_KEY = and_(RECORDS.c.operation == _OPERATION, RECORDS.c.idempotency_key == _KEY)
# Statements built once (compiled once, prepared once per connection).
_LOCK = select(func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)))
# The live record for (:operation, :key), if any; an expired one (which would still hold the
# unique index) is deleted by the same statement (EXPIRED, a CTE to add to it).
EXPIRED = delete(RECORDS).where(_SAME_KEY, RECORDS.c.expires_at <= func.now()).cte("expired")
LIVE_COLUMNS = (
    RECORDS.c.fingerprint,
    RECORDS.c.response_status,
    RECORDS.c.response_body,
    RECORDS.c.response_headers,
)
LIVE_CONDITION = and_(_SAME_KEY, RECORDS.c.expires_at > func.now())
_LIVE = select(*LIVE_COLUMNS).where(LIVE_CONDITION).add_cte(EXPIRED)
_RECORD = insert(RECORDS)


async def run_idempotent(
    session: AsyncSession,
    *,
    operation: str,
    key: str | None,
    request_fingerprint: bytes,
    produce: Callable[[], Awaitable[tuple[int, Any, dict[str, str]]]],
    retention: datetime.timedelta,
) -> StoredResponse:
    """Run `produce` (which creates the record and returns status, body, headers) at most once
    per (operation, key); a stored key replays for `retention` (`Settings.idempotency_retention`).
    Must run inside the request's transaction, which the caller commits.
    Three round trips besides `produce`'s: take the lock, read the live record (clearing an
    expired one), store the new record."""
    if key is None:
        status, body, headers = await produce()
        return StoredResponse(status, msgspec.json.encode(body), headers, replayed=False)
    check_key(key)
    connection = await session.connection()
    if not await connection.scalar(_LOCK, {"lock_id": lock_id(operation, key)}):
        raise in_flight()
    # A separate statement after the lock: its snapshot sees a record committed by a request
    # that held the lock before us.
    stored = (await connection.execute(_LIVE, {"operation": operation, "key": key})).first()
    if stored is not None:
        if stored.fingerprint != request_fingerprint:
            raise key_reused()
        return replay(stored._mapping)
    status, body, headers = await produce()
    encoded = msgspec.json.encode(body)
    await connection.execute(
        _RECORD,
        record_values(
            operation, key, request_fingerprint, status, encoded, headers, retention=retention
        ),
    )
    return StoredResponse(status, encoded, headers, replayed=False)


def in_flight() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        slug="idempotency-in-flight",
        title="Request in flight",
        headers={"Retry-After": "1"},
    )


def key_reused() -> Unprocessable:
    return Unprocessable(
        "This Idempotency-Key was used for a different request body.",
        slug="idempotency-key-reused",
        title="Idempotency-Key reused",
    )


def replay(stored: Mapping[Any, Any]) -> StoredResponse:
    """The stored answer of a live record (the `LIVE_COLUMNS` of its row)."""
    return StoredResponse(
        stored["response_status"],
        stored["response_body"],
        dict(stored["response_headers"]),
        replayed=True,
    )


def record_values(
    operation: str,
    key: str,
    fingerprint: bytes,
    status: int,
    body: bytes,
    headers: dict[str, str],
    *,
    retention: datetime.timedelta,
) -> dict[str, Any]:
    """The columns of a new `idempotency_keys` record, live for `retention`."""
    now = datetime.datetime.now(datetime.UTC)
    return {
        "id": uuid7(),
        "operation": operation,
        "idempotency_key": key,
        "fingerprint": fingerprint,
        "response_status": status,
        "response_body": body,
        "response_headers": headers,
        "expires_at": now + retention,
        "created_at": now,
        "updated_at": now,
    }


async def purge_expired(
    session: AsyncSession, retention: datetime.timedelta, *, now: datetime.datetime | None = None
) -> int:
    """Delete the records past their `expires_at`, and those older than `retention` (the
    period now configured: a record stored under a longer one goes with the next purge)."""
    now = now or datetime.datetime.now(datetime.UTC)
    result = await session.execute(
        delete(RECORDS)
        .where(or_(RECORDS.c.expires_at <= now, RECORDS.c.created_at <= now - retention))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def as_response(result: StoredResponse) -> Any:
    """The HTTP response for a (possibly replayed) result; replays say so in a header."""
    from litestar import Response

    headers = dict(result.headers)
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        content=result.body,
        status_code=result.status,
        headers=headers,
        media_type="application/json",
    )
