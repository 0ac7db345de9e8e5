"""A resident gives feedback on the demo measure in Chromium at 320 px with JavaScript off
(keyboard for the stance); axe-core (WCAG 2.x A/AA) clean and nothing wider than 320 px on the
measure page and after an error (axe needs scripts: checked in a context with them on)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import LiveServer, axe_violations, describe_violations
from tests.browser.test_pages import _OVERFLOWING

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}


@pytest.fixture(scope="module")
def measure_id(live_server: LiveServer) -> str:
    """The demo measure open for feedback."""
    processes = httpx.get(f"{live_server.url}/api/v1/processes", timeout=30).json()["items"]
    for process in processes:
        measures = httpx.get(
            f"{live_server.url}/api/v1/processes/{process['id']}/measures",
            params={"status": "in_consultation"},
            timeout=30,
        ).json()
        for measure in measures.get("items", []):
            return str(measure["id"])
    pytest.fail("the demo has no measure in consultation")


def _accessible_and_narrow(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)
    result = page.evaluate(_OVERFLOWING)
    assert result["scrollWidth"] <= NARROW["width"], result


def test_a_resident_gives_feedback_on_a_phone_without_javascript(
    new_context: ContextFactory, measure_id: str
) -> None:
    checked = new_context(viewport=NARROW).new_page()
    checked.goto(f"/measures/{measure_id}")
    _accessible_and_narrow(checked)
    checked.get_by_role("button", name="Rückmeldung senden").click()
    checked.wait_for_load_state()
    assert checked.locator(".error-summary").is_visible()
    _accessible_and_narrow(checked)

    context = new_context(viewport=NARROW, java_script_enabled=False)
    page = context.new_page()
    response = page.goto(f"/measures/{measure_id}")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "Kiezlotsinnen für ältere Menschen"
    assert page.get_by_role("heading", name="Wie wir die Menschen erreichen").is_visible()

    # sending without a stance: the error summary links to the question
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a").first.get_attribute("href") == "#stance"

    # the stance with the keyboard, the rest by filling in
    page.locator("#stance").focus()
    page.keyboard.press("Space")
    assert page.locator("#stance").is_checked()
    page.get_by_label("Anmerkung zu „Angebot“").fill("Bitte auch Sprechstunden am Samstag.")
    page.locator("label[for='ratings-relevance-5']").click()
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Danke – Ihre Rückmeldung ist angekommen").is_visible()

    # the same browser cannot answer twice
    page.goto(f"/measures/{measure_id}")
    page.locator("label[for='stance-3']").click()
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    assert "schon eine Rückmeldung" in page.locator("main").inner_text()
