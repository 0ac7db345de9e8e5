"""Residents answering the demo survey in other languages, in Chromium: in Arabic at 320 px
(right to left, the survey's own texts visibly falling back to German, axe-core clean, nothing
wider than 320 px, submitted); in easy-read German (`de-x-simple`) without JavaScript; and the
language switch in the middle of the survey keeping the answers given so far and those typed
on the page, with and without JavaScript.

Screenshots of the Arabic flow go to /tmp/rtl-*.png (QUARTIER_RTL_SHOTS names another folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import LiveServer, axe_violations, describe_violations
from tests.browser.test_pages import _OVERFLOWING
from tests.browser.test_survey_flow import answer_page

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
SHOTS = Path(os.environ.get("QUARTIER_RTL_SHOTS", "/tmp"))
RECEIPT = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture(scope="module")
def survey_id(live_server: LiveServer) -> str:
    """The published demo survey (texts in German, English and easy-read German)."""
    processes = httpx.get(f"{live_server.url}/api/v1/processes", timeout=30).json()["items"]
    for process in processes:
        surveys = httpx.get(
            f"{live_server.url}/api/v1/processes/{process['id']}/surveys", timeout=30
        ).json()
        for survey in surveys.get("items", []):
            if survey["status"] == "published":
                return str(survey["id"])
    pytest.fail("the demo has no published survey")


def resident(new_context: ContextFactory, **options: Any) -> Page:
    page = new_context(viewport=NARROW, **options).new_page()
    page.set_default_timeout(15_000)
    return page


def press(page: Page, value: str) -> None:
    page.locator(f"main button[value='{value}']").first.click()
    page.wait_for_load_state()


def on_check_page(page: Page) -> bool:
    return page.locator("main button[value=submit]").count() > 0


def to_check_page(page: Page, shoot: Callable[[str], None] | None = None) -> None:
    """Answer every page (first options, small numbers) until the check page."""
    for step in range(12):
        if on_check_page(page):
            return
        answer_page(page)
        if shoot and step == 0:
            shoot("question")
        press(page, "continue")
        assert not page.locator(".error-summary").count(), page.locator("main").inner_text()
    pytest.fail(f"never reached the check page: {page.locator('main h1').first.inner_text()}")


def fits_and_is_accessible(page: Page, name: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{name}:\n{describe_violations(violations)}"
    result = page.evaluate(_OVERFLOWING)
    assert result["scrollWidth"] <= NARROW["width"] and not result["found"], (name, result)


def checked_values(page: Page) -> list[tuple[str, str]]:
    return sorted(
        (box.get_attribute("name") or "", box.get_attribute("value") or "")
        for box in page.locator("main input:checked").all()
    )


# -- Arabic, right to left -------------------------------------------------------------------------


def test_a_survey_answered_in_arabic_at_320_px(new_context: ContextFactory, survey_id: str) -> None:
    page = resident(new_context, locale="ar")  # Accept-Language: ar

    def shoot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"rtl-{name}.png"), full_page=True)

    def check(name: str) -> None:
        assert page.get_attribute("html", "lang") == "ar"
        assert page.get_attribute("html", "dir") == "rtl"
        fits_and_is_accessible(page, name)
        shoot(name)

    page.goto(f"/surveys/{survey_id}")
    # The survey has no Arabic texts: a note says so, in Arabic, instead of a silent fallback.
    expect(page.locator("[data-language-fallback]")).to_be_visible()
    assert "Deutsch" in page.locator("[data-language-fallback]").inner_text()
    check("intro")
    # Mirrored: the start of a line is on the right (the brand before the language switch).
    brand = page.locator(".brand").bounding_box()
    assert brand is not None and brand["x"] + brand["width"] > NARROW["width"] / 2

    press(page, "start")
    assert page.locator("main form[data-survey-form]").count() == 1
    check("question")
    # "Continue" comes first in the button row: in RTL it stands to the right of "Back".
    forward = page.locator("main button[value=continue]").bounding_box()
    back = page.locator("main button[value=back]").bounding_box()
    assert forward is not None and back is not None and forward["x"] > back["x"]
    to_check_page(page)
    check("check")

    press(page, "submit")
    receipt = page.locator("main [data-receipt]").inner_text()
    assert RECEIPT.fullmatch(receipt), receipt
    check("confirmation")


# -- easy-read German ------------------------------------------------------------------------------


def test_a_survey_answered_in_easy_read_german(new_context: ContextFactory, survey_id: str) -> None:
    page = resident(new_context, java_script_enabled=False)
    page.goto(f"/surveys/{survey_id}?lang=de-x-simple")  # as a letter or a link would offer it
    main = page.locator("main")
    assert "Das Bezirksamt will wissen: Was fehlt Familien im Kiez?" in main.inner_text()
    assert "Wir speichern keinen Namen." in main.inner_text()
    assert page.get_attribute("html", "lang") == "de"
    press(page, "start")
    assert "Wohnen Kinder bei Ihnen?" in main.inner_text()
    assert "Leben Kinder unter 18 Jahren" not in main.inner_text()
    fits_and_is_accessible(page, "easy-read question page")
    to_check_page(page)
    # Every page stayed in easy-read German: the check page names the question that way.
    assert "Wohnen Kinder bei Ihnen?" in main.inner_text()
    press(page, "submit")
    # The confirmation in the easy-read interface catalogue (frontend/locales/de_x_simple).
    assert page.locator("main h1").first.inner_text() == "Danke! Ihre Antworten sind angekommen."
    assert RECEIPT.fullmatch(page.locator("main [data-receipt]").inner_text())


# -- switching language in the middle -------------------------------------------------------------


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_switching_language_mid_survey_keeps_the_answers(
    new_context: ContextFactory, survey_id: str, javascript: bool
) -> None:
    page = resident(new_context, java_script_enabled=javascript)
    page.goto(f"/surveys/{survey_id}")
    press(page, "start")
    answer_page(page)
    first_page = checked_values(page)
    assert first_page
    press(page, "continue")
    assert "Seite 2 von" in page.locator("main .survey-progress").inner_text()
    answer_page(page)  # typed on the second page, not sent
    second_page = checked_values(page)
    assert second_page

    page.locator(".language-switch [lang=en]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert "Page 2 of" in page.locator("main .survey-progress").inner_text()
    assert "What does your family miss most" in page.locator("main").inner_text()
    assert checked_values(page) == second_page
    press(page, "back")
    assert page.get_attribute("html", "lang") == "en"
    assert checked_values(page) == first_page

    page.locator(".language-switch [lang=tr]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "tr"
    assert checked_values(page) == first_page
    to_check_page(page)
    page.locator(".language-switch [lang=ar]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "dir") == "rtl"
    assert on_check_page(page)
    assert page.locator("main .summary-list__row").count() >= 8
    press(page, "submit")
    assert RECEIPT.fullmatch(page.locator("main [data-receipt]").inner_text())


@pytest.mark.parametrize(
    ("language", "direction"),
    [("de", "ltr"), ("de-x-simple", "ltr"), ("en", "ltr"), ("tr", "ltr"), ("ar", "rtl")],
)
def test_every_language_is_axe_clean_and_fits_320_px_through_the_survey(
    new_context: ContextFactory, survey_id: str, language: str, direction: str
) -> None:
    """Each enabled language (issue #14 §3): the process page, the survey's intro, its first
    page of questions, the error summary and the check page — axe-core clean, nothing wider
    than 320 px, `lang` and `dir` set — without JavaScript (the pages' own state)."""
    page = resident(new_context, java_script_enabled=False)
    page.goto(f"/surveys/{survey_id}?lang={language}")
    # Easy-read German is German to a screen reader (`lang="de"`), as the easy-read test says.
    assert page.get_attribute("html", "lang") == language.removesuffix("-x-simple")
    assert page.get_attribute("html", "dir") == direction
    fits_and_is_accessible(page, f"intro ({language})")
    process_link = page.locator("main a[href^='/processes/']").first
    if process_link.count():
        process_link.click()
        page.wait_for_load_state()
        fits_and_is_accessible(page, f"process page ({language})")
        page.go_back()
    press(page, "start")
    fits_and_is_accessible(page, f"first page ({language})")
    press(page, "continue")  # nothing answered: required questions are named
    if page.locator(".error-summary").count():
        fits_and_is_accessible(page, f"error summary ({language})")
    to_check_page(page)
    fits_and_is_accessible(page, f"check page ({language})")
