"""Journeys of an administrator in the staff workspace, without JavaScript at 320 px: invite an
account (the one-time link is shown), the invited person chooses a password with it; create an
API token (shown once) and revoke it — and axe on the accounts and token pages."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services as accounts
from quartier.core.security import Role
from quartier.runtime import run_in_session
from tests.browser.conftest import LiveServer, axe_violations, describe_violations
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
ADMIN_EMAIL = "admin@browser-tests.example.org"


@pytest.fixture(scope="module")
def admin_state(live_server: LiveServer) -> str:
    async def create(session: AsyncSession) -> None:
        await accounts.create_account(
            session,
            email=ADMIN_EMAIL,
            display_name="Ada Admin",
            role=Role.ADMIN,
            password=TEST_PASSWORD,
        )

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    worker = threading.Thread(target=run_in_session, args=(live_server.database_url, create))
    worker.start()
    worker.join()
    return ADMIN_EMAIL


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{page.url} is {width} px wide at 320 px"


def _submit(page: Page, text: str) -> None:
    page.get_by_role("button", name=text, exact=True).click()
    page.wait_for_load_state()


def test_invite_an_account_and_choose_a_password_with_the_link(
    new_context: ContextFactory, admin_state: str
) -> None:
    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    _sign_in(page, admin_state)
    page.goto("/workspace/accounts")
    page.fill("#email", "eingeladen@browser-tests.example.org")
    page.fill("#display_name", "Ines Eingeladen")
    page.locator("input[name=role][value=moderator]").check()
    _fits(page)
    _submit(page, "Einladen")
    link = page.input_value("#sign-in-link")
    assert "/welcome/" in link

    invited = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    invited.goto(link[link.index("/welcome/") :])
    invited.fill("#password", "ein sehr gutes Passwort")
    invited.fill("#password_confirm", "ein sehr gutes Passwort")
    _submit(invited, "Passwort speichern und anmelden")
    assert invited.url.endswith("/dashboard")
    assert invited.locator(".workspace-nav, .site-nav").first.is_visible()


def test_create_and_revoke_a_token(new_context: ContextFactory, admin_state: str) -> None:
    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    _sign_in(page, admin_state)
    page.goto("/workspace/tokens")
    page.fill("#name", "Statistikamt Browser")
    page.locator("input[name=scopes][value='areas:write']").check()
    page.fill("#expires_on", "2099-12-31")
    _submit(page, "Token erstellen")
    secret = page.input_value("#token-secret")
    assert secret.startswith("qrt_")
    _fits(page)
    row = page.locator("tr", has_text="Statistikamt Browser")
    row.get_by_role("button", name="Statistikamt Browser widerrufen").click()
    page.wait_for_load_state()
    assert page.url.endswith("?done=revoked")
    assert "Widerrufen" in page.locator("tr", has_text="Statistikamt Browser").inner_text()
    assert secret not in page.content()


@pytest.mark.parametrize(
    "path", ["/workspace/accounts", "/workspace/tokens", "/workspace/password"]
)
def test_accounts_pages_are_axe_clean(
    new_context: ContextFactory, admin_state: str, path: str
) -> None:
    page = new_context(viewport=NARROW).new_page()
    _sign_in(page, admin_state)
    page.goto(path)
    page.locator("main form[novalidate] button[type=submit]").last.click()  # empty: errors
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    _fits(page)
