"""The accounts pages of the staff workspace: invitations with one-time sign-in links, roles,
deactivation, resets, one's own password, and API tokens — as HTML forms."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services
from quartier.accounts.models import ApiToken, StaffAccount, StaffSession
from tests.conftest import TEST_PASSWORD, LoginFactory

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}
NEW_PASSWORD = "a brand new password 42"


async def _post(client: Client, url: str, headers: dict[str, str], data: Any) -> Any:
    """A form post as the browser sends it: the CSRF token in the form body."""
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    fields: dict[str, list[str]] = {"csrf_token": [headers["X-CSRF-Token"]]}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return await client.post(
        url, data=fields, headers={"Cookie": headers["Cookie"], **HTML}, follow_redirects=False
    )


def _link(html: str) -> str:
    found = re.search(r'value="https?://[^"]*(/welcome/[^"]+)"', html)
    assert found, "the page shows the sign-in link"
    return found.group(1)


async def _invite(client: Client, admin: dict[str, str], email: str = "neu@example.org") -> str:
    response = await _post(
        client,
        "/workspace/accounts",
        admin,
        {"email": email, "display_name": "Neue Planerin", "role": "planner"},
    )
    assert response.status_code == 200, response.text
    return _link(response.text)


async def test_accounts_pages_are_for_administrators_only(
    client: Client, login_as: LoginFactory
) -> None:
    planner = await login_as("planner")
    for url in ("/workspace/accounts", "/workspace/tokens"):
        assert (await client.get(url, headers={**planner, **HTML})).status_code == 403
        anonymous = await client.get(url, headers=HTML, follow_redirects=False)
        assert anonymous.status_code in (302, 303, 401)
    refused = await _post(
        client, "/workspace/tokens", planner, {"name": "x", "scopes": "areas:write"}
    )
    assert refused.status_code == 403
    assert (await client.get("/workspace/password", headers={**planner, **HTML})).status_code == 200


async def test_workspace_nav_links_every_staff_page(client: Client, login_as: LoginFactory) -> None:
    admin = await login_as("admin")
    html = (await client.get("/workspace/accounts", headers={**admin, **HTML})).text
    nav = html[html.index('class="workspace-nav"') :]
    nav = nav[: nav.index("</nav>")]
    for href in (
        "/dashboard",
        "/workspace/processes/new",
        "/workspace/organisations",
        "/workspace/accounts",
        "/workspace/tokens",
        "/workspace/password",
    ):
        assert f'href="{href}"' in nav
    planner = await login_as("planner")
    html = (await client.get("/workspace/password", headers={**planner, **HTML})).text
    assert 'href="/workspace/accounts"' not in html


async def test_invitation_link_sets_the_password_once_and_signs_in(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    link = await _invite(client, admin)
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.email == "neu@example.org")
    )
    assert account is not None and account.role == "planner" and account.is_active

    page = await client.get(link, headers=HTML)
    assert page.status_code == 200
    assert "neu@example.org" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    mismatch = await client.post(
        link,
        data={"csrf_token": csrf.group(1), "password": NEW_PASSWORD, "password_confirm": "other"},
        headers=HTML,
    )
    assert mismatch.status_code == 400
    assert 'href="#password_confirm"' in mismatch.text

    done = await client.post(
        link,
        data={
            "csrf_token": csrf.group(1),
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    assert "__Host-quartier_session" in done.headers.get("set-cookie", "")
    client.cookies.clear()
    login = await client.post(
        "/api/v1/auth/login", json={"email": "neu@example.org", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    client.cookies.clear()
    # the link worked once
    assert (await client.get(link, headers=HTML)).status_code == 404


async def test_invitation_errors_are_summarised_and_named_per_field(
    client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    response = await _post(
        client,
        "/workspace/accounts",
        admin,
        {"email": "not-an-address", "display_name": "", "role": "emperor"},
    )
    assert response.status_code == 400
    html = response.text
    assert 'class="error-summary"' in html
    for field in ("email", "display_name", "role"):
        assert f'href="#{field}"' in html
        assert f'id="{field}-error"' in html
    await _invite(client, admin, "doppelt@example.org")
    again = await _post(
        client,
        "/workspace/accounts",
        admin,
        {"email": "doppelt@example.org", "display_name": "Noch mal", "role": "planner"},
    )
    assert again.status_code == 409
    assert 'href="#email"' in again.text


async def test_role_change_deactivation_and_reset(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    await _invite(client, admin, "wechsel@example.org")
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.email == "wechsel@example.org")
    )
    assert account is not None
    base = f"/workspace/accounts/{account.id}"
    page = await client.get(base, headers={**admin, **HTML})
    assert page.status_code == 200 and "wechsel@example.org" in page.text

    changed = await _post(client, f"{base}/role", admin, {"role": "moderator"})
    assert changed.status_code == 303
    bad = await _post(client, f"{base}/role", admin, {"role": "king"})
    assert bad.status_code == 400 and 'href="#role"' in bad.text
    off = await _post(client, f"{base}/status", admin, {"active": "false"})
    assert off.status_code == 303
    await session.refresh(account)
    assert account.role == "moderator" and account.is_active is False
    on = await _post(client, f"{base}/status", admin, {"active": "true"})
    assert on.status_code == 303

    first = await _post(client, f"{base}/reset", admin, {})
    second = await _post(client, f"{base}/reset", admin, {})
    assert first.status_code == second.status_code == 200
    old_link, new_link = _link(first.text), _link(second.text)
    assert (await client.get(old_link, headers=HTML)).status_code == 404
    assert (await client.get(new_link, headers=HTML)).status_code == 200


async def test_an_admin_cannot_deactivate_their_own_account(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()["id"]
    response = await _post(client, f"/workspace/accounts/{me}/status", admin, {"active": "false"})
    assert response.status_code == 409
    assert 'href="#active"' in response.text


async def test_reset_link_is_mailed_when_a_sender_is_configured(
    client: Client, app: Litestar, login_as: LoginFactory
) -> None:
    sent: list[dict[str, Any]] = []

    async def sender(**message: Any) -> None:
        sent.append(message)

    app.state[services.SIGN_IN_LINK_SENDER] = sender
    admin = await login_as("admin")
    response = await _post(
        client,
        "/workspace/accounts",
        admin,
        {"email": "post@example.org", "display_name": "Per Post", "role": "moderator"},
    )
    assert response.status_code == 200
    assert "/welcome/" not in response.text
    assert sent and sent[0]["email"] == "post@example.org" and sent[0]["purpose"] == "invite"
    assert "/welcome/" in sent[0]["url"]


async def test_changing_own_password_needs_the_current_one(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    planner = await login_as("planner")
    wrong = await _post(
        client,
        "/workspace/password",
        planner,
        {
            "current_password": "not it",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400 and 'href="#current_password"' in wrong.text
    short = await _post(
        client,
        "/workspace/password",
        planner,
        {"current_password": TEST_PASSWORD, "password": "short", "password_confirm": "short"},
    )
    assert short.status_code == 400 and 'id="password-error"' in short.text
    done = await _post(
        client,
        "/workspace/password",
        planner,
        {
            "current_password": TEST_PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 303
    assert "__Host-quartier_session" in done.headers.get("set-cookie", "")
    # the old session ended; only the new one is left
    client.cookies.clear()
    old = await client.get(
        "/workspace/password", headers={**planner, **HTML}, follow_redirects=False
    )
    assert old.status_code in (302, 303, 401)
    sessions = (await session.scalars(select(StaffSession))).all()
    assert len(sessions) == 1


async def test_token_is_created_with_scopes_and_expiry_shown_once_and_revoked(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    created = await _post(
        client,
        "/workspace/tokens",
        admin,
        [
            ("name", "Statistikamt"),
            ("scopes", "areas:write"),
            ("scopes", "exports:read"),
            ("expires_on", "2099-12-31"),
        ],
    )
    assert created.status_code == 200, created.text
    secret = re.search(r'id="token-secret" type="text" readonly value="(qrt_[^"]+)"', created.text)
    assert secret
    token = await session.scalar(select(ApiToken).where(ApiToken.name == "Statistikamt"))
    assert token is not None
    assert token.scopes == ["areas:write", "exports:read"]
    assert token.expires_at is not None and token.expires_at.year == 2099
    # the token works, and the list shows its last use but never the secret again
    used = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret[1]}"})
    assert used.status_code == 200
    listing = await client.get("/workspace/tokens", headers={**admin, **HTML})
    assert secret.group(1) not in listing.text
    assert "Import and change social areas" not in listing.text  # German by default
    assert "Sozialräume importieren" in listing.text or "areas:write" in listing.text
    await session.refresh(token)
    assert token.last_used_at is not None
    last_use = token.last_used_at.strftime("%Y-%m-%d %H:%M")
    assert f'<td data-label="Letzte Nutzung">{last_use}</td>' in listing.text

    revoked = await _post(client, f"/workspace/tokens/{token.id}/revoke", admin, {})
    assert revoked.status_code == 303
    refused = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret[1]}"})
    assert refused.status_code == 401


async def test_token_form_errors(client: Client, login_as: LoginFactory) -> None:
    admin = await login_as("admin")
    response = await _post(
        client,
        "/workspace/tokens",
        admin,
        [("name", ""), ("scopes", "everything"), ("expires_on", "2001-01-01")],
    )
    assert response.status_code == 400
    assert 'href="#name"' in response.text and 'href="#scopes"' in response.text
    past = await _post(
        client,
        "/workspace/tokens",
        admin,
        [("name", "x"), ("scopes", "areas:write"), ("expires_on", "2001-01-01")],
    )
    assert past.status_code == 400 and 'href="#expires_on"' in past.text
    nonsense = await _post(
        client,
        "/workspace/tokens",
        admin,
        [("name", "x"), ("scopes", "areas:write"), ("expires_on", "soon")],
    )
    assert nonsense.status_code == 400 and 'id="expires_on-error"' in nonsense.text
