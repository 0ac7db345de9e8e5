"""Every page, in a real Chromium: accessible (axe-core, WCAG 2.x A/AA), no horizontal
overflow at 320 px, working without JavaScript, and keyboard-reachable through the skip link.

A page that is missing (404 where a page is expected) fails these tests: the list below is the
product's list of pages, not a list of what happens to exist.

Set QUARTIER_SCREENSHOTS=/some/dir to keep a 360 px wide full-page PNG of every page.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import LiveServer, axe_violations, describe_violations

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}

ContextFactory = Callable[..., BrowserContext]


@dataclass(frozen=True)
class PageCase:
    name: str
    path: str  # "{process_id}" is replaced by the first demo process
    status: int = 200
    signed_in: bool = False
    # Pages built on base.html have a header before <main>, so they need a skip link; the API
    # reference (core/ops.py) has nothing before <main> to skip.
    has_site_header: bool = True


PAGES = [
    PageCase("home", "/"),
    PageCase("process", "/processes/{process_id}"),
    PageCase("areas", "/areas"),
    PageCase("area", "/areas/01"),
    PageCase("login", "/login"),
    PageCase("dashboard", "/dashboard", signed_in=True),
    PageCase("api-reference", "/api/v1/docs", has_site_header=False),
    PageCase("not-found", "/this-page-does-not-exist", status=404),
]


def _ids(case: PageCase) -> str:
    return case.name


@pytest.fixture(params=PAGES, ids=_ids)
def case(request: pytest.FixtureRequest) -> PageCase:
    param: PageCase = request.param
    return param


@pytest.fixture
def path(case: PageCase, first_process_id: str | None) -> str:
    if "{process_id}" in case.path:
        if first_process_id is None:
            pytest.fail("no demo process found (GET /api/v1/processes, links on /)")
        return case.path.format(process_id=first_process_id)
    return case.path


@pytest.fixture
def open_page(
    case: PageCase,
    path: str,
    new_context: ContextFactory,
    request: pytest.FixtureRequest,
) -> Callable[..., Page]:
    """`page = open_page(viewport=…, java_script_enabled=…)`: the case's page, loaded and
    checked to answer with the expected status."""

    def opener(**options: Any) -> Page:
        if case.signed_in:
            options["storage_state"] = request.getfixturevalue("signed_in_state")
        page = new_context(**options).new_page()
        response = page.goto(path)
        assert response is not None, path
        assert response.status == case.status, (
            f"{path} answered {response.status}, expected {case.status}"
            + (" (has the feature landed?)" if response.status == 404 else "")
        )
        return page

    return opener


@pytest.mark.parametrize(
    ("viewport", "locale"),
    [(DESKTOP, "de-DE"), (PHONE, "de-DE"), (PHONE, "en-GB")],
    ids=["desktop-de", "phone-de", "phone-en"],
)
def test_page_has_no_axe_violations(
    open_page: Callable[..., Page], path: str, viewport: dict[str, int], locale: str
) -> None:
    page = open_page(viewport=viewport, locale=locale)
    violations = axe_violations(page)
    assert not violations, (
        f"{path} at {viewport['width']} px in {locale}: {len(violations)} axe violation(s)\n"
        + describe_violations(violations)
    )
    if (
        viewport is PHONE
        and locale == "de-DE"
        and (shots := os.environ.get("QUARTIER_SCREENSHOTS"))
    ):
        name = path.strip("/").replace("/", "_") or "home"
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{name}-360.png"), full_page=True)


_OVERFLOWING = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (node === document.body || node === document.documentElement) return false;
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    if (rect.right <= width + 1 && rect.left >= -1 && rect.width <= width + 1) continue;
    if (scrolls(el)) continue;
    const style = getComputedStyle(el);
    if (style.position === "absolute" && (rect.width <= 1 || rect.bottom <= 0)) continue;
    const classes = typeof el.className === "string" ? el.className.trim() : "";
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (classes ? "." + classes.split(/\\s+/).join(".") : "");
    found.push(`${name} [${Math.round(rect.left)}..${Math.round(rect.right)}]`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, found: found.slice(0, 15)};
}
"""


def test_nothing_overflows_at_320_px(open_page: Callable[..., Page], path: str) -> None:
    page = open_page(viewport=NARROW)
    result = page.evaluate(_OVERFLOWING)
    assert result["scrollWidth"] <= NARROW["width"], (
        f"{path}: the page is {result['scrollWidth']} px wide at 320 px; too wide: "
        + ", ".join(result["found"])
    )
    assert not result["found"], f"{path}: elements wider than the viewport: {result['found']}"


def test_page_works_without_javascript(
    open_page: Callable[..., Page], path: str, case: PageCase, live_server: LiveServer
) -> None:
    page = open_page(viewport=PHONE, java_script_enabled=False)
    expect(page.locator("main h1").first, f"{path}: no visible <h1> in <main>").to_be_visible()
    if not case.has_site_header:
        return
    assert page.get_attribute("html", "lang") == "de"

    page.locator(".language-switch a[hreflang=en]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en", f"{path}: language switch had no effect"
    assert page.url.removeprefix(live_server.url) == path, "the switch did not come back"
    current = page.locator(".language-switch a[aria-current]")
    assert current.get_attribute("hreflang") == "en"

    page.locator(".language-switch a[hreflang=de]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "de"

    for link in page.locator(".site-nav a").all():
        href = link.get_attribute("href")
        assert href is not None
        response = page.request.get(href, headers={"Accept": "text/html"})
        assert response.status == 200, f"{path}: navigation link {href} answered {response.status}"


def test_skip_link_is_first_tab_stop_and_moves_focus_to_main(
    open_page: Callable[..., Page], path: str, case: PageCase
) -> None:
    page = open_page(viewport=DESKTOP)
    page.keyboard.press("Tab")
    if not case.has_site_header:
        focused_in_main = page.evaluate(
            "() => document.activeElement === document.body"
            " || !!document.activeElement.closest('main')"
        )
        assert focused_in_main, f"{path}: the first Tab stop is outside <main>"
        return
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className,"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"cls": "skip-link", "href": "#main"}, f"{path}: first Tab stop {focused}"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["y"] >= 0, f"{path}: the focused skip link is off screen ({box})"
    assert box["height"] >= 44, f"{path}: the skip link is a small touch target ({box})"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main", (
        f"{path}: the skip link did not move focus to <main>"
    )
