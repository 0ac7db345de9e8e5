"""Counting the statements a request sends, as bench/run.py `capturing_sql` records them:
through SQLAlchemy (the engine's `before_cursor_execute` event) and on the asyncpg driver path
(`core.driver.Driver`). Transaction control (BEGIN, COMMIT) is not counted by either."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.core import driver


@contextlib.asynccontextmanager
async def capturing_statements(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The SQL of every statement sent while the block runs, in order."""
    statements: list[str] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        many = executemany and bool(parameters) and isinstance(parameters[0], list | tuple)
        statements.extend([" ".join(statement.split())] * (len(parameters) if many else 1))

    original = {name: getattr(driver.Driver, name) for name in ("row", "value")}

    def recording(name: str) -> Any:
        async def method(self: driver.Driver, statement: Any, values: Any) -> Any:
            sql, _ = statement.arguments(self.dialect, values)
            statements.append(" ".join(sql.split()))
            return await original[name](self, statement, values)

        return method

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    for name in original:
        setattr(driver.Driver, name, recording(name))
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        for name, method in original.items():
            setattr(driver.Driver, name, method)
