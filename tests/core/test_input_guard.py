"""NUL characters are refused everywhere with 400 naming the field (never a database error)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_nul_in_a_json_field_is_named(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": "a\u0000@example.org", "password": "x"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "email", "source": "body", "message": "NUL characters are not allowed"}
    ]


async def test_nul_deep_in_a_body_is_named_with_its_path(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "a@example.org", "password": "x", "extra": [{"note": "\u0000"}]},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "extra[0].note"


async def test_an_escaped_backslash_is_not_a_nul(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": "a@example.org", "password": "\\u0000"}
    )
    assert response.status_code == 401  # reached the sign-in, which refused the password


async def test_nul_in_query_and_path_is_refused(client: AsyncTestClient[Litestar]) -> None:
    query = await client.get("/api/v1/social-areas?q=Mitte%00")
    assert query.status_code == 400
    assert query.json()["errors"][0] == {
        "field": "q",
        "source": "query",
        "message": "NUL characters are not allowed",
    }
    path = await client.get("/api/v1/social-areas/by-code/01%00")
    assert path.status_code == 400
    assert path.json()["errors"][0]["source"] == "path"


async def test_nul_in_a_form_is_refused(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/login",
        content=b"email=a%00b&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


async def test_language_inputs_beyond_their_declared_bounds_are_a_400_naming_them(
    client: AsyncTestClient[Litestar],
) -> None:
    """The contract bounds `lang` (35) and `Accept-Language` (500) on every operation; the
    server refuses what the contract calls invalid instead of silently ignoring it."""
    response = await client.get("/api/v1/area-levels", params={"lang": "0" * 36})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "lang", "source": "query", "message": "at most 35 characters"}
    ]
    response = await client.get("/api/v1/area-levels", headers={"Accept-Language": "de," * 200})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Accept-Language"
    # Within the bounds an unknown language is ignored, as the contract says.
    for params in ({"lang": "x" * 35}, {"lang": "ü" * 35}):
        response = await client.get("/api/v1/area-levels", params=params)
        assert response.status_code == 200
        assert response.headers["content-language"] == "de"
