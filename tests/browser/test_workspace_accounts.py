"""Journeys of an administrator in the staff workspace, without JavaScript at 320 px: invite an
account (the one-time link is shown), the invited person chooses a password with it; create an
API token (shown once) and revoke it — and axe on the accounts and token pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import (
    LiveServer,
    assert_fits,
    axe_violations,
    create_staff_account,
    describe_violations,
    sign_in,
    submit,
)

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
ADMIN_EMAIL = "admin@browser-tests.example.org"


@pytest.fixture(scope="module")
def admin_state(live_server: LiveServer) -> str:
    return create_staff_account(live_server, ADMIN_EMAIL, "Ada Admin", "admin")


def test_invite_an_account_and_choose_a_password_with_the_link(
    new_context: ContextFactory, admin_state: str
) -> None:
    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    sign_in(page, admin_state)
    page.goto("/workspace/accounts")
    page.fill("#email", "eingeladen@browser-tests.example.org")
    page.fill("#display_name", "Ines Eingeladen")
    page.locator("input[name=role][value=moderator]").check()
    assert_fits(page)
    submit(page, "Einladen")
    link = page.input_value("#sign-in-link")
    assert "/welcome/" in link

    invited = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    invited.goto(link[link.index("/welcome/") :])
    invited.fill("#password", "ein sehr gutes Passwort")
    invited.fill("#password_confirm", "ein sehr gutes Passwort")
    submit(invited, "Passwort speichern und anmelden")
    assert invited.url.endswith("/dashboard")
    expect(invited.locator(".workspace-nav, .site-nav").first).to_be_visible()


def test_create_and_revoke_a_token(new_context: ContextFactory, admin_state: str) -> None:
    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    sign_in(page, admin_state)
    page.goto("/workspace/tokens")
    page.fill("#name", "Statistikamt Browser")
    page.locator("input[name=scopes][value='areas:write']").check()
    page.fill("#expires_on", "2099-12-31")
    submit(page, "Token erstellen")
    secret = page.input_value("#token-secret")
    assert secret.startswith("qrt_")
    assert_fits(page)
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
    sign_in(page, admin_state)
    page.goto(path)
    page.locator("main form[novalidate] button[type=submit]").last.click()  # empty: errors
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    assert_fits(page)


def test_the_link_an_account_and_the_welcome_page_are_axe_clean(
    new_context: ContextFactory, admin_state: str, live_server: LiveServer
) -> None:
    """The invitation's one-time link, one account (role, status, a new sign-in link) and the
    page an invited person chooses a password on, at 320 px."""
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, admin_state)
    page.goto("/workspace/accounts")
    page.fill("#email", "axe-welcome@browser-tests.example.org")
    page.fill("#display_name", "Wilma Welcome")
    page.locator("input[name=role][value=planner]").check()
    submit(page, "Einladen")
    link = page.input_value("#sign-in-link")
    violations = axe_violations(page)  # the one-time link, shown once
    assert not violations, describe_violations(violations)
    assert_fits(page)
    page.goto("/workspace/accounts")
    page.get_by_role("link", name="Wilma Welcome").click()
    expect(page.locator("h1")).to_contain_text("Wilma Welcome")
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    assert_fits(page)

    invited = new_context(viewport=NARROW).new_page()
    invited.goto(link[link.index("/welcome/") :])
    expect(invited.locator("#password")).to_be_visible()
    violations = axe_violations(invited)
    assert not violations, describe_violations(violations)
    assert_fits(invited)
