"""Ideas in a real Chromium, with JavaScript switched off, at 320 px: a resident submits an
idea from the process page and follows it with the private link (editing it before
moderation), a moderator publishes it from the queue, residents support, comment and report,
the moderator publishes the comment and dismisses the report, a planner answers, and the
author sees the answer. axe-core (WCAG 2.x A/AA) on every kind of page; nothing wider than
the screen."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.runtime import run_in_session
from tests.browser.conftest import (
    UUID_PATTERN,
    LiveServer,
    axe_violations,
    describe_violations,
)
from tests.browser.test_pages import _OVERFLOWING
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
MODERATOR_EMAIL = "moderator@browser-tests.example.org"
TITLE = "Schattige Bänke am Spielplatz"


def _check(page: Page, what: str) -> None:
    """axe-core and the width check need scripts: the same page (URL and cookies) opened in a
    context with JavaScript on, at 320 px."""
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(
        viewport=NARROW, locale="de-DE", storage_state=page.context.storage_state()
    )
    try:
        checker = context.new_page()
        checker.goto(page.url)
        violations = axe_violations(checker)
        assert not violations, f"{what}: axe found\n{describe_violations(violations)}"
        result = checker.evaluate(_OVERFLOWING)
        assert result["scrollWidth"] <= NARROW["width"], f"{what}: too wide: {result['found']}"
    finally:
        context.close()


def _resident(new_context: ContextFactory) -> Page:
    context = new_context(viewport=NARROW, java_script_enabled=False)
    return context.new_page()


@pytest.fixture(scope="module")
def moderator_state(browser: Browser, live_server: LiveServer) -> dict[str, Any]:
    """Cookies of a moderator who signed in through the form."""

    async def create(session: AsyncSession) -> None:
        from quartier.accounts import services as accounts
        from quartier.core.security import Role

        await accounts.create_account(
            session,
            email=MODERATOR_EMAIL,
            display_name="Mo Moderatorin",
            role=Role.MODERATOR,
            password=TEST_PASSWORD,
        )

    # Playwright's sync API runs an event loop in this thread: create the account in another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run_in_session, live_server.database_url, create).result()
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="de-DE"
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", MODERATOR_EMAIL)
        page.fill("#password", TEST_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert "/login" not in page.url
        return dict(context.storage_state())
    finally:
        context.close()


def test_the_ideas_flow_without_javascript(
    new_context: ContextFactory,
    first_process_id: str | None,
    moderator_state: dict[str, Any],
    signed_in_state: dict[str, Any],
) -> None:
    assert first_process_id is not None
    # A resident submits an idea from the process page.
    author = _resident(new_context)
    author.goto(f"/processes/{first_process_id}")
    author.get_by_role("link", name="Idee einreichen").first.click()
    _check(author, "submit form")
    author.fill("#title", TITLE)
    author.fill("#description", "Im Sommer ist es zu heiß: Bänke unter Bäumen würden helfen.")
    author.select_option("#need_category", index=1)
    author.select_option("#area_code", index=1)
    author.locator("main form button[type=submit]").click()
    author.wait_for_load_state()
    assert "/ideas/follow/" in author.url
    expect(author.get_by_text("Danke! Ihre Idee ist angekommen.")).to_be_visible()
    _check(author, "follow page")
    follow_url = author.url.split("?")[0]
    # ... and improves it before moderation
    author.fill("#title", TITLE + " und Wasser")
    author.get_by_role("button", name="Änderungen speichern").click()
    expect(author.get_by_text("Ihre Änderungen wurden gespeichert.")).to_be_visible()

    # A moderator publishes it from the queue.
    moderator = new_context(
        viewport=NARROW, java_script_enabled=False, storage_state=moderator_state
    ).new_page()
    moderator.goto(f"/dashboard/ideas/moderation?process_id={first_process_id}")
    _check(moderator, "moderation queue")
    card = moderator.locator("li.card", has_text=TITLE)
    card.get_by_role("button", name="Veröffentlichen").click()
    expect(moderator.get_by_text("Erledigt.")).to_be_visible()

    # Residents support, comment and report.
    author.goto(follow_url)
    author.get_by_role("link", name="Öffentliche Seite der Idee").click()
    idea_url = author.url.split("?")[0]
    assert re.search(rf"/ideas/{UUID_PATTERN}$", idea_url)
    neighbour = _resident(new_context)
    neighbour.goto(idea_url)
    _check(neighbour, "idea page")
    neighbour.get_by_role("button", name="Diese Idee unterstützen").click()
    expect(neighbour.get_by_text("Danke für Ihre Unterstützung.")).to_be_visible()
    expect(neighbour.get_by_text("1 Person unterstützt diese Idee.")).to_be_visible()
    expect(neighbour.get_by_role("button", name="Meine Unterstützung zurückziehen")).to_be_visible()
    neighbour.fill("#body", "Gute Idee, auch für Ältere!")
    neighbour.get_by_role("button", name="Kommentar senden").click()
    expect(neighbour.get_by_text("Ihr Kommentar erscheint, sobald")).to_be_visible()
    neighbour.get_by_role("link", name="Diese Idee melden").click()
    _check(neighbour, "report page")
    neighbour.fill("#reason", "Bitte prüfen, ob das doppelt ist")
    neighbour.get_by_role("button", name="Meldung senden").click()
    expect(neighbour.get_by_text("Die Moderation sieht sich Ihre Meldung an.")).to_be_visible()

    # The moderator publishes the comment and dismisses the report.
    moderator.goto(f"/dashboard/ideas/moderation?process_id={first_process_id}")
    card = moderator.locator("li.card", has_text=TITLE)
    expect(card.get_by_text("Bitte prüfen, ob das doppelt ist")).to_be_visible()
    card.get_by_role("button", name="Kommentar veröffentlichen").click()
    card = moderator.locator("li.card", has_text=TITLE)
    card.get_by_role("button", name="Meldungen zurückweisen").click()
    assert moderator.locator("li.card", has_text=TITLE).count() == 0
    neighbour.goto(idea_url)
    expect(neighbour.get_by_text("Gute Idee, auch für Ältere!")).to_be_visible()

    # A planner answers officially.
    planner = new_context(
        viewport=NARROW, java_script_enabled=False, storage_state=signed_in_state
    ).new_page()
    planner.goto(idea_url)
    planner.select_option("#official_status", "accepted")
    planner.fill("#answer", "Wir pflanzen Bäume und stellen zwei Bänke auf.")
    planner.get_by_role("button", name="Antwort speichern").click()
    expect(planner.get_by_text("Die Antwort wurde gespeichert.")).to_be_visible()
    _check(planner, "idea page with answer form")

    # The author sees the answer through the private link.
    author.goto(follow_url)
    expect(author.get_by_text("Wir pflanzen Bäume und stellen zwei Bänke auf.")).to_be_visible()
    expect(author.get_by_text("Angenommen").first).to_be_visible()
