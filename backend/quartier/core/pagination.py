"""Cursor pagination (keyset): stable ordering, opaque cursors, bounded page sizes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from quartier.core.errors import FieldError, InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[
    int,
    QueryParameter(
        ge=1, le=MAX_LIMIT, description=f"Page size (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT})."
    ),
]
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=512,
        pattern=CURSOR_PATTERN,
        description="Opaque cursor from a previous page's `next_cursor` (base64url, unpadded).",
    ),
]


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a collection; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return {"u": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "u" in value:
            return UUID(value["u"])
        if "t" in value:
            return datetime.fromisoformat(value["t"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = msgspec.json.encode([_jsonable(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = msgspec.json.decode(base64.urlsafe_b64decode(padded))
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError
        return [_restore(v) for v in values]
    except (ValueError, binascii.Error, msgspec.DecodeError, KeyError) as exc:
        raise InvalidInput(
            "The cursor is not valid; start again without it.",
            errors=[FieldError(field="cursor", source="query", message="invalid cursor")],
        ) from exc


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Run `statement` ordered by `order_by` (ascending; the last column must be unique) and
    return one page of scalars plus the cursor of the next page."""
    if cursor:
        values = decode_cursor(cursor, len(order_by))
        statement = statement.where(tuple_(*order_by) > tuple_(*values))
    statement = statement.order_by(*order_by).limit(limit + 1)
    rows = list((await session.scalars(statement)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, col.key) for col in order_by])
    return rows, next_cursor
