"""An administrator manages the need categories without JavaScript at 320 px: reaches the page
from the workspace navigation, adds a category with its label in German and English, edits it
(an Arabic label, a changed English one), deactivates and reactivates it — and axe on the list
and the edit page."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services as accounts
from quartier.core.security import Role
from quartier.runtime import run_in_session
from tests.browser.conftest import UUID_PATTERN, LiveServer, axe_violations, describe_violations
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
ADMIN_EMAIL = "categories-admin@browser-tests.example.org"


@pytest.fixture(scope="module")
def admin_email(live_server: LiveServer) -> str:
    async def create(session: AsyncSession) -> None:
        await accounts.create_account(
            session,
            email=ADMIN_EMAIL,
            display_name="Clara Kategorie",
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


def _axe_clean(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


def test_add_edit_deactivate_and_reactivate_a_need_category(
    new_context: ContextFactory, admin_email: str
) -> None:
    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    _sign_in(page, admin_email)
    page.goto("/workspace/password")
    page.get_by_role("navigation", name="Arbeitsbereich").get_by_role(
        "link", name="Bedarfskategorien"
    ).click()
    page.wait_for_load_state()
    assert page.url.endswith("/workspace/need-categories")
    assert page.locator("#label_en").count() == 1 and page.locator("#label_ar").count() == 1
    _fits(page)
    _axe_clean(page)

    # A key that breaks the rule: the error is named, what was typed stays.
    page.fill("#key", "Nachbarschaft!")
    page.fill("#label", "Nachbarschaftshilfe")
    _submit(page, "Bedarfskategorie anlegen")
    summary = page.locator(".error-summary")
    assert summary.count() == 1 and summary.locator('a[href="#key"]').count() == 1
    assert page.input_value("#key") == "Nachbarschaft!"
    assert page.input_value("#label") == "Nachbarschaftshilfe"

    page.fill("#key", "nachbarschaftshilfe")
    page.fill("#label_en", "Neighbourly help")
    page.fill("#position", "90")
    _submit(page, "Bedarfskategorie anlegen")
    assert page.url.endswith("?done=saved")
    row = page.locator("tr", has_text="nachbarschaftshilfe")
    assert "Nachbarschaftshilfe" in row.inner_text() and "English" in row.inner_text()
    _fits(page)

    row.get_by_role("link", name="Nachbarschaftshilfe").click()
    page.wait_for_load_state()
    assert re.search(rf"/workspace/need-categories/{UUID_PATTERN}$", page.url)
    edit_url = page.url
    assert page.input_value("#label_en") == "Neighbourly help"
    _fits(page)
    _axe_clean(page)
    page.fill("#label_en", "Help among neighbours")
    page.fill("#label_ar", "المساعدة بين الجيران")
    _submit(page, "Änderungen speichern")
    assert page.url.endswith("?done=saved")
    row = page.locator("tr", has_text="nachbarschaftshilfe")
    assert "العربية" in row.inner_text()

    page.goto(edit_url)
    assert page.input_value("#label_en") == "Help among neighbours"
    assert page.input_value("#label_ar") == "المساعدة بين الجيران"
    assert page.get_attribute("#label_ar", "dir") == "rtl"
    _submit(page, "Bedarfskategorie deaktivieren")
    assert page.url.endswith("?done=deactivated")
    assert "Deaktiviert" in page.locator("tr", has_text="nachbarschaftshilfe").inner_text()

    page.goto(edit_url)
    _submit(page, "Bedarfskategorie wieder aktivieren")
    assert page.url.endswith("?done=reactivated")
    assert "Deaktiviert" not in page.locator("tr", has_text="nachbarschaftshilfe").inner_text()
