"""Sign-in, sessions and tokens: the basic paths (the full behaviour is in the other tests)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import LoginFactory, TokenFactory


async def test_signed_in_planner_is_recognised(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    headers = await login_as("planner")
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "planner"
    assert response.json()["kind"] == "staff"


async def test_token_is_recognised_with_its_scopes(
    client: AsyncTestClient[Litestar], make_token: TokenFactory
) -> None:
    headers = await make_token({"areas:write", "exports:read"})
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["scopes"] == ["areas:write", "exports:read"]


async def test_anonymous_caller_gets_401(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
