"""Finding the database for a command: `DATABASE_URL`, or the private cluster started here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.db import PrivateCluster, create_engine, session_scope
from quartier.settings import Settings

T = TypeVar("T")


@contextlib.contextmanager
def database(settings: Settings, *, keep_running: bool = False) -> Iterator[str]:
    """Yield a database URL. With no DATABASE_URL, start the private cluster in the data
    directory (and stop it afterwards unless `keep_running`, or unless it was already running)."""
    if settings.database_url:
        yield settings.database_url
        return
    cluster = PrivateCluster(settings.data_dir)
    was_running = cluster.is_running()
    url = cluster.start()
    try:
        yield url
    finally:
        if not keep_running and not was_running:
            cluster.stop()


def run_in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction (for CLI commands)."""

    async def runner() -> T:
        engine = create_engine(url, pool_size=2, max_overflow=0)
        try:
            async with session_scope(engine) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())
