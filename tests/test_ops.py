"""Liveness, readiness and the problem+json shape of framework errors."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_health_answers_without_touching_the_database(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_the_current_migration(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["migration"] is not None


async def test_unknown_route_is_problem_json(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/not-found"
