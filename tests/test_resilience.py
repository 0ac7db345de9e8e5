"""A database restart while the app runs: fail fast with 503, report it, recover by itself."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier import migrations
from quartier.app import create_app
from quartier.db import PrivateCluster
from quartier.settings import Settings


@pytest.fixture
def own_cluster() -> Iterator[tuple[PrivateCluster, str]]:
    """A cluster of this test's own, so stopping it disturbs no other test."""
    base = Path(tempfile.mkdtemp(prefix="quartier-restart-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=False, database="restart")
    url = cluster.start()
    migrations.upgrade(url)
    try:
        yield cluster, url
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


async def test_database_restart_gives_fast_503_and_the_app_recovers(
    settings: Settings, own_cluster: tuple[PrivateCluster, str]
) -> None:
    cluster, url = own_cluster
    app = create_app(settings, database_url=url)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        assert (await client.get("/ready")).status_code == 200
        assert (await client.get("/api/v1/processes")).status_code == 200

        cluster.stop(mode="immediate")
        started = time.monotonic()
        failed = await client.post(
            "/api/v1/auth/login", json={"email": "a@example.org", "password": "whatever"}
        )
        assert time.monotonic() - started < 6
        assert failed.status_code == 503
        assert failed.headers["content-type"].startswith("application/problem+json")
        assert "retry-after" in failed.headers
        assert "asyncpg" not in failed.text and "Traceback" not in failed.text
        not_ready = await client.get("/ready")
        assert not_ready.status_code == 503
        assert (await client.get("/health")).status_code == 200

        cluster.start()
        deadline = time.monotonic() + 20
        while (await client.get("/ready")).status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover"
        recovered = await client.post(
            "/api/v1/auth/login", json={"email": "a@example.org", "password": "whatever"}
        )
        assert recovered.status_code == 401  # a real answer again: wrong credentials


async def test_pooled_connections_closed_by_the_server_are_replaced_without_an_error(
    client: AsyncTestClient[Any], engine: AsyncEngine
) -> None:
    """The engine does not pre-ping (a round trip per request); a pooled connection whose
    backend went away is found closed at checkout and replaced (`db._refuse_closed`)."""
    for _ in range(3):  # connections into the app's pool
        assert (await client.get("/ready")).status_code == 200
    async with engine.connect() as connection:
        terminated = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert terminated >= 1
    await asyncio.sleep(0.5)  # the app reads the end of each stream
    for _ in range(3):
        assert (await client.get("/ready")).status_code == 200
