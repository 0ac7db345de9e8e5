"""Rate limits: per client and class, 429 with RateLimit headers, shared through Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from quartier.app import create_app
from quartier.core.clients import client_address
from quartier.settings import RateLimitSetting, Settings, load_settings
from tests.conftest import TokenFactory
from tests.support.live import free_port, start_app, wait_until


def start_inside_a_window(margin: float = 20.0) -> None:
    """Windows are fixed minutes of the clock: a test that counts requests starts at least
    `margin` seconds before the next boundary, so that all its requests fall into one window
    (a boundary between them resets the count; seen in CI on a loaded machine)."""
    into_window = time.time() % 60
    if into_window > 60 - margin:
        time.sleep(60.5 - into_window)


@pytest.fixture
def inside_a_window() -> None:
    start_inside_a_window()


def _limited(settings: Settings, **limits: tuple[int, int]) -> Settings:
    rate_limits = dict(settings.rate_limits)
    for name, (count, window) in limits.items():
        rate_limits[name] = RateLimitSetting(count, window)
    return replace(settings, rate_limits=rate_limits)


@pytest.mark.usefixtures("inside_a_window")
async def test_sign_in_is_limited_per_client_with_headers(
    settings: Settings, database_url: str
) -> None:
    app = create_app(_limited(settings, login=(3, 60)), database_url=database_url)
    body = {"email": "nobody@example.org", "password": "wrong password"}
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        for remaining in (2, 1, 0):
            response = await client.post("/api/v1/auth/login", json=body)
            assert response.status_code == 401
            assert response.headers["ratelimit-limit"] == "3"
            assert response.headers["ratelimit-remaining"] == str(remaining)
        refused = await client.post("/api/v1/auth/login", json=body)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-remaining"] == "0"
        # another class is not affected
        assert (await client.get("/api/v1/openapi.json")).status_code == 200


@pytest.mark.usefixtures("inside_a_window")
async def test_health_is_never_limited(settings: Settings, database_url: str) -> None:
    app = create_app(_limited(settings, default=(2, 60)), database_url=database_url)
    async with AsyncTestClient(app) as client:
        statuses = {(await client.get("/health")).status_code for _ in range(10)}
        assert statuses == {200}
        assert (await client.get("/api/v1/openapi.json")).status_code == 200
        assert (await client.get("/api/v1/openapi.json")).status_code == 200
        assert (await client.get("/api/v1/openapi.json")).status_code == 429


@pytest.mark.usefixtures("inside_a_window")
async def test_forwarded_for_is_ignored_from_untrusted_peers(
    settings: Settings, database_url: str
) -> None:
    app = create_app(_limited(settings, default=(2, 60)), database_url=database_url)
    async with AsyncTestClient(app) as client:
        codes = [
            (
                await client.get(
                    "/api/v1/openapi.json", headers={"X-Forwarded-For": f"198.51.100.{i}"}
                )
            ).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 429]


def _scope(peer: str, forwarded: str | None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1234), "headers": headers}


def test_client_address_uses_forwarded_for_only_behind_a_trusted_proxy() -> None:
    trusted = ("10.0.0.0/8",)
    assert client_address(_scope("203.0.113.9", "198.51.100.1"), trusted) == "203.0.113.9"  # type: ignore[arg-type]
    assert client_address(_scope("10.0.0.2", "198.51.100.1"), trusted) == "198.51.100.1"  # type: ignore[arg-type]
    # a client cannot smuggle an address in front of the proxy's own entry
    assert (
        client_address(_scope("10.0.0.2", "192.0.2.66, 198.51.100.1, 10.0.0.3"), trusted)
        == "198.51.100.1"
    )  # type: ignore[arg-type]
    assert client_address(_scope("10.0.0.2", None), trusted) == "10.0.0.2"  # type: ignore[arg-type]


def test_bad_rate_limit_settings_are_reported() -> None:
    with pytest.raises(ValueError, match="QUARTIER_RATE_LIMITS"):
        load_settings(
            {
                "QUARTIER_RATE_LIMITS": "uploads=5/60",
                "SECRET_KEY": "k" * 40,
                "QUARTIER_DATA_DIR": tempfile.mkdtemp(),
            }
        )


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis server (Debian's redis-server), private to this test."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (.ci/run installs it)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="quartier-redis-")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def test_two_app_processes_share_one_limit_through_redis(
    redis_url: str, database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "shared-secret-0123456789-abcdefghijklmnop",
        "QUARTIER_ENV": "test",
        "QUARTIER_DATA_DIR": str(tmp_path),
        "QUARTIER_RATE_LIMITS": "default=10/60",
    }
    ports = [free_port(), free_port()]
    processes = [start_app(env, port) for port in ports]
    try:
        for port in ports:
            wait_until(f"http://127.0.0.1:{port}/health")
        start_inside_a_window()
        statuses = [
            httpx.get(f"http://127.0.0.1:{ports[i % 2]}/api/v1/openapi.json", timeout=5).status_code
            for i in range(14)
        ]
        assert statuses[:10] == [200] * 10
        assert statuses[10:] == [429] * 4, "the second process must see the first one's requests"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


@pytest.mark.usefixtures("inside_a_window")
async def test_relay_tokens_have_their_own_limit_per_token(
    settings: Settings, database_url: str, make_token: TokenFactory
) -> None:
    """Issue 13 §2: a portal relaying many residents' submissions from one address is limited
    per token (class `relay`); anonymous residents and other tokens stay limited per client."""
    app = create_app(
        _limited(settings, submission=(2, 60), relay=(5, 60)), database_url=database_url
    )
    relay = await make_token({"submissions:relay"}, name="Stadtportal")
    other_relay = await make_token({"submissions:relay"}, name="Bezirksportal")
    plain = await make_token({"surveys:read"})
    path = f"/api/v1/surveys/{uuid.uuid4()}/responses"
    body = {"answers": {}}
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        for _ in range(5):
            response = await client.post(path, json=body, headers=relay)
            assert response.status_code == 404  # counted, then no such survey
            assert response.headers["ratelimit-limit"] == "5"
        refused = await client.post(path, json=body, headers=relay)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        # another relay token has its own budget; residents from the same address theirs
        assert (await client.post(path, json=body, headers=other_relay)).status_code == 404
        for _ in range(2):
            response = await client.post(path, json=body)
            assert response.status_code == 404
            assert response.headers["ratelimit-limit"] == "2"
        assert (await client.post(path, json=body)).status_code == 429
        # a token without the scope is limited like any client
        assert (await client.post(path, json=body, headers=plain)).status_code == 429
        # an invalid token is refused (and counted in the client's default class)
        invalid = await client.post(path, json=body, headers={"Authorization": "Bearer nope"})
        assert invalid.status_code == 401
