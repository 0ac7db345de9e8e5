"""Journeys of the survey builder in Chromium: build a survey with a conditional page without
JavaScript, preview it, publish it, print a letter and answer with its code as a resident,
enter a paper questionnaire; import an XLSForm. The
builder pages are axe clean and fit 320 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from pypdf import PdfReader

from tests.browser.conftest import LiveServer, axe_violations, describe_violations

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
FIXTURES = Path(__file__).resolve().parents[1] / "surveys" / "fixtures"


def _planner_page(
    new_context: ContextFactory, signed_in_state: dict[str, Any], **options: Any
) -> Page:
    return new_context(storage_state=signed_in_state, **options).new_page()


def _width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def test_build_preview_publish_and_answer(
    new_context: ContextFactory,
    signed_in_state: dict[str, Any],
    first_process_id: str | None,
    live_server: LiveServer,
) -> None:
    assert first_process_id is not None
    page = _planner_page(new_context, signed_in_state, java_script_enabled=False)
    page.goto(f"/workspace/processes/{first_process_id}/surveys/new")
    page.fill("#title_de", "Nachbarschaft im Browser")
    page.fill("#title_en", "Neighbourhood in the browser")
    page.fill("#purpose_de", "Wir planen Treffpunkte.")
    page.fill("#organiser_de", "Planungskoordination")
    page.fill("#privacy_note_de", "Anonym.")
    page.fill("#estimated_minutes", "3")
    page.check("#access_mode-2")  # only with an invitation code
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert "/workspace/surveys/" in page.url
    survey_id = page.url.split("/workspace/surveys/")[1].split("?")[0]

    # A single-choice question on the first page.
    page.locator("form.builder-add button").first.click()
    page.wait_for_load_state()
    page.fill("#key", "meet")
    page.fill("#text_de", "Treffen Sie Nachbarn?")
    page.fill("#text_en", "Do you meet neighbours?")
    page.fill("#options", "yes | Ja | Yes\nno | Nein | No")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator(".notification--success").count() == 1

    # A page shown only to those who answered yes.
    page.fill("#page_key", "where_meet")
    page.fill("#page_title_de", "Wo treffen Sie sich?")
    page.fill("#page_show_if", "${meet} = 'yes'")
    page.locator("form[action$='/pages'] button").click()
    page.wait_for_load_state()
    assert "${meet} = 'yes'" in page.locator("#page-where_meet").locator("xpath=..").inner_text()

    page.goto(f"/workspace/surveys/{survey_id}/preview")
    assert page.get_by_text("Treffen Sie Nachbarn?").count() == 1
    assert page.get_by_text("${meet} = 'yes'").count() >= 1

    page.goto(f"/workspace/surveys/{survey_id}")
    page.locator("#publish button").click()
    page.wait_for_load_state()
    assert page.locator(".notification--success").count() == 1
    assert page.locator("#what-can-change").count() == 1

    # Print one letter and answer with its code as a resident.
    page.fill("#count", "1")
    with page.expect_download() as download:
        page.locator("form[action$='/letters'] button").click()
    letter = PdfReader(download.value.path()).pages[0].extract_text()
    code = re.search(r"\b[A-Z0-9]{5}-[A-Z0-9]{5}\b", letter)
    assert code is not None, letter

    resident = new_context(java_script_enabled=False).new_page()
    resident.goto(f"/surveys/{survey_id}")
    assert resident.locator("h1").inner_text().strip() == "Nachbarschaft im Browser"
    resident.fill("#code", code.group(0))
    resident.locator("main button[name=action][value=start]").click()
    resident.wait_for_load_state()
    assert resident.get_by_text("Treffen Sie Nachbarn?").count() == 1

    # A paper questionnaire typed in by staff.
    page.goto(f"/workspace/surveys/{survey_id}/paper")
    area = page.locator("#q_area")
    if area.evaluate("element => element.tagName") == "SELECT":
        area.select_option(index=1)
    else:
        area.check()
    page.check("#q_meet-2")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.locator(".notification--success").count() == 1, page.content()[:3000]


def test_builder_pages_are_accessible_and_fit_a_phone(
    new_context: ContextFactory,
    signed_in_state: dict[str, Any],
    first_process_id: str | None,
    live_server: LiveServer,
) -> None:
    assert first_process_id is not None
    listed = live_server.get(f"/api/v1/processes/{first_process_id}/surveys")
    survey_id = listed.json()["items"][0]["id"]
    page = _planner_page(new_context, signed_in_state, viewport={"width": 320, "height": 640})
    for path in (
        f"/workspace/processes/{first_process_id}/surveys/new",
        f"/workspace/processes/{first_process_id}/surveys/import",
        f"/workspace/surveys/{survey_id}",
        f"/workspace/surveys/{survey_id}/preview",
    ):
        page.goto(path)
        violations = axe_violations(page)
        assert not violations, f"{path}\n" + describe_violations(violations)
        assert _width(page) <= 320, path


def test_import_an_xlsform(
    new_context: ContextFactory, signed_in_state: dict[str, Any], first_process_id: str | None
) -> None:
    assert first_process_id is not None
    page = _planner_page(new_context, signed_in_state, java_script_enabled=False)
    page.goto(f"/workspace/processes/{first_process_id}/surveys/import")
    page.set_input_files("#xlsform", str(FIXTURES / "odk_standorte_geopoint.xlsx"))
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_text("row 3, column type (A)").count() >= 1

    page.set_input_files("#xlsform", str(FIXTURES / "kobo_familien_im_kiez.xlsx"))
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert "done=imported" in page.url
    assert page.locator("h1").inner_text().strip() == "Familien im Kiez 2026"
    survey_id = page.url.split("/workspace/surveys/")[1].split("?")[0]
    page.goto(f"/workspace/surveys/{survey_id}/questions/fehlt")
    assert page.locator("#options").input_value().startswith("kita | Ein Kitaplatz")
