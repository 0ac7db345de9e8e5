"""Journey through the staff workspace without JavaScript at 320 px: create a process (with the
social-area search and the mandate's English column), publish it, activate the needs assessment
after the confirmation that says what opens for residents, read its mandate as a resident in
English — and axe on the workspace pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import UUID_PATTERN, LiveServer, axe_violations, describe_violations

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}


_WIDE_ELEMENTS = """(limit) => [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > limit)
    .filter((e) => !e.parentElement || e.parentElement.getBoundingClientRect().right <= limit)
    .slice(0, 5)
    .map((e) => e.tagName + (e.className ? "." + e.className : "")
        + " " + Math.round(e.getBoundingClientRect().width) + "px")"""


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW["width"]:
        wide = page.evaluate(_WIDE_ELEMENTS, NARROW["width"])
        raise AssertionError(f"{page.url} is {width} px wide at 320 px: {wide}")


def _submit(page: Page, text: str) -> None:
    page.get_by_role("button", name=text, exact=True).click()
    page.wait_for_load_state()


def test_create_a_process_and_walk_it_to_needs_assessment(
    new_context: ContextFactory, signed_in_state: dict[str, Any], live_server: LiveServer
) -> None:
    page = new_context(
        java_script_enabled=False, storage_state=signed_in_state, viewport=NARROW
    ).new_page()
    page.goto("/dashboard")
    page.get_by_role("button", name="Neuer Planungsprozess").click()
    page.wait_for_load_state()
    assert page.url.endswith("/workspace/processes/new")
    page.fill("#title", "Gesund aufwachsen in Moabit")
    page.fill("#topic", "Kindergesundheit")
    page.fill("#area_q", "Moabit")
    _submit(page, "Suchen")  # the search is a GET of the whole form: what was typed stays
    assert page.input_value("#title") == "Gesund aufwachsen in Moabit"
    page.locator("input[name=area_codes]").first.check()
    page.fill("#commissioned_by", "Jugendhilfeausschuss Mitte")
    page.fill("#aim", "Kinder wachsen gesund auf")
    page.fill("#aim_en", "Children grow up healthy")  # the mandate's English column
    _fits(page)
    _submit(page, "Prozess anlegen")
    created = re.search(rf"/workspace/processes/({UUID_PATTERN})\?done=created$", page.url)
    assert created
    assert "Entwurf" in page.locator("main").inner_text()
    _fits(page)

    _submit(page, "Veröffentlichen")
    assert "veröffentlicht" in page.locator("main").inner_text()
    page.locator("#phase-needs_assessment a", has_text="Aktivieren").click()
    page.wait_for_load_state()
    confirmation = page.locator("main").inner_text()
    assert "Öffnet: Befragungen" in confirmation and "Öffnet: Ideen" in confirmation
    _fits(page)
    _submit(page, "Diese Phase aktivieren")
    assert page.url.endswith("?done=activated")
    active_row = page.locator("#phase-needs_assessment").inner_text()
    assert "Aktiv" in active_row or "aktiv" in active_row

    # Residents reading English see the mandate's aim in English, the rest German and marked.
    page.goto(f"/processes/{created.group(1)}?lang=en")
    mandate = page.locator("section[aria-labelledby=mandate]")
    expect(mandate.locator("dd", has_text="Children grow up healthy")).to_be_visible()
    german = mandate.locator('dd[lang="de"][dir="ltr"]', has_text="Jugendhilfeausschuss Mitte")
    expect(german).to_be_visible()
    expect(page.locator("[data-language-fallback]")).to_have_count(1)
    _fits(page)


@pytest.mark.parametrize(
    "path", ["/workspace/processes/new", "/workspace/organisations"], ids=["new", "organisations"]
)
def test_workspace_pages_are_axe_clean(
    new_context: ContextFactory, signed_in_state: dict[str, Any], path: str
) -> None:
    page = new_context(storage_state=signed_in_state, viewport=NARROW).new_page()
    page.goto(path)
    page.get_by_role(
        "button", name="Suchen" if path.endswith("new") else "Organisation hinzufügen"
    ).click()
    page.wait_for_load_state()
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    _fits(page)


@pytest.mark.parametrize(
    "suffix",
    [
        "",
        "/edit",
        "/roles",
        "/contributions",
        "/participation",
        "/phases/evaluation",
        "/phases/evaluation/activate",
    ],
    ids=["overview", "edit", "roles", "contributions", "participation", "phase", "activate"],
)
def test_process_workspace_pages_are_axe_clean_and_fit_320_px(
    new_context: ContextFactory,
    signed_in_state: dict[str, Any],
    first_process_id: str | None,
    suffix: str,
) -> None:
    assert first_process_id, "the demo has processes"
    page = new_context(storage_state=signed_in_state, viewport=NARROW).new_page()
    response = page.goto(f"/workspace/processes/{first_process_id}{suffix}")
    assert response is not None and response.status == 200
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    _fits(page)


def test_an_organisation_page_is_axe_clean_and_fits_320_px(
    new_context: ContextFactory, signed_in_state: dict[str, Any]
) -> None:
    """One organisation of the demo (its fields, deactivation and removal)."""
    page = new_context(storage_state=signed_in_state, viewport=NARROW).new_page()
    page.goto("/workspace/organisations")
    page.locator("main table a[href^='/workspace/organisations/']").first.click()
    expect(page.locator("main form").first).to_be_visible()
    assert re.search(rf"/workspace/organisations/{UUID_PATTERN}$", page.url), page.url
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    _fits(page)
