"""The resident survey flow in a real Chromium, on the demo survey: completed at 360 px with
JavaScript on and off, axe-core (WCAG 2.x A/AA) on every kind of page, nothing wider than
320 px, keyboard use, answers surviving a reload (JavaScript), and a submission made offline
that is sent once when the connection returns.

Set QUARTIER_SHOTS to a folder to keep 360 px screenshots of the flow (default
/tmp/quartier-shots).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import text

from quartier.db import create_engine
from tests.browser.conftest import LiveServer
from tests.browser.test_pages import _OVERFLOWING

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
PHONE = {"width": 360, "height": 780}
NARROW = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SHOTS = Path(os.environ.get("QUARTIER_SHOTS", "/tmp/quartier-shots"))
CHECK_HEADING = "Prüfen Sie Ihre Antworten, bevor Sie sie absenden"
DONE_HEADING = "Vielen Dank – Ihre Antworten wurden gesendet"


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def survey_id(live_server: LiveServer) -> str:
    """The published demo survey."""
    processes = httpx.get(f"{live_server.url}/api/v1/processes", timeout=30).json()["items"]
    for process in processes:
        surveys = httpx.get(
            f"{live_server.url}/api/v1/processes/{process['id']}/surveys", timeout=30
        ).json()
        for survey in surveys.get("items", []):
            if survey["status"] == "published":
                return str(survey["id"])
    pytest.fail("the demo has no published survey")


def count_responses(live_server: LiveServer, survey_id: str) -> int:
    async def count() -> int:
        engine = create_engine(live_server.database_url, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    text("SELECT count(*) FROM survey_responses WHERE survey_id = :id"),
                    {"id": survey_id},
                )
                return int(found or 0)
        finally:
            await engine.dispose()

    # Playwright's sync API keeps an event loop running in this thread: count in another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, count()).result()


def violations_of(page: Page) -> str:
    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    lines = []
    for violation in results.response["violations"]:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:200]}")
    return "\n".join(lines)


def overflow_of(page: Page) -> str:
    result: dict[str, Any] = page.evaluate(_OVERFLOWING)
    if result["scrollWidth"] <= NARROW["width"] and not result["found"]:
        return ""
    return f"{result['scrollWidth']} px wide: {result['found']}"


def heading(page: Page) -> str:
    return page.locator("main h1").first.inner_text().strip()


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"survey-{name}.png"), full_page=True)


def answer_page(page: Page) -> None:
    """Answer every question on the current page with a valid answer, as a person would:
    the first option of each choice, the first area, one ranked option, small numbers."""
    form = page.locator("main form[data-survey-form]")
    for fieldset in form.locator("fieldset").all():
        if fieldset.locator("select").count():  # ranking: the first place only
            fieldset.locator("select").first.select_option(index=1)
            continue
        first = fieldset.locator("input[type=radio], input[type=checkbox]").first
        if first.count():
            first.check()
    for select in form.locator(".survey-question > .form-group > select").all():
        if select.is_visible() and not select.input_value():
            select.select_option(index=2)  # index 0: "Bitte wählen"
    for field in form.locator("input[type=text], input:not([type])").all():
        if field.is_visible() and not field.input_value():
            name = field.get_attribute("name") or ""
            field.fill("Test" if name.startswith("o_") else "3")
    for area in form.locator("textarea").all():
        area.fill("Danke für die Befragung!")


def start(page: Page, survey_id: str) -> None:
    page.goto(f"/surveys/{survey_id}")
    page.locator("main form[data-survey-start] button[value=start]").click()
    page.wait_for_load_state()


def to_check_page(page: Page, survey_id: str, screenshots: bool = False) -> None:
    start(page, survey_id)
    for _step in range(12):
        if heading(page) == CHECK_HEADING:
            return
        answer_page(page)
        if screenshots and _step == 1:
            shoot(page, "question")
        page.locator("main button[value=continue]").click()
        page.wait_for_load_state()
        assert not page.locator(".error-summary").count(), page.locator("main").inner_text()
    pytest.fail(f"never reached the check page; at {heading(page)!r}")


# -- the flow --------------------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_complete_the_survey_on_a_phone(
    new_context: ContextFactory, live_server: LiveServer, survey_id: str, javascript: bool
) -> None:
    page = new_context(viewport=PHONE, java_script_enabled=javascript).new_page()
    before = count_responses(live_server, survey_id)
    page.goto(f"/surveys/{survey_id}")
    assert heading(page) == "Familien in Moabit: Was brauchen Sie?"
    if javascript:
        shoot(page, "intro")
    to_check_page(page, survey_id, screenshots=javascript)
    rows = page.locator("main .summary-list__row")
    assert rows.count() >= 8
    if javascript:
        shoot(page, "check")
    page.locator("main button[value=submit]").click()
    page.wait_for_load_state()
    assert heading(page) == DONE_HEADING
    receipt = page.locator("main [data-receipt]").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
    if javascript:
        shoot(page, "confirmation")
        assert page.evaluate("() => window.localStorage.length") == 0  # progress cleared
    assert count_responses(live_server, survey_id) == before + 1

    # The same browser again: "you have already taken part".
    page.goto(f"/surveys/{survey_id}")
    assert heading(page) == "Sie haben schon teilgenommen"


def test_pages_have_no_axe_violations_and_fit_320_px(
    new_context: ContextFactory, survey_id: str, signed_in_state: dict[str, Any]
) -> None:
    for viewport in (PHONE, DESKTOP, NARROW):
        page = new_context(viewport=viewport).new_page()
        checked: list[str] = []

        def check(
            name: str,
            page: Page = page,
            viewport: dict[str, int] = viewport,
            checked: list[str] = checked,
        ) -> None:
            found = violations_of(page)
            assert not found, f"{name} at {viewport['width']} px:\n{found}"
            if viewport is NARROW:
                too_wide = overflow_of(page)
                assert not too_wide, f"{name} at 320 px: {too_wide}"
            checked.append(name)

        page.goto(f"/surveys/{survey_id}")
        check("intro")
        start(page, survey_id)
        check("question page")
        page.locator("main button[value=continue]").click()  # nothing answered: errors
        page.wait_for_load_state()
        expect(page.locator(".error-summary")).to_be_visible()
        check("question page with errors")
        to_check_page(page, survey_id)
        check("check answers")
        page.locator("main button[value=submit]").click()
        page.wait_for_load_state()
        assert heading(page) == DONE_HEADING
        check("confirmation")

        staff = new_context(viewport=viewport, storage_state=signed_in_state).new_page()
        response = staff.goto(f"/dashboard/surveys/{survey_id}/results")
        assert response is not None and response.status == 200
        assert staff.locator("main svg.bar-chart[role=img]").count() > 0
        check("results", staff)
        staff.goto(f"/dashboard/surveys/{survey_id}/results?level=district_region")
        check("results per area", staff)
        staff.goto("/dashboard/surveys")
        check("survey list", staff)
        assert len(checked) == 8


def press_and_wait(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_keyboard_only(new_context: ContextFactory, survey_id: str) -> None:
    """Start, answer with arrow keys and space, continue with Enter; errors take focus."""
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(f"/surveys/{survey_id}")
    page.locator("main button[value=start]").focus()
    press_and_wait(page, "Enter")
    page.locator("main button[value=continue]").focus()
    press_and_wait(page, "Enter")
    # quartier.js focuses the error summary; its first link focuses the first field in error.
    expect(page.locator(".error-summary")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.name") == "q_area"
    page.keyboard.press("ArrowDown")  # the first area (a select) or the next option (radios)
    for _ in range(60):  # on to the "children" question, then choose the first answer
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name") == "q_children":
            break
    page.keyboard.press("Space")
    for _ in range(60):
        if page.evaluate("() => document.activeElement.value") == "continue":
            break
        page.keyboard.press("Tab")
    press_and_wait(page, "Enter")
    assert not page.locator(".error-summary").count(), page.locator("main").inner_text()[:500]
    assert "Seite 2 von" in page.locator("main .survey-progress").inner_text()


# -- JavaScript: progress and offline --------------------------------------------------------------


def test_answers_in_progress_survive_a_reload(new_context: ContextFactory, survey_id: str) -> None:
    page = new_context(viewport=PHONE).new_page()
    start(page, survey_id)
    answer_page(page)
    page.locator("main button[value=continue]").click()
    page.wait_for_load_state()
    assert "Seite 2 von" in page.locator("main .survey-progress").inner_text()
    second_page = heading(page)
    answer_page(page)  # typed, not yet sent
    chosen = page.locator("main input:checked").first.get_attribute("value")

    page.reload()
    page.wait_for_load_state()
    expect(page.locator("main h1").first).to_have_text(second_page)
    assert page.locator("main input:checked").first.get_attribute("value") == chosen
    # The first page's answers are still there too.
    page.locator("main button[value=back]").click()
    page.wait_for_load_state()
    assert page.locator("main input[name=q_children]:checked").count() == 1

    # A fresh visit of the intro offers to continue.
    page.goto(f"/surveys/{survey_id}")
    resume = page.locator("main form[data-survey-resume]")
    expect(resume).to_be_visible()
    resume.locator("button").click()
    page.wait_for_load_state()
    assert "Seite" in page.locator("main .survey-progress").inner_text()


def test_a_submission_made_offline_is_sent_once_when_back_online(
    new_context: ContextFactory, live_server: LiveServer, survey_id: str
) -> None:
    context = new_context(viewport=PHONE)
    page = context.new_page()
    before = count_responses(live_server, survey_id)
    to_check_page(page, survey_id)

    context.set_offline(True)
    page.locator("main button[value=submit]").click()
    status = page.locator("#survey-submit-status")
    expect(status).to_contain_text("Sie sind offline")
    assert heading(page) == CHECK_HEADING
    assert count_responses(live_server, survey_id) == before

    context.set_offline(False)
    expect(page.locator("main h1").first).to_have_text(DONE_HEADING, timeout=15_000)
    receipt = page.locator("main [data-receipt]").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
    assert count_responses(live_server, survey_id) == before + 1
    # Going offline and online again sends nothing more.
    context.set_offline(True)
    context.set_offline(False)
    page.wait_for_timeout(500)
    assert count_responses(live_server, survey_id) == before + 1


def _point_in(live_server: LiveServer, codes: list[str]) -> tuple[float, float, str]:
    """A point inside one of these areas (found with the point lookup itself)."""
    for code in codes:
        found = httpx.get(
            f"{live_server.url}/api/v1/social-areas", params={"code": code}, timeout=30
        ).json()["items"]
        if not found:
            continue
        min_lon, min_lat, max_lon, max_lat = found[0]["bbox"]
        for fx in (0.5, 0.4, 0.6, 0.3, 0.7):
            for fy in (0.5, 0.4, 0.6, 0.3, 0.7):
                lat = round(min_lat + (max_lat - min_lat) * fy, 4)
                lon = round(min_lon + (max_lon - min_lon) * fx, 4)
                hits = httpx.get(
                    f"{live_server.url}/api/v1/social-areas/lookup",
                    params={"lat": lat, "lon": lon},
                    timeout=30,
                ).json()["items"]
                if any(hit["code"] == code for hit in hits):
                    return lat, lon, code
    pytest.fail("no point found inside the survey's areas")


def test_use_my_location_preselects_the_area_and_keeps_no_position(
    new_context: ContextFactory, live_server: LiveServer, survey_id: str
) -> None:
    page = new_context(viewport=PHONE).new_page()
    start(page, survey_id)
    options = page.locator("main [name=q_area] option, main input[name=q_area]")
    codes = [v for v in (o.get_attribute("value") for o in options.all()) if v]
    lat, lon, code = _point_in(live_server, codes[:5])

    context = new_context(
        viewport=PHONE, geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"]
    )
    page = context.new_page()
    start(page, survey_id)
    button = page.locator("main button[data-survey-locate]")
    expect(button).to_be_visible()  # revealed by survey.js
    button.click()
    status = page.locator("#q_area-locate-status")
    expect(status).to_contain_text("Bitte prüfen Sie")
    chosen = page.evaluate(
        "() => (document.querySelector('select[name=q_area]') "
        "|| document.querySelector('input[name=q_area]:checked') || {}).value"
    )
    assert chosen == code
    stored = page.evaluate("() => JSON.stringify(window.localStorage)")
    assert str(lat) not in stored and str(lon) not in stored  # the position is not kept

    # Without JavaScript the button stays hidden (the list works on its own).
    no_js = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    start(no_js, survey_id)
    expect(no_js.locator("main button[data-survey-locate]")).not_to_be_visible()
