"""A planner drafts a measure (its title also in English), saves a second version, compares the
two and opens the consultation, and residents read it in English — in Chromium with JavaScript
off; axe-core clean on the planner pages and the resident page (checked in a context with
scripts on, which axe needs)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import LiveServer, axe_violations, describe_violations

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
DESKTOP = {"width": 1280, "height": 900}


LIVE: list[str] = []


@pytest.fixture(scope="module")
def planning_process(live_server: LiveServer) -> str:
    LIVE[:] = [live_server.url]
    processes = httpx.get(f"{live_server.url}/api/v1/processes", timeout=30).json()["items"]
    for process in processes:
        if process["active_phase"] == "measure_planning":
            return str(process["id"])
    pytest.fail("the demo has no process in measure planning")


def _accessible(page: Page) -> None:
    """Axe on the same URL in a context with scripts (GET pages only)."""
    checked = page.context.browser.new_context(  # type: ignore[union-attr]
        base_url=LIVE[0], storage_state=page.context.storage_state(), locale="de-DE"
    )
    try:
        view = checked.new_page()
        view.goto(page.url)
        violations = axe_violations(view)
        assert violations == [], describe_violations(violations)
    finally:
        checked.close()


def test_a_planner_drafts_versions_and_consults(
    new_context: ContextFactory, signed_in_state: dict[str, Any], planning_process: str
) -> None:
    context = new_context(
        viewport=DESKTOP, java_script_enabled=False, storage_state=signed_in_state
    )
    page = context.new_page()
    response = page.goto(f"/dashboard/processes/{planning_process}/measures")
    assert response is not None and response.status == 200
    _accessible(page)
    page.get_by_role("button", name="Maßnahme entwerfen").click()
    page.wait_for_load_state()
    _accessible(page)
    page.locator("#title").fill("Mittagstisch im Kiez")
    page.locator("#title_en").fill("Lunch in the neighbourhood")
    page.locator("#resources-0-label").fill("Küchenkraft")
    page.locator("#resources-0-amount").fill("0,5")
    page.locator("#sections-0-key").fill("offer")
    page.locator("#sections-0-title").fill("Angebot")
    page.locator("#sections-0-body").fill("Mittagessen dienstags.")
    page.get_by_role("button", name="Entwurf speichern").click()
    page.wait_for_load_state()
    assert re.search(r"/dashboard/measures/[0-9a-f-]{36}$", page.url), page.url
    assert page.locator("h1").inner_text() == "Mittagstisch im Kiez"
    _accessible(page)

    page.get_by_role("button", name="Bearbeiten (neue Version)").click()
    page.wait_for_load_state()
    page.locator("#sections-0-body").fill("Mittagessen dienstags und donnerstags.")
    page.get_by_role("button", name="Als neue Version speichern").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Änderungen gegenüber Version 1").click()
    page.wait_for_load_state()
    assert "donnerstags" in page.locator("main").inner_text()
    _accessible(page)

    page.go_back()
    page.get_by_label("Warum jetzt? (wird festgehalten)").fill("Mit den Trägern abgestimmt")
    page.get_by_role("button", name="Beteiligung eröffnen").click()
    page.wait_for_load_state()
    assert "In Beteiligung" in page.locator("main").inner_text()
    _accessible(page)

    # Residents reading English see the English title, and a note where German is shown.
    measure_id = re.search(r"/dashboard/measures/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]
    page.goto(f"/measures/{measure_id}?lang=en")
    assert page.locator("h1").inner_text() == "Lunch in the neighbourhood"
    assert page.locator("[data-language-fallback]").count() == 1
    _accessible(page)
