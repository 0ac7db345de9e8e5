"""Staff accounts, sessions, CSRF, API tokens and sign-in throttling, against a real database."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts.models import StaffAccount
from quartier.app import create_app
from quartier.cli import main as cli
from quartier.settings import Settings
from tests.conftest import TEST_PASSWORD, LoginFactory, TokenFactory

AccountFactory = Callable[..., Awaitable[str]]
SESSION_COOKIE = "__Host-quartier_session"


async def _login(client: AsyncTestClient[Litestar], email: str, password: str = TEST_PASSWORD):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_passwords_are_argon2id_with_owasp_parameters(
    session: AsyncSession, make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    stored = await session.scalar(
        select(StaffAccount.password_hash).where(StaffAccount.email == email)
    )
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in stored
    assert TEST_PASSWORD not in stored


async def test_outdated_hash_is_replaced_at_sign_in(
    client: AsyncTestClient[Litestar], session: AsyncSession, make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    await session.execute(
        update(StaffAccount).where(StaffAccount.email == email).values(password_hash=weak)
    )
    await session.commit()
    assert (await _login(client, email)).status_code == 200
    stored = await session.scalar(
        select(StaffAccount.password_hash).where(StaffAccount.email == email)
    )
    assert stored is not None
    assert "m=19456,t=2,p=1" in stored


async def test_session_cookie_is_host_prefixed_secure_and_http_only(
    client: AsyncTestClient[Litestar], make_account: AccountFactory
) -> None:
    response = await _login(client, await make_account("moderator"))
    header = response.headers["set-cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=lax"):
        assert attribute.lower() in header.lower(), attribute
    assert "domain=" not in header.lower()


async def test_wrong_password_is_401_and_account_is_throttled_after_five_failures(
    client: AsyncTestClient[Litestar], make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    for _ in range(5):
        response = await _login(client, email, "wrong password 123")
        assert response.status_code == 401
        assert response.json()["type"] == "/problems/invalid-credentials"
    blocked = await _login(client, email)  # even the right password is refused now
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


async def test_client_is_throttled_across_accounts(
    settings: Settings, database_url: str, make_account: AccountFactory
) -> None:
    app = create_app(replace(settings, login_attempts_per_client=3), database_url=database_url)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        for index in range(3):
            response = await _login(client, f"nobody-{index}@example.org", "wrong password 123")
            assert response.status_code == 401
        response = await _login(client, await make_account("planner"))
        assert response.status_code == 429


async def test_throttle_keys_are_keyed_hashes_not_addresses(
    client: AsyncTestClient[Litestar], session: AsyncSession, make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    await _login(client, email, "wrong password 123")
    keys = (await session.scalars(text("SELECT throttle_key FROM login_failures"))).all()
    assert len(keys) == 2
    for key in keys:
        assert re.fullmatch(r"[0-9a-f]{64}", key)
        assert email not in key
        assert "testclient" not in key


async def test_unsafe_request_with_session_needs_the_csrf_token(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    headers = await login_as("planner")
    without_token = {"Cookie": headers["Cookie"]}
    refused = await client.post("/api/v1/auth/logout", headers=without_token)
    assert refused.status_code == 403
    wrong = await client.post(
        "/api/v1/auth/logout", headers={**without_token, "X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_revoked_token_is_refused(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    created = await client.post(
        "/api/v1/api-tokens",
        headers=admin,
        json={"name": "Fachverfahren Jugendhilfe", "scopes": ["exports:read"]},
    )
    assert created.status_code == 201, created.text
    bearer = {"Authorization": f"Bearer {created.json()['secret']}"}
    me = await client.get("/api/v1/auth/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["kind"] == "token"
    token_id = created.json()["token"]["id"]
    assert created.headers["location"] == f"/api/v1/api-tokens/{token_id}"
    listed = await client.get("/api/v1/api-tokens", headers=admin)
    assert listed.json()["items"][0]["last_used_at"] is not None
    assert "secret" not in listed.json()["items"][0]
    revoked = await client.delete(f"/api/v1/api-tokens/{token_id}", headers=admin)
    assert revoked.status_code == 204
    refused = await client.get("/api/v1/auth/me", headers=bearer)
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers["www-authenticate"]


async def test_token_secret_is_stored_only_as_a_hash(
    client: AsyncTestClient[Litestar], session: AsyncSession, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    created = await client.post(
        "/api/v1/api-tokens", headers=admin, json={"name": "GIS", "scopes": ["areas:write"]}
    )
    secret = created.json()["secret"]
    row = (await session.execute(text("SELECT * FROM api_tokens"))).mappings().one()
    assert all(secret not in str(value) for value in row.values())


async def test_unknown_bearer_token_is_401_even_on_public_operations(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get(
        "/api/v1/openapi.json", headers={"Authorization": "Bearer qrt_not-a-token"}
    )
    assert response.status_code == 401


async def test_only_admins_manage_accounts(
    client: AsyncTestClient[Litestar], login_as: LoginFactory, make_token: TokenFactory
) -> None:
    body = {
        "email": "Neu.Planerin@Example.org",
        "display_name": "Neue Planerin",
        "role": "planner",
        "password": "ein langes Passwort",
    }
    planner = await login_as("planner")
    assert (
        await client.post("/api/v1/staff-accounts", headers=planner, json=body)
    ).status_code == 403
    token = await make_token({"processes:write"})
    assert (
        await client.post("/api/v1/staff-accounts", headers=token, json=body)
    ).status_code == 403
    admin = await login_as("admin")
    created = await client.post("/api/v1/staff-accounts", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "neu.planerin@example.org"
    duplicate = await client.post("/api/v1/staff-accounts", headers=admin, json=body)
    assert duplicate.status_code == 409


async def test_short_password_is_refused_naming_the_field(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    response = await client.post(
        "/api/v1/staff-accounts",
        headers=admin,
        json={
            "email": "kurz@example.org",
            "display_name": "Kurz",
            "role": "planner",
            "password": "short",
        },
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


async def test_deactivating_an_account_ends_its_sessions(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    moderator = await login_as("moderator")
    me = await client.get("/api/v1/auth/me", headers=moderator)
    account_id = me.json()["id"]
    changed = await client.patch(
        f"/api/v1/staff-accounts/{account_id}", headers=admin, json={"is_active": False}
    )
    assert changed.status_code == 200
    assert changed.json()["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=moderator)).status_code == 401


async def test_sign_in_page_round_trip(
    client: AsyncTestClient[Litestar], make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    page = await client.get("/login?next=/dashboard", headers={"Accept": "text/html"})
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "next": "/dashboard",
        "email": email,
        "password": "wrong password 123",
    }
    wrong = await client.post("/login", data=form)
    assert wrong.status_code == 400
    assert 'class="error-summary"' in wrong.text
    right = await client.post(
        "/login", data={**form, "password": TEST_PASSWORD}, follow_redirects=False
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/dashboard"
    assert SESSION_COOKIE in right.headers["set-cookie"]


async def test_sign_in_form_without_csrf_token_is_refused(
    client: AsyncTestClient[Litestar], make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    response = await client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 403


async def test_sign_in_does_not_redirect_off_site(
    client: AsyncTestClient[Litestar], make_account: AccountFactory
) -> None:
    email = await make_account("planner")
    page = await client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = await client.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "next": "//evil.example/",
            "email": email,
            "password": TEST_PASSWORD,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.usefixtures("template_database")
def test_cli_creates_admin_and_token(database_url: str, tmp_path: object) -> None:
    env = {"DATABASE_URL": database_url, "QUARTIER_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    created = runner.invoke(
        cli,
        ["create-admin", "--email", "admin@example.org", "--name", "Admin", "--password-stdin"],
        input="ein sehr langes Passwort\n",
        env=env,
    )
    assert created.exit_code == 0, created.output
    assert "created admin admin@example.org" in created.output
    again = runner.invoke(
        cli,
        ["create-admin", "--email", "admin@example.org", "--name", "Admin", "--password-stdin"],
        input="ein sehr langes Passwort\n",
        env=env,
    )
    assert again.exit_code == 1
    token = runner.invoke(cli, ["create-token", "--name", "GIS", "--scope", "areas:write"], env=env)
    assert token.exit_code == 0, token.output
    assert re.search(r"^qrt_[A-Za-z0-9_-]{40,}$", token.stdout.strip().splitlines()[-1])


async def test_an_admin_cannot_lock_themselves_out(
    client: AsyncTestClient[Litestar], login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    for change in ({"is_active": False}, {"role": "planner"}):
        response = await client.patch(
            f"/api/v1/staff-accounts/{me['id']}", headers=admin, json=change
        )
        assert response.status_code == 409, change
    renamed = await client.patch(
        f"/api/v1/staff-accounts/{me['id']}", headers=admin, json={"display_name": "Neuer Name"}
    )
    assert renamed.status_code == 200
