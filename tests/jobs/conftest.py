"""Fixtures for the job queue: a worker on the test's database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.jobs.worker import Worker
from quartier.settings import Settings


@pytest.fixture
def worker(engine: AsyncEngine, settings: Settings) -> Worker:
    return Worker(engine, settings, concurrency=4, poll_seconds=0.05, grace_seconds=1.0)


async def jobs(engine: AsyncEngine, kind: str | None = None) -> list[dict[str, Any]]:
    """Every job (of `kind`), oldest first, as dicts."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT id, kind, payload, dedupe_key, status, attempts, max_attempts, run_at,"
                " locked_until, last_error, finished_at, run_at > now() AS waiting"
                " FROM jobs WHERE kind = coalesce(:kind, kind) ORDER BY created_at, id"
            ),
            {"kind": kind},
        )
        return [dict(row._mapping) for row in rows]


async def make_due(engine: AsyncEngine) -> None:
    """Skip the backoff: every queued job is due now."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE jobs SET run_at = now() - interval '1 second' WHERE status = 'queued'")
        )
