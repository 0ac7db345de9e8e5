"""An administrator manages the need categories without JavaScript at 320 px: reaches the page
from the workspace navigation, adds a category with its label in German and English, edits it
(an Arabic label, a changed English one), deactivates and reactivates it — and axe on the list
and the edit page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import (
    UUID_PATTERN,
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
ADMIN_EMAIL = "categories-admin@browser-tests.example.org"


@pytest.fixture(scope="module")
def admin_email(live_server: LiveServer) -> str:
    return create_staff_account(live_server, ADMIN_EMAIL, "Clara Kategorie", "admin")


def _axe_clean(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


def test_add_edit_deactivate_and_reactivate_a_need_category(
    new_context: ContextFactory, admin_email: str
) -> None:
    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    sign_in(page, admin_email)
    page.goto("/workspace/password")
    page.get_by_role("navigation", name="Arbeitsbereich").get_by_role(
        "link", name="Bedarfskategorien"
    ).click()
    page.wait_for_load_state()
    assert page.url.endswith("/workspace/need-categories")
    assert page.locator("#label_en").count() == 1 and page.locator("#label_ar").count() == 1
    assert_fits(page)
    _axe_clean(page)

    # A key that breaks the rule: the error is named, what was typed stays.
    page.fill("#key", "Nachbarschaft!")
    page.fill("#label", "Nachbarschaftshilfe")
    submit(page, "Bedarfskategorie anlegen")
    summary = page.locator(".error-summary")
    assert summary.count() == 1 and summary.locator('a[href="#key"]').count() == 1
    assert page.input_value("#key") == "Nachbarschaft!"
    assert page.input_value("#label") == "Nachbarschaftshilfe"

    page.fill("#key", "nachbarschaftshilfe")
    page.fill("#label_en", "Neighbourly help")
    page.fill("#position", "90")
    submit(page, "Bedarfskategorie anlegen")
    assert page.url.endswith("?done=saved")
    row = page.locator("tr", has_text="nachbarschaftshilfe")
    assert "Nachbarschaftshilfe" in row.inner_text() and "English" in row.inner_text()
    assert_fits(page)

    row.get_by_role("link", name="Nachbarschaftshilfe").click()
    page.wait_for_load_state()
    assert re.search(rf"/workspace/need-categories/{UUID_PATTERN}$", page.url)
    edit_url = page.url
    assert page.input_value("#label_en") == "Neighbourly help"
    assert_fits(page)
    _axe_clean(page)
    page.fill("#label_en", "Help among neighbours")
    page.fill("#label_ar", "المساعدة بين الجيران")
    submit(page, "Änderungen speichern")
    assert page.url.endswith("?done=saved")
    row = page.locator("tr", has_text="nachbarschaftshilfe")
    assert "العربية" in row.inner_text()

    page.goto(edit_url)
    assert page.input_value("#label_en") == "Help among neighbours"
    assert page.input_value("#label_ar") == "المساعدة بين الجيران"
    assert page.get_attribute("#label_ar", "dir") == "rtl"
    submit(page, "Bedarfskategorie deaktivieren")
    assert page.url.endswith("?done=deactivated")
    assert "Deaktiviert" in page.locator("tr", has_text="nachbarschaftshilfe").inner_text()

    page.goto(edit_url)
    submit(page, "Bedarfskategorie wieder aktivieren")
    assert page.url.endswith("?done=reactivated")
    assert "Deaktiviert" not in page.locator("tr", has_text="nachbarschaftshilfe").inner_text()
