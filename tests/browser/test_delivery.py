"""A planner enters a provider's period report and records an assessment in Chromium at 320 px
with JavaScript off, and the assessment appears on the measure's public page; axe-core (WCAG
2.x A/AA) clean and nothing wider than 320 px on the report form (also after an error), the
evaluation page and the public page (axe needs scripts: checked in a context with them on)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.runtime import run_in_session
from tests.browser.conftest import LiveServer, axe_violations, describe_violations
from tests.browser.test_pages import _OVERFLOWING

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
TITLE = "Seniorentreff am Reuterplatz"


@pytest.fixture(scope="module")
def measure_id(live_server: LiveServer) -> str:
    """A measure of the demo's older-people process, put straight into delivery (the lifecycle
    pages are tested elsewhere)."""

    async def create(session: AsyncSession) -> str:
        from quartier.measures import demo, services
        from quartier.measures import schemas as s
        from quartier.measures.models import Measure
        from quartier.processes import models as pm
        from quartier.processes.services import SYSTEM

        process_id = await session.scalar(
            sa.select(pm.PlanningProcess.id).where(pm.PlanningProcess.title == demo.PROCESS_TITLE)
        )
        assert process_id is not None
        data = s.MeasureInput(
            title=TITLE,
            target_groups=["Menschen über 75", "Pflegende Angehörige"],
            resources=[
                s.ResourceLine(label="Sachkosten", amount=12000, unit="eur", period="per_year")
            ],
            criteria=[s.Criterion(indicator="Besuche je Monat", baseline="0", target="200")],
        )
        measure_id = await services.create_measure(session, process_id, data, SYSTEM)
        await session.execute(
            sa.update(Measure).where(Measure.id == measure_id).values(status="in_delivery")
        )
        return str(measure_id)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return str(pool.submit(run_in_session, live_server.database_url, create).result())


def _accessible_and_narrow(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)
    result = page.evaluate(_OVERFLOWING)
    assert result["scrollWidth"] <= NARROW["width"], result


def _submit(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def test_a_report_and_an_assessment_reach_the_measure_page(
    new_context: ContextFactory, signed_in_state: dict[str, Any], measure_id: str
) -> None:
    checked = new_context(viewport=NARROW, storage_state=signed_in_state).new_page()
    checked.goto(f"/dashboard/measures/{measure_id}/delivery")
    _accessible_and_narrow(checked)
    _submit(checked, "Bericht speichern")
    expect(checked.locator(".error-summary")).to_be_visible()
    _accessible_and_narrow(checked)

    page = new_context(
        viewport=NARROW, java_script_enabled=False, storage_state=signed_in_state
    ).new_page()
    response = page.goto(f"/dashboard/measures/{measure_id}/delivery")
    assert response is not None and response.status == 200
    page.get_by_label("Von", exact=True).fill("2025-01-01")
    page.get_by_label("Bis", exact=True).fill("2025-01-31")
    page.get_by_label("Art der Leistung 1").fill("Treffen")
    page.get_by_label("Anzahl der Leistung 1").fill("8")
    page.get_by_label("Teilnehmende im Zeitraum").fill("-4")
    page.get_by_label("Sachkosten").fill("900")
    page.get_by_label("Besuche je Monat").fill("150")
    _submit(page, "Bericht speichern")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    assert summary.locator("a").first.get_attribute("href") == "#participants"
    assert page.get_by_label("Art der Leistung 1").input_value() == "Treffen"
    page.get_by_label("Teilnehmende im Zeitraum").fill("60")
    _submit(page, "Bericht speichern")
    expect(page.get_by_text("Der Bericht ist gespeichert")).to_be_visible()
    expect(page.get_by_role("cell", name="900,0")).to_be_visible()

    page.goto(f"/dashboard/measures/{measure_id}/evaluation")
    assert page.get_by_role("cell", name="steigend").count() == 0  # one period: no trend yet
    page.locator("label[for='decision-2']").click()  # adapt
    page.get_by_label("Gründe").fill("Mehr Treffen am Nachmittag anbieten.")
    _submit(page, "Bewertung festhalten")
    expect(page.get_by_role("cell", name="Maßnahme anpassen")).to_be_visible()
    checked.goto(f"/dashboard/measures/{measure_id}/evaluation")
    _accessible_and_narrow(checked)

    public = new_context(viewport=NARROW).new_page()
    public.goto(f"/measures/{measure_id}")
    section = public.locator("section[aria-labelledby='evaluation']")
    expect(section.get_by_text("Maßnahme anpassen")).to_be_visible()
    expect(section.get_by_text("Mehr Treffen am Nachmittag anbieten.")).to_be_visible()
    expect(section.get_by_text("15,0 EUR")).to_be_visible()  # 900 EUR for 60 participants
    _accessible_and_narrow(public)
