"""Liveness, readiness and the problem+json shape of framework errors."""

from __future__ import annotations

import gc
import json
import logging
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from quartier.app import create_app
from quartier.core.logging import configure_logging
from quartier.settings import Settings, load_settings


async def test_health_answers_without_touching_the_database(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # Not even with credentials (which other routes look up), and with no database at all.
    unreachable = create_app(
        settings, database_url="postgresql+asyncpg://nobody@/nowhere?host=/nonexistent"
    )
    transport = httpx.ASGITransport(app=unreachable)
    async with httpx.AsyncClient(transport=transport, base_url="https://probe.local") as probe:
        for headers in ({"Authorization": "Bearer qt_x"}, {"Cookie": "__Host-session=abc"}):
            answer = await probe.get("/health", headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-content-type-options"] == "nosniff"


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


async def test_wrong_method_is_problem_json(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/method-not-allowed"


async def test_oversized_body_is_413_problem_json(client: AsyncTestClient[Litestar]) -> None:
    body = b'{"email": "' + b"x" * 2_000_000 + b'", "password": "p"}'
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


async def test_wrong_media_type_is_415_problem_json(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b"email=a&password=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media-type"


async def test_malformed_json_is_400_problem_json(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-json"


async def test_unknown_and_invalid_fields_are_named(client: AsyncTestClient[Litestar]) -> None:
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "a@example.org", "password": "x", "admin": True}
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "admin"
    too_long = await client.post(
        "/api/v1/auth/login", json={"email": "a" * 300 + "@example.org", "password": "x"}
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "email"


async def test_security_headers_on_success_and_error(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/health", "/api/v1/nope", "/api/v1/openapi.json"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "base-uri 'none'" in csp and "'unsafe-inline'" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in response.headers["permissions-policy"]


async def test_content_language_follows_the_request(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/health")).headers["content-language"] == "de"
    english = await client.get("/health", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.headers["content-language"] == "en"


async def test_metrics_are_exposed_when_enabled(settings: Settings, database_url: str) -> None:
    app = create_app(replace(settings, metrics_enabled=True), database_url=database_url)
    async with AsyncTestClient(app) as metrics_client:
        await metrics_client.get("/health")
        response = await metrics_client.get("/metrics")
    assert response.status_code == 200
    assert "quartier_requests_total" in response.text
    assert 'path="/health"' in response.text


async def test_metrics_are_absent_by_default(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/metrics")).status_code == 404


def test_json_logs_carry_no_exception_internals_to_clients(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = load_settings(
        {
            "QUARTIER_ENV": "test",
            "QUARTIER_LOG_FORMAT": "json",
            "SECRET_KEY": "x" * 8 + "0123456789abcdefghijklmnopqrstuv",
        }
    )
    configure_logging(settings)
    logging.getLogger("quartier.test").warning("database unavailable: %s", "OperationalError")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert entry["message"] == "database unavailable: OperationalError"
    assert entry["logger"] == "quartier.test"


async def test_options_lists_every_method_of_the_path(client: AsyncTestClient[Litestar]) -> None:
    response = await client.options("/api/v1/api-tokens")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"
    document = json.loads((Path(__file__).parents[1] / "openapi" / "openapi.json").read_text())
    for path, item in document["paths"].items():
        concrete = path.replace("{", "").replace("}", "")
        concrete = re.sub(r"[a-z_]+_id", "0190a1b2-0000-7000-8000-000000000000", concrete)
        answer = await client.options(concrete)
        if answer.status_code != 204:
            continue
        documented = {m.upper() for m in item if m in {"get", "post", "put", "patch", "delete"}}
        assert set(answer.headers["allow"].split(", ")) == documented | {"OPTIONS"}, path


async def test_startup_freezes_the_long_lived_heap_and_shutdown_releases_it(
    settings: Settings, database_url: str
) -> None:
    """Full garbage collections would otherwise walk the app's ~200,000 long-lived objects
    (100 ms and more under load, the latency tail of the benchmark). Every environment but the
    test suite's does it."""
    app = create_app(replace(settings, env="development"), database_url=database_url)
    gc.unfreeze()
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        assert gc.get_freeze_count() > 50_000
        assert (await client.get("/health")).status_code == 200
    assert gc.get_freeze_count() == 0
