"""Journeys through the shell: signing in and out without JavaScript, the error summary (with and
without its script), and the language choice surviving navigation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import (
    PLANNER_EMAIL,
    LiveServer,
    axe_violations,
    describe_violations,
)
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]


def test_sign_in_and_out_without_javascript(
    new_context: ContextFactory, live_server: LiveServer
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/dashboard")
    assert page.url.startswith(f"{live_server.url}/login?next=")  # signed out: to the sign-in page
    page.fill("#email", PLANNER_EMAIL)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/dashboard"
    assert page.locator(".site-nav a[href='/dashboard']").get_attribute("aria-current") == "page"
    assert page.locator(".site-nav a[href='/login']").count() == 0

    page.locator(".site-nav button[type=submit]").click()  # "Sign out" is a POST form
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/"
    assert page.locator(".site-nav a[href='/login']").count() == 1
    assert page.locator(".site-nav a[href='/dashboard']").count() == 0


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_error_summary_links_to_the_fields(new_context: ContextFactory, javascript: bool) -> None:
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto("/login")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    assert page.locator(".error-summary a[href='#email']").count() == 1
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    if javascript:  # axe-core is a script itself (and evaluating scripts hangs without JS)
        violations = axe_violations(page)
        assert not violations, describe_violations(violations)

        # quartier.js moves focus to the summary, and its links focus the field itself.
        assert page.evaluate("() => document.activeElement.classList.contains('error-summary')")
        page.locator(".error-summary a[href='#email']").click()
        assert page.evaluate("() => document.activeElement.id") == "email"
    else:
        page.locator(".error-summary a[href='#email']").click()
        assert page.url.endswith("#email")  # a plain fragment link still leads to the field


def test_chosen_language_stays_while_navigating(new_context: ContextFactory) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/areas")
    page.locator(".language-switch a[hreflang=en]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    page.locator(".site-nav a[href='/']").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator(".skip-link").inner_text() == "Skip to main content"
