"""Offline in the middle of a survey (issue #14 §2), in a real Chromium with the demo survey:
the first page answered online, then the connection goes; the resident keeps answering on the
pages the service worker serves from the cache (axe-clean), sends (queued), reloads (still
offline: served from the cache, still queued), and when the connection is back the answers
arrive exactly once, the confirmation shows, and the survey's cache and stored answers are gone.

Run with `timeout 600` around pytest; every wait has a timeout (15 s).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Locator, Page, expect

from quartier.surveys import offline
from tests.browser.conftest import LiveServer
from tests.browser.test_survey_flow import (
    DONE_HEADING,
    PHONE,
    ContextFactory,
    count_responses,
    heading,
    shoot,
    start,
    survey_id,
    violations_of,
)

pytestmark = pytest.mark.browser
__all__ = ["survey_id"]  # the demo survey fixture, shared

TIMEOUT_MS = 15_000
OFFLINE_STATUS = "Sie sind offline"


def answer_visible(scope: Locator) -> None:
    """Answer the visible, still empty questions in `scope` as a person would: the first
    option of each choice, the first area, one ranked option, small numbers, a comment."""
    for fieldset in scope.locator("fieldset:visible").all():
        selects = fieldset.locator("select")
        if selects.count():  # ranking: the first place only
            if not selects.first.input_value():
                selects.first.select_option(index=1)
            continue
        choices = fieldset.locator("input[type=radio], input[type=checkbox]")
        if choices.count() and not fieldset.locator("input:checked").count():
            choices.first.check()
    for select in scope.locator(".survey-question > .form-group > select:visible").all():
        if not select.input_value():
            select.select_option(index=2)  # index 0: "Bitte wählen"
    for field in scope.locator("input[type=text]:visible, input:not([type]):visible").all():
        if not field.input_value():
            name = field.get_attribute("name") or ""
            field.fill("Test" if name.startswith("o_") else "3")
    for area in scope.locator("textarea:visible").all():
        if not area.input_value():
            area.fill("Offline beantwortet")


def cache_names(page: Page) -> list[str]:
    names: list[str] = page.evaluate("async () => await caches.keys()")
    return names


def test_offline_in_the_middle_then_sent_once_when_back_online(
    new_context: ContextFactory, live_server: LiveServer, survey_id: str
) -> None:
    context = new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    before = count_responses(live_server, survey_id)

    # Online: the intro and the first page; the worker and the cache are ready.
    start(page, survey_id)
    answer_visible(page.locator("main form[data-survey-form]"))
    page.locator("main button[value=continue]").click()
    page.wait_for_load_state()
    expect(page.locator("[data-survey][data-offline-ready]")).to_have_count(1)
    assert cache_names(page) == [f"quartier-survey-{survey_id}"]
    cached = page.evaluate(
        "async (name) => (await (await caches.open(name)).keys())"
        ".map(request => new URL(request.url).pathname)",
        f"quartier-survey-{survey_id}",
    )
    # This survey's public pages and the static files: no answers, no API, no staff page.
    assert sorted(cached) == sorted(
        [f"/surveys/{survey_id}", f"/surveys/{survey_id}/offline", *offline.STATIC_FILES]
    )

    # The connection goes in the middle of the second page.
    context.set_offline(True)
    second = page.locator("main form[data-survey-form]")
    answer_visible(second)
    answer_visible(second)
    page.locator("main button[value=continue]").click()
    offline_form = page.locator("main form[data-offline-form]")
    expect(offline_form).to_be_visible()
    worker = page.evaluate("() => navigator.serviceWorker.controller?.scriptURL || ''")
    assert worker.endswith(offline.WORKER_PATH)
    assert not violations_of(page), violations_of(page)
    shoot(page, "offline")

    # Keep answering on the pages served from the cache, up to "send".
    send = offline_form.locator("button[value=submit]")
    for _step in range(12):
        if send.is_visible():
            break
        section = offline_form.locator("section[data-offline-page]:visible")
        expect(section).to_have_count(1)
        answer_visible(section)
        answer_visible(section)  # an answer may show another question on the same page
        offline_form.locator("button[value=continue]").click()
    else:
        pytest.fail("the offline pages never reached the send step")
    send.click()
    expect(page.locator("#survey-submit-status")).to_contain_text(OFFLINE_STATUS)
    assert count_responses(live_server, survey_id) == before
    # A reload while offline comes from the cache (the network would answer /respond with the
    # intro) and keeps the queue.
    page.goto(f"/surveys/{survey_id}/respond")
    expect(offline_form.locator("button[value=submit]")).to_be_visible()
    expect(page.locator("#survey-submit-status")).to_contain_text(OFFLINE_STATUS)
    assert not page.locator("[data-survey-intro]").count()

    # Back online: sent once, the confirmation shows, the cache is emptied.
    context.set_offline(False)
    expect(page.locator("main h1").first).to_have_text(DONE_HEADING)
    assert heading(page) == DONE_HEADING
    assert page.locator("main [data-receipt]").inner_text().strip()
    assert count_responses(live_server, survey_id) == before + 1
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while cache_names(page) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert cache_names(page) == []
    stored = page.evaluate(
        "() => Object.keys(localStorage).filter(key => key.startsWith('quartier.'))"
    )
    assert stored == []
    # Going offline and online again sends nothing more.
    context.set_offline(True)
    context.set_offline(False)
    page.wait_for_timeout(500)
    assert count_responses(live_server, survey_id) == before + 1
