"""Inventory round at 320 px without JavaScript: a planner starts a round for a process of the
demo, takes an organisation's private link from the progress table, and the organisation
confirms its services through it; axe on each page (in a scripted twin of the scriptless page:
see `axe_violations`)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import LiveServer, axe_violations, describe_violations

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}


def _clean(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{page.url} is {width} px wide"


def test_a_planner_starts_a_round_and_an_organisation_confirms(
    new_context: ContextFactory,
    signed_in_state: dict[str, Any],
    live_server: LiveServer,
    first_process_id: str | None,
) -> None:
    assert first_process_id is not None
    planner = new_context(
        java_script_enabled=False, storage_state=signed_in_state, viewport=NARROW
    ).new_page()
    planner.set_default_timeout(15_000)
    rounds = f"/workspace/inventory/processes/{first_process_id}/rounds"
    planner.goto(rounds)
    _clean(planner)
    due = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    planner.fill("#due_on", due)
    planner.get_by_role("button", name="Runde starten", exact=True).click()
    planner.wait_for_load_state()
    assert "Die Bestandsrunde hat begonnen." in planner.content()
    _clean(planner)
    link = planner.locator("a", has_text="Link für").first
    href = link.get_attribute("href")
    assert href and "/inventory/respond/" in href
    name = link.inner_text().removeprefix("Link für ").strip()

    organisation = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    organisation.set_default_timeout(15_000)
    organisation.goto(href)
    assert organisation.get_by_role("heading", level=1).inner_text().endswith(name)
    _clean(organisation)
    organisation.get_by_role("button", name="Unsere Angebote bestätigen").click()
    organisation.wait_for_load_state()
    assert "Danke: Ihre Angebote sind bestätigt." in organisation.content()
    _clean(organisation)

    planner.goto(rounds)
    row = planner.locator("tr", has_text=name).first
    assert "Bestätigt" in row.inner_text()
