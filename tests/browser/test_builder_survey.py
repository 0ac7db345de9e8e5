"""Journeys of the survey builder in Chromium: build a survey with a conditional page without
JavaScript, preview it, publish it, print a letter and answer it with its code as a resident
(a browser context of their own, to the receipt), enter a paper questionnaire, close the
survey and read its results — protected while there are two responses, published figures
(counts below k never shown as such) once late paper questionnaires bring enough; import an
XLSForm. The builder pages are axe clean and fit 320 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import PLANNER_EMAIL, LiveServer, axe_violations, describe_violations
from tests.browser.test_survey_flow import answer_page
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
FIXTURES = Path(__file__).resolve().parents[1] / "surveys" / "fixtures"


def _planner_page(
    new_context: ContextFactory, signed_in_state: dict[str, Any], **options: Any
) -> Page:
    return new_context(storage_state=signed_in_state, **options).new_page()


def _main(page: Page) -> str:
    return page.locator("main").inner_text()


def _stat(page: Page, term: str) -> str:
    """A figure of the results page's summary list (`<dt>term</dt><dd>figure</dd>`)."""
    return (
        page.locator("main .stats div", has=page.locator("dt", has_text=term))
        .locator("dd")
        .inner_text()
        .strip()
    )


def _staff_api(live_server: LiveServer) -> httpx.Client:
    """An API client signed in as the planner (session cookie and CSRF header)."""
    client = httpx.Client(base_url=live_server.url, timeout=30)
    signed_in = client.post(
        "/api/v1/auth/login", json={"email": PLANNER_EMAIL, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    client.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
    return client


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
    area_codes = [
        value
        for value in resident.locator("[name=q_area] option, input[name=q_area]").evaluate_all(
            "options => options.map((option) => option.value)"
        )
        if value
    ]
    # ... and answers every page (the first area, "Ja"), checks the answers and sends them.
    for _step in range(6):
        if resident.locator("main button[value=submit]").count():
            break
        answer_page(resident)
        resident.locator("main button[value=continue]").click()
        resident.wait_for_load_state()
        assert resident.locator(".error-summary").count() == 0, resident.locator(
            "main"
        ).inner_text()
    assert "Treffen Sie Nachbarn?" in resident.locator("main").inner_text()
    resident.locator("main button[value=submit]").click()
    resident.wait_for_load_state()
    assert re.fullmatch(
        r"[0-9A-Z]{4}-[0-9A-Z]{4}", resident.locator("main [data-receipt]").inner_text()
    )

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

    # The planner closes the survey: the code's letter no longer opens it.
    page.goto(f"/workspace/surveys/{survey_id}")
    page.locator("#close button").click()
    page.wait_for_load_state()
    assert page.locator(".notification--success").count() == 1, _main(page)
    assert "Diese Befragung ist beendet." in _main(page)
    staff = _staff_api(live_server)
    assert staff.get(f"/api/v1/surveys/{survey_id}").json()["status"] == "closed"

    # Two responses are far below the survey's minimum of respondents: the results page shows
    # no figure derived from them, only that they are protected.
    page.goto(f"/dashboard/surveys/{survey_id}/results")
    results = _main(page)
    assert "Nachbarschaft im Browser" in results
    assert _stat(page, "Antworten") == "geschützt", results
    assert "Zu wenige Antworten, um Ergebnisse zu zeigen." in results
    assert page.locator("main svg.bar-chart").count() == 0
    assert page.locator("#result-meet").count() == 0
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)

    # Paper questionnaires arriving after the close (staff may still enter them): 24 more
    # residents, 23 of them "Ja" and one more "Nein" — enough that the survey's results are
    # published whatever the cell key noise (at most 15) does to n = 26.
    for number in range(24):
        answer = "no" if number == 0 else "yes"
        entered = staff.post(
            f"/api/v1/surveys/{survey_id}/paper-responses",
            json={"answers": {"area": area_codes[0], "meet": answer}},
        )
        assert entered.status_code == 201, entered.text
    page.goto(f"/dashboard/surveys/{survey_id}/results")
    respondents = _stat(page, "Antworten")
    assert respondents.isdigit() and int(respondents) >= 10, respondents
    assert _stat(page, "Kleinste gezeigte Anzahl") == "5"
    meet = page.locator("#table-meet")
    assert page.locator("main svg.bar-chart").count() >= 1
    yes = meet.locator("tr", has=page.locator("th", has_text="Ja")).locator("td").first
    no = meet.locator("tr", has=page.locator("th", has_text="Nein")).locator("td").first
    # Twenty-four "Ja": a published (perturbed) count. Two "Nein" are below k = 5: never shown
    # as 1 … 4 — either 0 ("fewer than 5") or a value ≥ 5 the noise made of them.
    assert int(yes.inner_text()) >= 10, yes.inner_text()
    assert int(no.inner_text()) == 0 or int(no.inner_text()) >= 5, no.inner_text()
    assert "0 bedeutet also „weniger als 5“" in _main(page)


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


def test_entry_and_text_pages_are_accessible_and_fit_a_phone(
    new_context: ContextFactory,
    signed_in_state: dict[str, Any],
    first_process_id: str | None,
    live_server: LiveServer,
) -> None:
    """The survey's texts, a page, a question, paper entry (empty and with its errors) and the CSV
    import (its preview with the errors per line) are axe clean at 320 px."""
    assert first_process_id is not None
    listed = live_server.get(f"/api/v1/processes/{first_process_id}/surveys")
    survey_id = listed.json()["items"][0]["id"]
    found = live_server.get(f"/api/v1/surveys/{survey_id}")
    first_page = found.json()["definition"]["pages"][0]
    key = first_page["questions"][0]["key"]
    page = _planner_page(new_context, signed_in_state, viewport={"width": 320, "height": 640})

    def check(path: str) -> None:
        violations = axe_violations(page)
        assert not violations, f"{path}\n" + describe_violations(violations)
        assert _width(page) <= 320, path

    for path in (
        f"/workspace/surveys/{survey_id}/texts",
        f"/workspace/surveys/{survey_id}/pages/{first_page['key']}",
        f"/workspace/surveys/{survey_id}/questions/{key}",
        f"/workspace/surveys/{survey_id}/paper",
        f"/workspace/surveys/{survey_id}/import",
    ):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        check(path)

    page.goto(f"/workspace/surveys/{survey_id}/paper")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("paper with errors")

    page.goto(f"/workspace/surveys/{survey_id}/import")
    page.fill("#csv", f"{key},unknown_column\nx,1\ny,2\n")
    page.get_by_role("button", name="Prüfen und Vorschau zeigen").click()
    expect(page.locator("#row-errors-title")).to_be_visible()
    expect(page.locator("main table")).to_be_visible()
    check("import preview with errors")


def test_import_an_xlsform(
    new_context: ContextFactory, signed_in_state: dict[str, Any], first_process_id: str | None
) -> None:
    assert first_process_id is not None
    page = _planner_page(new_context, signed_in_state, java_script_enabled=False)
    page.goto(f"/workspace/processes/{first_process_id}/surveys/import")
    page.set_input_files("#xlsform", str(FIXTURES / "odk_standorte_geopoint.xlsx"))
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.get_by_text("row 3, column type (A)").count() >= 1

    page.set_input_files("#xlsform", str(FIXTURES / "kobo_familien_im_kiez.xlsx"))
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert "done=imported" in page.url
    assert page.locator("h1").inner_text().strip() == "Familien im Kiez 2026"
    survey_id = page.url.split("/workspace/surveys/")[1].split("?")[0]
    page.goto(f"/workspace/surveys/{survey_id}/questions/fehlt")
    assert page.locator("#options").input_value().startswith("kita | Ein Kitaplatz")
