"""Hot paths on the asyncpg driver, with statements written once as SQLAlchemy Core.

SQLAlchemy's session and statement execution cost about 0.2 ms of CPU per statement and
0.3 ms per transaction on top of the driver (measured in bench/), more than PostgreSQL spends
running the statements. The resident submission — the one operation whose throughput matters —
therefore runs on the pooled connection's asyncpg driver directly:

* :class:`DriverStatement` compiles a Core construct once for the engine's dialect (``$n``
  parameters with their casts) and applies SQLAlchemy's own bind processing (JSON encoding),
  so the statement has one definition, used by both paths;
* :func:`driver_transaction` checks a connection out of the engine's pool and runs one
  transaction on its driver; the transaction is committed when the block ends — before the
  handler returns, so a response is never sent for a change that was not committed. Losing the
  database surfaces as 503 problem+json, as on the SQLAlchemy path.

Everything else keeps using the session.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from quartier.core.errors import Conflict, ServiceUnavailable

_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # e.g. the connection was closed under a running statement
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    OSError,
    TimeoutError,
)


_Processor = Callable[[Any], Any]
_NO_DEFAULT = object()


class DriverStatement:
    """A Core statement compiled once (per dialect) for execution on an asyncpg connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: tuple[str, list[tuple[str, Any, _Processor | None]]] | None = None

    def compile(self, dialect: Dialect) -> tuple[str, list[tuple[str, Any, _Processor | None]]]:
        """The SQL text and, per `$n`, the parameter's name, its value when the statement
        fixes one (a literal compared in the statement) and SQLAlchemy's bind processor."""
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            if "__[POSTCOMPILE_" in compiled.string:
                raise ValueError("expanding parameters (IN lists) need SQLAlchemy's execution")
            binds = {name: bind for bind, name in compiled.bind_names.items()}
            params: list[tuple[str, Any, _Processor | None]] = []
            for name in compiled.positiontup or []:
                bind = binds[name]
                fixed = bind.effective_value if bind.value is not None else _NO_DEFAULT
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                params.append((bind.key if fixed is _NO_DEFAULT else name, fixed, processor))
            self._compiled = (str(compiled), params)
        return self._compiled

    def arguments(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        sql, params = self.compile(dialect)
        arguments = []
        for name, fixed, process in params:
            value = values[name] if fixed is _NO_DEFAULT else fixed
            arguments.append(process(value) if process is not None and value is not None else value)
        return sql, arguments


class Driver:
    """One asyncpg connection inside a transaction, with the engine's dialect for compiling."""

    def __init__(self, connection: asyncpg.Connection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    async def row(
        self, statement: DriverStatement, values: Mapping[str, Any]
    ) -> asyncpg.Record | None:
        sql, arguments = statement.arguments(self.dialect, values)
        return await self.connection.fetchrow(sql, *arguments)

    async def value(self, statement: DriverStatement, values: Mapping[str, Any]) -> Any:
        sql, arguments = statement.arguments(self.dialect, values)
        return await self.connection.fetchval(sql, *arguments)


@contextlib.asynccontextmanager
async def driver_transaction(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """A transaction on a pooled connection's driver, committed when the block ends without an
    exception and rolled back otherwise. A pooled connection that breaks here is found closed
    and replaced at its next checkout (`db._refuse_closed`)."""
    async with _problems(), engine.connect() as connection:
        adapted = await connection.get_raw_connection()
        driver: asyncpg.Connection = adapted.driver_connection
        async with driver.transaction():
            yield Driver(driver, engine.dialect)


@contextlib.asynccontextmanager
async def driver_statements(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """A pooled connection's driver outside a transaction block: every statement commits on
    its own when it completes (PostgreSQL's autocommit), so a write that is one statement
    costs one round trip instead of three (no BEGIN and COMMIT). Only for writes that are a
    single statement each, or reads before one: nothing ties two statements together."""
    async with _problems(), engine.connect() as connection:
        adapted = await connection.get_raw_connection()
        yield Driver(adapted.driver_connection, engine.dialect)


@contextlib.asynccontextmanager
async def _problems() -> AsyncIterator[None]:
    """The database's failures as the problems the SQLAlchemy path answers."""
    try:
        yield
    except _UNAVAILABLE as error:
        raise ServiceUnavailable(
            "The database is not reachable; nothing was stored. Retry shortly.",
            headers={"Retry-After": "5"},
        ) from error
    except asyncpg.IntegrityConstraintViolationError as error:
        raise Conflict("The change conflicts with the current state and was not stored.") from error
