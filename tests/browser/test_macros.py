"""The shared macros (macros/forms.html, macros/components.html) render accessible HTML: every
macro on one page, with and without errors, checked by axe-core and at 320 px, and every link of
the error summary reaches its field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader
from playwright.sync_api import BrowserContext

from quartier.core import i18n
from quartier.core.templating import configure_template_engine
from tests.browser.conftest import LiveServer, axe_violations, describe_violations

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]

MACROS_PAGE = "macros_page.html"  # next to this file

ERRORS = {
    "name": "Enter your name",
    "postcode": "Enter a postcode like 10115",
    "idea": "Your idea is too long",
    "district": "Choose a district",
    "contact": "Say whether we may contact you",
    "needs": "Choose at least one need",
}


class _Engine:
    """What configure_template_engine expects from Litestar's Jinja engine."""

    def __init__(self) -> None:
        templates = [i18n.LOCALES_DIR.parent / "templates", Path(__file__).parent]
        self.engine = Environment(loader=FileSystemLoader(templates))


def _render(errors: dict[str, str]) -> str:
    engine = _Engine()
    configure_template_engine(engine)
    token = i18n.set_language("en")
    try:
        template = engine.engine.get_template(MACROS_PAGE)
        bands = ["under 6", "6 to 15", "15 to 18", "18 to 27", "27 to 45", "45 to 55", "55+"]
        return template.render(errors=errors, name="Paula", bands=bands)
    finally:
        i18n._current.reset(token)


@pytest.mark.parametrize("errors", [{}, ERRORS], ids=["valid", "with-errors"])
@pytest.mark.parametrize("width", [1280, 320])
def test_macros_render_accessible_html(
    new_context: ContextFactory, live_server: LiveServer, errors: dict[str, str], width: int
) -> None:
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto("/static/css/quartier.css")  # an origin for the stylesheet link
    page.set_content(_render(errors))
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    overflow: Any = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width, f"the page is {overflow} px wide at {width} px"


def test_error_summary_links_reach_every_field(new_context: ContextFactory) -> None:
    page = new_context().new_page()
    page.goto("/static/css/quartier.css")
    page.set_content(_render(ERRORS))
    links = page.locator(".error-summary a").all()
    assert len(links) == len(ERRORS)
    for link in links:
        target = (link.get_attribute("href") or "").removeprefix("#")
        field = page.locator(f"[id='{target}']")
        assert field.count() == 1, f"the error summary links to #{target}, which is missing"
        assert field.evaluate("el => ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)")
        described_by = field.get_attribute("aria-describedby") or ""
        fieldset = field.locator("xpath=ancestor::fieldset")
        if fieldset.count():
            described_by += " " + (fieldset.get_attribute("aria-describedby") or "")
        assert f"{target}-error" in described_by.split(), f"#{target} is not described by its error"
